"""Fold the commands into a selection and a cluster registry — the heart of configuration.

``resolve()`` is pure: it takes already-read files and returns new values.
Order, as users rely on it: cluster files from ``~/.seamless``; then every
``clusters`` command (wherever it stands); then all other commands in file
order, parents before children, ``seamless.yaml`` before
``seamless.profile.yaml``, active stage blocks in place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigFileError
from .clusters import LOCAL_CLUSTER_KEY, ClusterSource, build_registry
from .commands import PRIORITY_COMMANDS, Command, expand
from .discovery import ConfigFile
from .model import ClusterRegistry
from .rules import (
    choose_cluster,
    choose_execution,
    choose_node,
    choose_nparallel,
    choose_persistent,
    choose_project,
    choose_queue,
    choose_record,
    choose_remote,
    choose_subproject,
)
from .selection import PROJECT_TOPLEVEL, Origin, Selection
from .yaml_io import Here, YamlDocument

SEAMLESS_CACHE_CLUSTER = "__SEAMLESS_CACHE__"


@dataclass(frozen=True)
class Resolution:
    selection: Selection
    registry: ClusterRegistry
    cluster_sources: dict[str, ClusterSource]


Apply = Callable[[Selection, Any, Origin, ClusterRegistry], Selection]

_APPLY: dict[str, Apply] = {
    "project": lambda s, v, o, r: choose_project(s, _string(v, "project", o), o),
    "subproject": lambda s, v, o, r: choose_subproject(s, _string(v, "subproject", o), o),
    "cluster": lambda s, v, o, r: choose_cluster(s, v, o),
    "execution": lambda s, v, o, r: choose_execution(s, v, o, "command"),
    "queue": lambda s, v, o, r: choose_queue(s, v, r, o, "command"),
    "remote": lambda s, v, o, r: choose_remote(s, v, o, "command"),
    "persistent": lambda s, v, o, r: choose_persistent(s, v, o, "command"),
    "record": lambda s, v, o, r: choose_record(s, v, o, "command"),
    "node": lambda s, v, o, r: choose_node(s, v, o, "command"),
    "nparallel": lambda s, v, o, r: choose_nparallel(s, v, o),
}


def _string(value: Any, command: str, origin: Origin) -> str:
    if not isinstance(value, str):
        raise ConfigFileError(f"'{command}' expects a string, not {value!r}", origin.location)
    return value


def cluster_sources_from_files(docs: Sequence[YamlDocument]) -> dict[str, ClusterSource]:
    """Cluster definitions from the files in ``~/.seamless``; later files override earlier ones."""
    sources: dict[str, ClusterSource] = {}
    for doc in docs:
        for name, value in (doc.data or {}).items():
            sources[name] = ClusterSource(value, Here(doc, (name,)))
    return sources


def _inline_clusters(command: Command) -> dict[str, ClusterSource]:
    if not isinstance(command.argument, dict):
        raise ConfigFileError(
            "'clusters' expects a mapping of cluster names to definitions", command.origin.location
        )
    return {name: ClusterSource(value, command.here.at(name)) for name, value in command.argument.items()}


def resolve(
    files: Sequence[ConfigFile],
    cluster_docs: Sequence[YamlDocument],
    start: Selection,
    previous_local_cluster: str | None = None,
) -> Resolution:
    """Apply the project's files on top of *start* (whose stage decides which blocks apply)."""
    selection = start.before_reload()
    commands = [c for f in files for c in expand(f.entries, selection.stage)]
    sources = cluster_sources_from_files(cluster_docs)
    for command in commands:
        if command.name in PRIORITY_COMMANDS:
            sources.update(_inline_clusters(command))
    registry = build_registry(sources, previous_local_cluster)
    for command in commands:
        if command.name not in PRIORITY_COMMANDS:
            selection = _APPLY[command.name](selection, command.argument, command.origin, registry)
    return Resolution(selection, registry, sources)


def resolve_seamless_cache(cache_dir: str, start: Selection) -> Resolution:
    """``SEAMLESS_CACHE=<dir>``: quick persistent caching in *dir*, no files read."""
    origin = Origin("env", detail="SEAMLESS_CACHE")
    here = Here(None)
    synthetic = {
        "type": "local",
        "frontends": [{"hashserver": {"bufferdir": cache_dir}, "database": {"database_dir": cache_dir}}],
    }
    sources = {
        SEAMLESS_CACHE_CLUSTER: ClusterSource(synthetic, here),
        LOCAL_CLUSTER_KEY: ClusterSource(SEAMLESS_CACHE_CLUSTER, here),
    }
    registry = build_registry(sources)
    selection = choose_cluster(start.before_reload(), SEAMLESS_CACHE_CLUSTER, origin)
    if selection.project is None:
        selection = selection.set("project", PROJECT_TOPLEVEL, origin)
    selection = choose_execution(selection, "process", origin, "manual")
    selection = choose_persistent(selection, True, origin, "manual")
    return Resolution(selection, registry, sources)
