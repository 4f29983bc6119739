"""The command language: a YAML list of bare strings or single-key mappings.

``parse_file`` turns one file into a tree of ``Command`` and ``StageBlock``;
``expand`` flattens it for the current stage. Nothing is applied here (see
``resolve.py``), so both steps are pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Union

from ..errors import ConfigFileError
from .fields import Diagnostics
from .hints import did_you_mean
from .names import check_name
from .selection import Origin
from .yaml_io import Here, YamlDocument

INHERIT = "inherit_from_parent"
COMMANDS: tuple[str, ...] = (
    "project",
    "subproject",
    "cluster",
    "execution",
    "queue",
    "remote",
    "persistent",
    "clusters",
    "record",
    "node",
    "nparallel",
    INHERIT,
)
# Commands whose effect is applied before all others, whatever their position.
PRIORITY_COMMANDS = frozenset({"clusters"})
_STAGE_KEY = re.compile(r"stage\s+(?P<name>\S.*?)\s*")
EXAMPLE = "- project: my-project\n- cluster: local"


@dataclass(frozen=True)
class Command:
    name: str
    argument: Any
    origin: Origin
    here: Here  # where the argument stands (for errors inside e.g. 'clusters')


@dataclass(frozen=True)
class StageBlock:
    stage: str
    entries: tuple[Entry, ...]
    here: Here


Entry = Union[Command, StageBlock]


def _origin(here: Here, stage: str | None, inherited_from: str | None) -> Origin:
    return Origin("file", here.location, stage_block=stage, inherited_from=inherited_from)


def _parse_entries(
    items: Sequence[Any], here: Here, stage: str | None, inherited_from: str | None,
    diags: Diagnostics | None = None,
) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    for index, item in enumerate(items):
        ihere = here.at(index)
        try:
            entry = _parse_entry(item, ihere, stage, inherited_from, diags)
        except ConfigFileError as error:
            if diags is None:
                raise
            diags.add(error)
            continue
        entries.append(entry)
    return tuple(entries)


def _parse_entry(
    item: Any, ihere: Here, stage: str | None, inherited_from: str | None, diags: Diagnostics | None
) -> Entry:
    if isinstance(item, str):
        name, argument, ahere = item, None, ihere
    elif isinstance(item, dict) and len(item) == 1:
        name, argument = next(iter(item.items()))
        ahere = ihere.at(name) if isinstance(name, (str, int)) else ihere
        if not isinstance(name, str):
            raise ConfigFileError(f"command names must be strings, not {name!r}", ihere.location)
    else:
        raise ConfigFileError(
            "each command must be a string (like 'inherit_from_parent') or a mapping with one key "
            f"(like 'project: my-project'), not {_describe(item)}",
            ihere.location,
        )
    match = _STAGE_KEY.fullmatch(name)
    if match:
        stage_name = check_name("stage", match.group("name"), ihere.location)
        if not isinstance(argument, list):
            raise ConfigFileError(
                f"'stage {stage_name}:' must be followed by a YAML list of commands", ahere.location
            )
        nested = _parse_entries(argument, ahere, stage_name, inherited_from, diags)
        return StageBlock(stage_name, nested, ihere)
    if name not in COMMANDS:
        hint = did_you_mean(name, COMMANDS + ("stage <name>",))
        if name.startswith("stage"):
            hint = f" — write 'stage {name[5:].strip() or '<name>'}:' (with a space) for a stage block"
        raise ConfigFileError(f"unknown command '{name}'{hint}", ihere.location)
    return Command(name, argument, _origin(ahere, stage, inherited_from), ahere)


def _describe(item: Any) -> str:
    if isinstance(item, dict):
        return f"a mapping with {len(item)} keys" if item else "an empty mapping"
    return f"{type(item).__name__} {item!r}"


def parse_file(
    doc: YamlDocument, inherited_from: str | None = None, diags: Diagnostics | None = None
) -> tuple[Entry, ...]:
    """The entries of one configuration file; raises if it is not a list of commands.

    An empty or comment-only file means "no commands" (the reference refused it:
    an intended difference, for users who create the file before writing it).
    """
    if doc.data is None:
        return ()
    if not isinstance(doc.data, list):
        found = "an empty file" if doc.data is None else f"a {type(doc.data).__name__}"
        raise ConfigFileError(
            f"expected a YAML list of commands, found {found}. Example:\n{EXAMPLE}", doc.locate(())
        )
    return _parse_entries(doc.data, Here(doc), None, inherited_from, diags)


def wants_parent(entries: Iterable[Entry]) -> bool:
    """Does this file say ``inherit_from_parent`` (at top level)?"""
    return any(isinstance(e, Command) and e.name == INHERIT for e in entries)


def expand(entries: Iterable[Entry], stage: str | None) -> list[Command]:
    """The commands that apply in *stage*, in order, stage blocks flattened."""
    result: list[Command] = []
    for entry in entries:
        if isinstance(entry, StageBlock):
            if stage is not None and entry.stage == stage:
                result.extend(expand(entry.entries, stage))
        elif entry.name != INHERIT:
            result.append(entry)
    return result
