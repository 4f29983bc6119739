"""Read YAML the way the reference did (PyYAML, YAML 1.1), but remember where each value stood.

Users' files were written for the reference, which parsed them with PyYAML's
``safe_load``: ``yes``/``no``/``on``/``off`` are booleans, ``1:00:00`` is the
integer 3600, ``1e3`` (no dot) is a *string*. ruamel.yaml composes the node
tree (with marks); the scalars are then typed here by YAML 1.1 rules so a file
means exactly what it meant before. Values are plain Python objects; a side
table maps each value's path to its file position for error messages.

Every read is bounded (see ``docs/security.md``): a file larger than
``SEAMLESS_CONFIG_MAX_FILE_SIZE`` bytes (default 2 MiB) is refused before it
is parsed, nesting deeper than ``MAX_DEPTH`` levels is refused while the node
tree is composed (never a ``RecursionError``), and alias expansion stops at
``MAX_VALUES`` values ("billion laughs"). Parsing is linear in the input: the
safe scanner skips comments in one pass (the round-trip scanner builds each
comment one character at a time, which turns quadratic once the allocator has
to copy). Control characters and non-UTF-8 bytes are reported at line:column,
an unclosed quote or bracket where it opens, a duplicate key where it repeats.
"""

from __future__ import annotations

import base64
import datetime
import functools
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigFileError, Location

if TYPE_CHECKING:
    from ruamel.yaml.composer import Composer

YamlPath = tuple[str | int, ...]

