"""Read YAML the way the reference did (PyYAML, YAML 1.1), but remember where each value stood.

Users' files were written for the reference, which parsed them with PyYAML's
``safe_load``: ``yes``/``no``/``on``/``off`` are booleans, ``1:00:00`` is the
integer 3600, ``1e3`` (no dot) is a *string*. ruamel.yaml composes the node
tree (with marks); the scalars are then typed here by YAML 1.1 rules so a file
means exactly what it meant before. Values are plain Python objects; a side
table maps each value's path to its file position for error messages.
"""

from __future__ import annotations

import base64
import datetime
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigFileError, Location

YamlPath = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"

# YAML 1.1 implicit types, as PyYAML's safe loader resolves them.
_BOOL = re.compile(r"yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF")
_NULL = re.compile(r"~|null|Null|NULL|")
_INT = re.compile(
    r"[-+]?0b[0-1_]+"
    r"|[-+]?0[0-7_]+"
    r"|[-+]?(?:0|[1-9][0-9_]*)"
    r"|[-+]?0x[0-9a-fA-F_]+"
    r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"
)
_SEXAGESIMAL = re.compile(r"[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+")
_FLOAT = re.compile(
    r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?"
    r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
    r"|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN)"
)
# A date alone needs two-digit month and day (2001-01-04); with a time, one digit will do.
_TIMESTAMP = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"|(?P<year_>[0-9]{4})-(?P<month_>[0-9]{1,2})-(?P<day_>[0-9]{1,2})"
    r"(?:[Tt]|[ \t]+)(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]*))?"
    r"(?:[ \t]*(?P<tz>Z|(?P<tz_sign>[-+])(?P<tz_hour>[0-9]{1,2})(?::(?P<tz_minute>[0-9]{2}))?))?"
)


class SexagesimalInt(int):
    """An integer written as ``1:00:00``: YAML 1.1 reads it as 3600.

    Kept as a subtype so that fields holding durations can tell the user to
    quote the value instead of silently meaning 3600.
    """

    text: str

    def __new__(cls, value: int, text: str) -> SexagesimalInt:
        obj = super().__new__(cls, value)
        obj.text = text
        return obj


@dataclass(frozen=True)
class YamlDocument:
    """A loaded YAML file: plain values plus where each one stood."""

    path: Path
    data: Any
    positions: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, ypath: YamlPath) -> Location:
        """The position of the value at *ypath*, or of its nearest parent."""
        while True:
            pos = self.positions.get(ypath)
            if pos is not None:
                return Location(str(self.path), pos[0], pos[1])
            if not ypath:
                return Location(str(self.path))
            ypath = ypath[:-1]


def _int_value(text: str) -> int:
    text = text.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    if text[:1] in "+-":
        text = text[1:]
    if text == "0":
        return 0
    if text.startswith("0b"):
        return sign * int(text[2:], 2)
    if text.startswith("0x"):
        return sign * int(text[2:], 16)
    if text.startswith("0"):
        return sign * int(text, 8)
    if ":" in text:
        total = 0
        for part in text.split(":"):
            total = total * 60 + int(part)
        return sign * total
    return sign * int(text)


def _float_value(text: str) -> float:
    text = text.replace("_", "").lower()
    sign = -1.0 if text.startswith("-") else 1.0
    if text[:1] in "+-":
        text = text[1:]
    if text == ".inf":
        return sign * math.inf
    if text == ".nan":
        return math.nan
    if ":" in text:
        total = 0.0
        for part in text.split(":"):
            total = total * 60 + float(part)
        return sign * total
    return sign * float(text)


def _timestamp_value(match: re.Match[str]) -> datetime.date | datetime.datetime:
    if match.group("hour") is None:
        year, month, day = (int(match.group(g)) for g in ("year", "month", "day"))
        return datetime.date(year, month, day)
    year, month, day = (int(match.group(g)) for g in ("year_", "month_", "day_"))
    fraction = (match.group("fraction") or "")[:6].ljust(6, "0")
    tzinfo: datetime.tzinfo | None = None
    if match.group("tz_sign"):
        delta = datetime.timedelta(
            hours=int(match.group("tz_hour")), minutes=int(match.group("tz_minute") or 0)
        )
        if match.group("tz_sign") == "-":
            delta = -delta
        tzinfo = datetime.timezone(delta)
    elif match.group("tz"):
        tzinfo = datetime.timezone.utc
    return datetime.datetime(
        year,
        month,
        day,
        int(match.group("hour")),
        int(match.group("minute")),
        int(match.group("second")),
        int(fraction),
        tzinfo=tzinfo,
    )


def _plain_scalar(text: str) -> Any:
    if _NULL.fullmatch(text):
        return None
    if _BOOL.fullmatch(text):
        return text.lower() in ("yes", "true", "on")
    if _INT.fullmatch(text):
        value = _int_value(text)
        if _SEXAGESIMAL.fullmatch(text):
            return SexagesimalInt(value, text)
        return value
    if _FLOAT.fullmatch(text):
        return _float_value(text)
    match = _TIMESTAMP.fullmatch(text)
    if match:
        return _timestamp_value(match)
    return text


