"""The selection: what the command language (and API calls) chose, and where each choice came from.

A ``Selection`` is an immutable value. Every change produces a new one
(``dataclasses.replace``), so resolution is a pure fold over commands. The
rules mirror the reference exactly, including which choices survive a reload:
values set by a *command* are cleared before the files are read again, values
set by an *API call* ("manual") are kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from ..errors import Location

EXECUTION_MODES: tuple[str, ...] = ("process", "spawn", "remote")
REMOTE_TARGETS: tuple[str, ...] = ("daskserver", "jobserver")
PROJECT_TOPLEVEL = "__TOPLEVEL__"

SourceKind = Literal["file", "api", "env", "default"]
Source = Literal["command", "manual"]


@dataclass(frozen=True)
class Origin:
    """Where a setting came from, for ``seamless-config show`` and error messages."""

    kind: SourceKind
    location: Location | None = None
    stage_block: str | None = None
    inherited_from: str | None = None  # the parent directory, for inherit_from_parent
    detail: str | None = None  # e.g. the API function or environment variable

    def __str__(self) -> str:
        if self.kind == "file":
            text = str(self.location)
            if self.stage_block:
                text += f" (in 'stage {self.stage_block}')"
            if self.inherited_from:
                text += f" (inherited from {self.inherited_from})"
            return text
        if self.kind == "api":
            return f"API call {self.detail}" if self.detail else "API call"
        if self.kind == "env":
            return f"environment variable {self.detail}"
        return "default"


API = Origin("api")


@dataclass(frozen=True)
class Selection:
    """Everything the configuration selects. ``None`` means "not chosen"."""

    cluster: str | None = None
    project: str | None = None
    subproject: str | None = None
    stage: str | None = None
    substage: str | None = None
    execution: str = "process"
    execution_source: Source | None = None
    execution_command_seen: bool = False
    queue: str | None = None
    queue_source: Source | None = None
    queue_cluster: str | None = None
    remote: str | None = None
    remote_source: Source | None = None
    persistent: bool | None = None
    persistent_source: Source | None = None
    persistent_command_seen: bool = False
    record: bool = False
    record_source: Source | None = None
    node: str | None = None
    node_source: Source | None = None
    nparallel: int | None = None
    origins: Mapping[str, Origin] = field(default_factory=lambda: MappingProxyType({}))

    def with_(self, origin: Origin | None = None, **changes: object) -> Selection:
        """A copy with *changes*; the changed public fields remember *origin*."""
        if origin is not None:
            origins = dict(self.origins)
            for name in changes:
                if not name.endswith(("_source", "_seen", "_cluster")):
                    origins[name] = origin
            changes["origins"] = MappingProxyType(origins)
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def before_reload(self) -> Selection:
        """Clear what commands set, keep what API calls set (the reference's reset rules)."""
        changes: dict[str, object] = {"execution_command_seen": False, "persistent_command_seen": False}
        if self.execution_source == "command":
            changes.update(execution="process", execution_source=None)
        if self.queue_source == "command":
            changes.update(queue=None, queue_source=None, queue_cluster=None)
        if self.remote_source == "command":
            changes.update(remote=None, remote_source=None)
        if self.persistent_source == "command":
            changes.update(persistent=None, persistent_source=None)
        if self.record_source == "command":
            changes.update(record=False, record_source=None)
        if self.node_source == "command":
            changes.update(node=None, node_source=None)
        origins = {k: v for k, v in self.origins.items() if k not in changes}
        changes["origins"] = MappingProxyType(origins)
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    # Derived values (the reference's get_* semantics)

    @property
    def effective_execution(self) -> str:
        if self.execution_source is None and self.cluster is not None:
            return "remote"
        return self.execution

    def effective_persistent(self, cluster: str | None = None) -> bool:
        if self.persistent is not None:
            return self.persistent
        return bool(cluster if cluster is not None else self.cluster)
