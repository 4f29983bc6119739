"""The one mutable object: the process's configuration state.

The ecosystem calls module-level functions (``select_execution``,
``load_config_files``, ...) that the reference implemented with module
globals. Here they all delegate to a single ``ConfigState`` (``STATE``),
which holds immutable values and swaps them under a lock. Resolution itself
is the pure ``core`` package; this object only remembers its results.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .core.clusters import ClusterSource, build_registry
from .core.discovery import cluster_files, discover_config_files, load_cluster_file
from .core.model import ClusterRegistry
from .core.resolve import resolve, resolve_seamless_cache
from .core.resolved import ResolvedConfig
from .core.selection import Selection
from .environment import seamless_cache_dir


def home_dir() -> str:
    return os.environ.get("HOME") or str(Path.home())


@dataclass
class ConfigState:
    """Selection, clusters and lifecycle flags of this process (thread-safe)."""

    selection: Selection = field(default_factory=Selection)
    registry: ClusterRegistry = field(default_factory=ClusterRegistry)
    cluster_sources: dict[str, ClusterSource] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    workdir: str | None = None
    workdir_set: bool = False
    initialized: bool = False
    remote_clients_set: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def get_workdir(self) -> str:
        return self.workdir if self.workdir is not None else os.getcwd()

    def set_workdir(self, workdir: str | None) -> None:
        with self.lock:
            if self.remote_clients_set:
                from .errors import UsageError

                raise UsageError(
                    "remote clients are already set; the workdir can no longer change: "
                    "call set_workdir() before set_remote_clients()"
                )
            self.workdir = None if workdir is None else os.path.abspath(os.fspath(workdir))
            self.workdir_set = True

    def update(self, change: Callable[[Selection], Selection]) -> None:
        """Apply one selection change (an API call) atomically."""
        with self.lock:
            self.selection = change(self.selection)

    def load_files(self) -> None:
        """Read the configuration files again and re-apply their commands (``load_config_files``)."""
        with self.lock:
            cache = seamless_cache_dir()
            if cache is not None:
                result = resolve_seamless_cache(cache, self.selection)
                self.files = ()
            else:
                files = discover_config_files(self.get_workdir())
                docs = [load_cluster_file(p) for p in cluster_files(home_dir())]
                result = resolve(files, docs, self.selection, self.registry.local_cluster)
                self.files = tuple(p.path for p in files) + tuple(d.path for d in docs)
            self.selection = result.selection
            self.registry = result.registry
            self.cluster_sources = result.cluster_sources

    def define_clusters(self, clusters: dict[str, Any]) -> None:
        """Replace the cluster registry with *clusters* (the reference's ``define_clusters``)."""
        from .core.yaml_io import Here

        with self.lock:
            sources = {name: ClusterSource(value, Here(None)) for name, value in clusters.items()}
            self.registry = build_registry(sources, self.registry.local_cluster)
            self.cluster_sources = sources

    def snapshot(self) -> ResolvedConfig:
        with self.lock:
            return ResolvedConfig(self.selection, self.registry)

    def reset(self) -> None:
        """Forget everything (tests; a fresh process in all but name)."""
        with self.lock:
            self.selection = Selection()
            self.registry = ClusterRegistry()
            self.cluster_sources = {}
            self.files = ()
            self.workdir = None
            self.workdir_set = False
            self.initialized = False
            self.remote_clients_set = False


STATE = ConfigState()

__all__ = ["ConfigState", "STATE", "seamless_cache_dir"]