def _tagged_scalar(tag: str, text: str, location: Location) -> Any:
    short = tag[len(_TAG) :] if tag.startswith(_TAG) else tag
    if short == "str":
        return text
    if short == "binary":
        return base64.b64decode(text)
    value = _plain_scalar(text)
    types: dict[str, type | tuple[type, ...]] = {
        "int": int,
        "float": (int, float),
        "bool": bool,
        "null": type(None),
        "timestamp": (datetime.date, datetime.datetime),
    }
    expected = types.get(short)
    if expected is None:
        raise ConfigFileError(
            f"unsupported YAML tag '{tag}'; remove the tag or quote the value", location
        )
    if short == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, expected) or (short == "int" and isinstance(value, bool)):
        raise ConfigFileError(f"'{text}' is not a valid {short}", location)
    return value


class _Builder:
    """Turns a composed ruamel node tree into plain values and a position table."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.positions: dict[YamlPath, tuple[int, int]] = {}
        self._active: set[int] = set()

    def location(self, node: Any) -> Location:
        mark = node.start_mark
        return Location(str(self.path), mark.line + 1, mark.column + 1)

    def build(self, node: Any, ypath: YamlPath) -> Any:
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

        mark = node.start_mark
        self.positions.setdefault(ypath, (mark.line + 1, mark.column + 1))
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if id(node) in self._active:
            raise ConfigFileError("recursive YAML alias; remove it", self.location(node))
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, ypath + (i,)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, ypath)
        finally:
            self._active.discard(id(node))
        raise ConfigFileError("unsupported YAML node", self.location(node))

    def _explicit_tag(self, node: Any) -> str | None:
        """The tag written in the file before this scalar (``!!str``), if any."""
        mark = node.start_mark
        if mark.line >= len(self.lines):
            return None
        head = self.lines[mark.line][mark.column :]
        head = re.sub(r"^&\S+\s+", "", head)
        if not head.startswith("!"):
            return None
        return str(node.tag)

    def _scalar(self, node: Any) -> Any:
        text: str = node.value
        if node.style == ">":
            # ruamel's round-trip scanner marks each fold of a '>' block with '\a'.
            text = text.replace("\a", "")
        tag = self._explicit_tag(node)
        if tag is not None:
            if not tag.startswith(_TAG):
                raise ConfigFileError(
                    f"unsupported YAML tag '{tag}'; remove the tag or quote the value",
                    self.location(node),
                )
            return _tagged_scalar(tag, text, self.location(node))
        if node.style in (None, ""):
            return _plain_scalar(text)
        return text

    def _mapping(self, node: Any, ypath: YamlPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == "<<" and key_node.style in (None, ""):
                merged.update(self._merge_source(value_node, ypath))
                continue
            key = self.build(key_node, ypath + ("<key>",))
            try:
                hash(key)
            except TypeError:
                raise ConfigFileError(
                    "a mapping key must be a plain value", self.location(key_node)
                ) from None
            child: YamlPath = ypath + (key,) if isinstance(key, (str, int)) else ypath
            mark = key_node.start_mark
            self.positions[child] = (mark.line + 1, mark.column + 1)
            result[key] = self.build(value_node, child)
        self.positions.pop(ypath + ("<key>",), None)
        if merged:
            merged.update(result)
            return merged
        return result

    def _merge_source(self, node: Any, ypath: YamlPath) -> dict[Any, Any]:
        value = self.build(node, ypath + ("<<",))
        sources = value if isinstance(value, list) else [value]
        merged: dict[Any, Any] = {}
        for source in reversed(sources):
            if not isinstance(source, dict):
                raise ConfigFileError(
                    "a '<<' merge key needs a mapping (or a list of mappings)",
                    self.location(node),
                )
            merged.update(source)
        return merged


def parse_yaml(text: str, path: Path) -> YamlDocument:
    """Parse *text* (the content of *path*) with YAML 1.1 scalar rules."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt", pure=True)
    try:
        node = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = (
            Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))
        )
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigFileError(
            f"malformed YAML: {problem}. Check indentation, colons and quoting near here.",
            location,
        ) from None
    except YAMLError as exc:
        raise ConfigFileError(f"malformed YAML: {exc}", Location(str(path))) from None
    if node is None:
        return YamlDocument(path, None, {})
    builder = _Builder(path, text)
    data = builder.build(node, ())
    return YamlDocument(path, data, builder.positions)


def load_yaml_file(path: Path) -> YamlDocument:
    """Read and parse a YAML file; unreadable or non-UTF-8 files are configuration errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(
            f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", Location(str(path))
        ) from None
    except OSError as exc:
        raise ConfigFileError(f"cannot read file: {exc.strerror}", Location(str(path))) from None
    return parse_yaml(text, path)


@dataclass(frozen=True)
class Here:
    """A cursor into a loaded document: where a value stands, for error messages.

    ``Here(None)`` stands for values that did not come from a file (API calls).
    """

    doc: YamlDocument | None
    ypath: YamlPath = ()

    def at(self, *keys: str | int) -> Here:
        return Here(self.doc, self.ypath + keys)

    @property
    def location(self) -> Location | None:
        return self.doc.locate(self.ypath) if self.doc is not None else None