SIZE_ENV = "SEAMLESS_CONFIG_MAX_FILE_SIZE"
DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024
# Configuration files are a few levels deep; 64 leaves room and keeps the recursion shallow.
MAX_DEPTH = 64
# Values in a file, and again after alias expansion: real files hold hundreds; a billion-laughs
# bomb or a 2 MiB flow list hits this within a second (ruamel composes ~50,000 nodes a second).
MAX_VALUES = 20_000
# What YAML may not hold (the characters ruamel's reader refuses, found here with their position).
_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "BS", 0x1B: "ESC", 0x7F: "DEL", 0x0B: "VT", 0x0C: "FF"}

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
    """Turns a composed ruamel node tree into plain values and a position table.

    Aliases share nodes in the composed tree; here they are expanded, so the
    number of values built is counted (``MAX_VALUES``) and so is the depth.
    """

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.positions: dict[YamlPath, tuple[int, int]] = {}
        self._active: set[int] = set()
        self._count = 0

    def location(self, node: Any) -> Location:
        mark = node.start_mark
        return Location(str(self.path), mark.line + 1, mark.column + 1)

    def build(self, node: Any, ypath: YamlPath, depth: int = 0) -> Any:
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

        self._count += 1
        if self._count > MAX_VALUES:
            raise ConfigFileError(
                f"more than {MAX_VALUES:,} values once aliases (*name) are expanded; this fixed limit "
                "stops alias bombs. Write the values out, or use fewer nested aliases",
                self.location(node),
            )
        if depth >= MAX_DEPTH:
            raise ConfigFileError(
                f"nested deeper than {MAX_DEPTH} levels once aliases (*name) are expanded "
                "(a fixed limit); flatten the structure",
                self.location(node),
            )
        mark = node.start_mark
        self.positions.setdefault(ypath, (mark.line + 1, mark.column + 1))
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if id(node) in self._active:
            raise ConfigFileError("recursive YAML alias; remove it", self.location(node))
        if str(node.tag) not in (_TAG + "seq", _TAG + "map"):
            # '!!python/object/apply:...' and friends: PyYAML's safe loader refused them too.
            raise ConfigFileError(
                f"unsupported YAML tag '{node.tag}'; remove the tag", self.location(node)
            )
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, ypath + (i,), depth + 1) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, ypath, depth)
        finally:
            self._active.discard(id(node))
        raise ConfigFileError("unsupported YAML node", self.location(node))

    def _explicit_tag(self, node: Any) -> str | None:
        """The tag written in the file before this scalar (``!!str``), if any."""
        mark = node.start_mark
        if mark.line >= len(self.lines):
            return None
        # match() at the column: linear in what it reads, never a copy of the rest of the line.
        if not _TAG_AHEAD.match(self.lines[mark.line], mark.column):
            return None
        return str(node.tag)

    def _scalar(self, node: Any) -> Any:
        text: str = node.value
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

    def _mapping(self, node: Any, ypath: YamlPath, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        first_line: dict[tuple[type, Any], int] = {}  # by type too: 'yes' (True) is not the key 1
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == "<<" and key_node.style in (None, ""):
                merged.update(self._merge_source(value_node, ypath, depth))
                continue
            key = self.build(key_node, ypath + ("<key>",), depth + 1)
            try:
                hash(key)
            except TypeError:
                raise ConfigFileError(
                    "a mapping key must be a plain value", self.location(key_node)
                ) from None
            mark = key_node.start_mark
            seen = first_line.get((type(key), key))
            if seen is not None:
                raise ConfigFileError(
                    f"duplicate key {key!r} (first at line {seen}); "
                    "YAML keeps only one of them: remove or rename one",
                    self.location(key_node),
                )
            first_line[(type(key), key)] = mark.line + 1
            child: YamlPath = ypath + (key,) if isinstance(key, (str, int)) else ypath
            self.positions[child] = (mark.line + 1, mark.column + 1)
            result[key] = self.build(value_node, child, depth + 1)
        self.positions.pop(ypath + ("<key>",), None)
        if merged:
            merged.update(result)
            return merged
        return result

    def _merge_source(self, node: Any, ypath: YamlPath, depth: int) -> dict[Any, Any]:
        value = self.build(node, ypath + ("<<",), depth + 1)
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


_TAG_AHEAD = re.compile(r"(?:&[^\s]+[ \t]+)?!")


class _Limit(Exception):
    def __init__(self, what: str, mark: Any) -> None:
        super().__init__(what)
        self.what = what
        self.mark = mark


@functools.lru_cache(maxsize=1)
def _bounded_composer() -> type[Composer]:
    """ruamel's composer with a depth limit, checked before it recurses (no ``RecursionError``)."""
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.events import AliasEvent

    class BoundedComposer(Composer):
        _nesting = 0
        _nodes = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self._nodes += 1
            if self._nodes > MAX_VALUES:
                raise _Limit("values", self.parser.peek_event().start_mark)
            if self.parser.check_event(AliasEvent):
                return super().compose_node(parent, index)
            if self._nesting >= MAX_DEPTH:
                raise _Limit("depth", self.parser.peek_event().start_mark)
            self._nesting += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self._nesting -= 1

    return BoundedComposer


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character *index* of *text*."""
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def _check_characters(text: str, path: Path) -> None:
    match = _NON_PRINTABLE.search(text)
    if match is None:
        return
    code = ord(match.group())
    name = _CONTROL_NAMES.get(code, "a control character" if code < 0x20 or 0x7F <= code < 0xA0 else "a non-character")
    line, column = _position(text, match.start())
    raise ConfigFileError(
        f"character U+{code:04X} ({name}) is not allowed in YAML; remove it "
        "(a text editor may show it as ^@, ^G or nothing at all)",
        Location(str(path), line, column),
    )


_OPENERS = {
    "while scanning a quoted scalar": "this quoted string is never closed",
    "while parsing a flow sequence": "this '[' is never closed (or a ',' is missing)",
    "while parsing a flow mapping": "this '{' is never closed (or a ',' is missing)",
}


def _open_bracket_at(yaml: Any, text: str, index: int) -> tuple[str, Any] | None:
    """The innermost flow collection still open at character *index* of *text*: (its _OPENERS key, its mark)."""
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.tokens import (FlowMappingEndToken, FlowMappingStartToken, FlowSequenceEndToken,
                                    FlowSequenceStartToken)

    stack: list[tuple[str, Any]] = []
    try:
        for token in yaml.scan(text):
            if token.start_mark.index >= index:
                break
            if isinstance(token, FlowSequenceStartToken):
                stack.append(("while parsing a flow sequence", token.start_mark))
            elif isinstance(token, FlowMappingStartToken):
                stack.append(("while parsing a flow mapping", token.start_mark))
            elif isinstance(token, (FlowSequenceEndToken, FlowMappingEndToken)) and stack:
                stack.pop()
    except YAMLError:
        pass
    return stack[-1] if stack else None


def parse_yaml(text: str, path: Path) -> YamlDocument:
    """Parse *text* (the content of *path*) with YAML 1.1 scalar rules, within the limits above."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    _check_characters(text, path)
    yaml = YAML(typ="safe", pure=True)
    yaml.Composer = _bounded_composer()
    try:
        node = yaml.compose(text)
    except _Limit as exc:
        where = Location(str(path), exc.mark.line + 1, exc.mark.column + 1)
        if exc.what == "depth":
            raise ConfigFileError(
                f"nested deeper than {MAX_DEPTH} levels (a fixed limit: configuration files need a few); "
                "flatten the structure",
                where,
            ) from None
        raise ConfigFileError(
            f"more than {MAX_VALUES:,} values (a fixed limit: configuration files hold a few hundred); "
            "split the file or remove generated content",
            where,
        ) from None
    except RecursionError:  # pragma: no cover - the depth limit comes first
        raise ConfigFileError("nested too deeply; flatten the structure", Location(str(path))) from None
    except MarkedYAMLError as exc:
        problem = exc.problem or exc.context or "invalid YAML"
        opener = _OPENERS.get(exc.context or "")
        mark = exc.problem_mark or exc.context_mark
        if opener is None and mark is not None:
            # Inside a '[' or '{' that a later line never closes, the parser may complain about that line
            # ('expected the node content, but found '-''): point at the bracket that is still open there.
            unclosed = _open_bracket_at(yaml, text, mark.index)
            if unclosed is not None:
                opener, exc.context_mark = _OPENERS[unclosed[0]], unclosed[1]
        if opener is not None and exc.context_mark is not None:
            stopped = f" (the parser stopped at line {mark.line + 1}: {problem})" if mark is not None else ""
            mark = exc.context_mark
            message = f"malformed YAML: {opener}{stopped}"
        else:
            message = f"malformed YAML: {problem}. Check indentation, colons and quoting near here."
        location = (
            Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))
        )
        raise ConfigFileError(message, location) from None
    except YAMLError as exc:
        raise ConfigFileError(f"malformed YAML: {exc}", Location(str(path))) from None
    if node is None:
        return YamlDocument(path, None, {})
    builder = _Builder(path, text)
    data = builder.build(node, ())
    return YamlDocument(path, data, builder.positions)


