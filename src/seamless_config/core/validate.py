"""``seamless-config validate``: every problem of a project's files and the cluster files, at its line.

The same checks as loading (``init()`` raises the first of them), run to the
end: each file's YAML, its commands (in every stage block, active or not),
the cluster definitions (``~/.seamless`` and inline ``clusters`` commands),
and the command values in the context of each stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigFileError, ConfigurationError
from .clusters import ClusterSource, check_registry
from .commands import PRIORITY_COMMANDS, Command, Entry, StageBlock, expand, parse_file, wants_parent
from .discovery import CONFIG_FILENAMES, check_not_broken_link, cluster_files, load_cluster_file
from .fields import Diagnostics
from .hints import did_you_mean
from .model import ClusterRegistry
from .resolve import _APPLY, _inline_clusters, cluster_sources_from_files
from .selection import Selection
from .yaml_io import YamlDocument, load_yaml_file


@dataclass(frozen=True)
class Problem:
    file: str | None
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = self.file or "<no file>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class Report:
    files: tuple[str, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _problem(error: ConfigFileError) -> Problem:
    loc = error.location
    return Problem(loc.path if loc else None, loc.line if loc else None, loc.column if loc else None, error.reason)


def _load(path: Path, diags: Diagnostics, cluster_file: bool = False) -> YamlDocument | None:
    try:
        return load_cluster_file(path) if cluster_file else load_yaml_file(path)
    except ConfigFileError as error:
        diags.add(error)
        return None


def _stages(entries: Iterable[Entry]) -> set[str]:
    found: set[str] = set()
    for entry in entries:
        if isinstance(entry, StageBlock):
            found.add(entry.stage)
            found |= _stages(entry.entries)
    return found


def _all_commands(entries: Iterable[Entry]) -> list[Command]:
    result: list[Command] = []
    for entry in entries:
        if isinstance(entry, StageBlock):
            result.extend(_all_commands(entry.entries))
        else:
            result.append(entry)
    return result


def _project_chain(workdir: Path, diags: Diagnostics, read: list[str]) -> list[tuple[Entry, ...]]:
    """Each file's entries, parents first (as discovery orders them), every problem recorded."""
    directories: list[list[tuple[Entry, ...]]] = []
    current = workdir.resolve()
    depth = 0
    while True:
        inherited_from = str(current) if depth > 0 else None
        files: list[tuple[Entry, ...]] = []
        inherit = False
        for filename in CONFIG_FILENAMES:
            path = current / filename
            if not path.is_file():
                diags.guard(lambda: check_not_broken_link(path))
                continue
            read.append(str(path))
            doc = _load(path, diags)
            if doc is None:
                continue
            entries = diags.guard(lambda: parse_file(doc, inherited_from, diags), ())
            files.append(entries)
            inherit = inherit or wants_parent(entries)
        directories.append(files)
        if not inherit or current.parent == current:
            break
        current = current.parent
        depth += 1
    return [f for files in reversed(directories) for f in files]


def _fold(entries: Sequence[tuple[Entry, ...]], stage: str | None, registry: ClusterRegistry,
          defined: Sequence[str], diags: Diagnostics, applied: set[int]) -> None:
    selection = Selection().set("stage", stage, Selection()["stage"].origin)
    for command in (c for e in entries for c in expand(e, stage)):
        applied.add(id(command))
        if command.name in PRIORITY_COMMANDS:
            continue
        try:
            selection = _APPLY[command.name](selection, command.argument, command.origin, registry)
        except ConfigFileError as error:
            diags.add(error)
        except ConfigurationError as error:  # pragma: no cover - every command error carries a location
            diags.add(ConfigFileError(str(error), command.origin.location))
    name = selection.cluster
    if name is not None and name not in registry.clusters and name not in defined:
        hint = did_you_mean(name, defined) if defined else "; no clusters are defined"
        diags.add(ConfigFileError(
            f"cluster '{name}' is not defined{hint}. Define it in ~/.seamless/clusters.yaml "
            "or with a 'clusters:' command", selection.origin("cluster").location))


def _check_alone(command: Command, registry: ClusterRegistry, diags: Diagnostics) -> None:
    """A command's own value, without the context of the commands before it."""
    if command.name in PRIORITY_COMMANDS or command.name == "inherit_from_parent":
        return
    if command.name == "queue":
        if not isinstance(command.argument, str):
            diags.add(ConfigFileError(f"queue must be a string, not {command.argument!r}", command.origin.location))
        return
    try:
        _APPLY[command.name](Selection(), command.argument, command.origin, registry)
    except ConfigFileError as error:
        diags.add(error)


def validate(workdir: str | Path, home: str | Path, extra_cluster_files: Sequence[Path] = ()) -> Report:
    """All problems of the project at *workdir* and of the cluster files under *home*."""
    diags = Diagnostics()
    read: list[str] = []
    entries = _project_chain(Path(workdir), diags, read)
    docs: list[YamlDocument] = []
    paths = [*cluster_files_checked(home, diags), *extra_cluster_files]
    for path in paths:
        read.append(str(path))
        doc = _load(path, diags, cluster_file=True)
        if doc is not None:
            docs.append(doc)
    sources: dict[str, ClusterSource] = diags.guard(lambda: cluster_sources_from_files(docs), {})
    for command in _all_commands(c for e in entries for c in e):
        if command.name in PRIORITY_COMMANDS:
            sources.update(diags.guard(lambda: _inline_clusters(command), {}))
    registry = check_registry(sources, diags)
    applied: set[int] = set()
    for stage in [None, *sorted(_stages(c for e in entries for c in e))]:
        _fold(entries, stage, registry, [str(k) for k in sources if k != "local_cluster"], diags, applied)
    for command in _all_commands(c for e in entries for c in e):
        if id(command) not in applied:  # in a stage block nested in another: no stage reaches it
            _check_alone(command, registry, diags)
    problems = sorted(
        (_problem(p) for p in diags),
        key=lambda p: (p.file or "", p.line or 0, p.column or 0),
    )
    return Report(tuple(dict.fromkeys(read)), tuple(problems))


def project_stages(workdir: str | Path) -> list[str | None]:
    """No stage, then every stage a block of the project's chain names (the stages validate folds)."""
    entries = _project_chain(Path(workdir), Diagnostics(), [])
    return [None, *sorted(_stages(c for e in entries for c in e))]


def cluster_files_checked(home: str | Path, diags: Diagnostics) -> list[Path]:
    try:
        return cluster_files(home)
    except ConfigFileError as error:
        diags.add(error)
        base = Path(home) / ".seamless"
        return [p for p in [base / "clusters.yaml", *sorted((base / "clusters").glob("*.yaml"))] if p.is_file()]


def validate_file(path: Path, home: str | Path) -> Report:
    """One file: a project file (validated with its directory's chain) or a cluster file."""
    if path.is_dir():
        return validate(path, home)
    if path.name in CONFIG_FILENAMES:
        return validate(path.parent, home)
    return _cluster_only(path)


def _cluster_only(path: Path) -> Report:
    diags = Diagnostics()
    doc = _load(path, diags, cluster_file=True)
    if doc is not None:
        sources = diags.guard(lambda: cluster_sources_from_files([doc]), {})
        check_registry(sources, diags)
    problems = sorted((_problem(p) for p in diags), key=lambda p: (p.line or 0, p.column or 0))
    return Report((str(path),), tuple(problems))