def max_file_size() -> int:
    """The size limit for one configuration file, in bytes (``$SEAMLESS_CONFIG_MAX_FILE_SIZE``)."""
    raw = os.environ.get(SIZE_ENV)
    if raw is None or raw.strip() == "":
        return DEFAULT_MAX_FILE_SIZE
    try:
        value = int(raw)
    except ValueError:
        raise ConfigFileError(
            f"{SIZE_ENV}={raw!r} is not a whole number of bytes; unset it or give e.g. {DEFAULT_MAX_FILE_SIZE}",
            Location(f"${SIZE_ENV}"),
        ) from None
    if value <= 0:
        raise ConfigFileError(f"{SIZE_ENV} must be a positive number of bytes, not {value}", Location(f"${SIZE_ENV}"))
    return value


def read_config_bytes(path: Path) -> bytes:
    """The bytes of *path*: a regular file no larger than ``max_file_size()``, read at most once.

    Opened without following a FIFO's writer (``O_NONBLOCK``) and checked with
    ``fstat`` on the open descriptor, so a device, FIFO or a file swapped in
    between the check and the read is never read without bound.
    """
    limit = max_file_size()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigFileError(f"cannot read file: {exc.strerror}", Location(str(path))) from None
    try:
        info = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise ConfigFileError(f"cannot read file: {exc.strerror}", Location(str(path))) from None
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a device, FIFO or socket)"
        raise ConfigFileError(f"{kind}; a configuration file must be a regular file", Location(str(path)))
    if info.st_size > limit:
        os.close(fd)
        raise _too_large(path, info.st_size, limit)
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise ConfigFileError(f"cannot read file: {exc.strerror}", Location(str(path))) from None
    if len(data) > limit:
        raise _too_large(path, len(data), limit)
    return data


def _too_large(path: Path, size: int, limit: int) -> ConfigFileError:
    return ConfigFileError(
        f"file is larger than the {limit:,}-byte limit for configuration files ({size:,} bytes or more); "
        f"if it really is one, raise the limit: export {SIZE_ENV}=<bytes>",
        Location(str(path)),
    )


def decode_config_bytes(data: bytes, path: Path) -> str:
    """UTF-8 text; a bad byte is reported at its line and column."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise ConfigFileError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02X}); save the file as UTF-8",
            Location(str(path), line, column),
        ) from None


def load_yaml_file(path: Path) -> YamlDocument:
    """Read and parse a YAML file; unreadable, oversized or non-UTF-8 files are configuration errors."""
    return parse_yaml(decode_config_bytes(read_config_bytes(path), path), path)


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
