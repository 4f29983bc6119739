"""The selection: what the command language (and API calls) chose, and where each choice came from.

A ``Selection`` is an immutable value: one ``Setting`` (value *with* origin)
per name in ``SETTINGS``. Every change produces a new one, so resolution is a
pure fold over commands, and ``seamless-config show`` prints the very values
and origins resolution used. The rules mirror the reference exactly,
including which choices survive a reload: values set by a *command* are
cleared before the files are read again, values set by an *API call*
("manual") are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

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

    def as_json(self) -> dict[str, Any]:
        loc = self.location
        return {
            "kind": self.kind,
            "file": loc.path if loc else None,
            "line": loc.line if loc else None,
            "column": loc.column if loc else None,
            "stage_block": self.stage_block,
            "inherited_from": self.inherited_from,
            "detail": self.detail,
        }


API = Origin("api")
DEFAULT = Origin("default")


@dataclass(frozen=True)
class Setting:
    """One setting's value, where it came from, and how a reload treats it.

    ``source`` is ``"command"`` (a file command, or an API call that asked to be
    treated as one: cleared before the files are read again), ``"manual"`` (an
    API call: kept across reloads) or ``None`` (never chosen: the default).
    ``command_seen`` records that a command chose this setting since the last
    reload (the reference's ``*_command_seen`` flags). ``for_cluster`` is the
    cluster a queue was chosen on.
    """

    value: Any = None
    origin: Origin = DEFAULT
    source: Source | None = None
    command_seen: bool = False
    for_cluster: str | None = None

    @property
    def explicit(self) -> bool:
        return self.source is not None


# Every setting, with its default value. The order is the order ``show`` prints.
DEFAULTS: Mapping[str, Any] = MappingProxyType({
    "project": None,
    "subproject": None,
    "stage": None,
    "substage": None,
    "cluster": None,
    "queue": None,
    "execution": "process",
    "remote": None,
    "persistent": None,
    "record": False,
    "node": None,
    "nparallel": None,
})
SETTINGS: tuple[str, ...] = tuple(DEFAULTS)
# Settings whose command-set value is cleared before a reload (the others are simply overwritten).
_RELOADABLE = ("execution", "queue", "remote", "persistent", "record", "node")


def _default_settings() -> Mapping[str, Setting]:
    return MappingProxyType({name: Setting(value) for name, value in DEFAULTS.items()})


@dataclass(frozen=True)
class Selection:
    """Everything the configuration selects; a value of ``None`` means "not chosen"."""

    settings: Mapping[str, Setting] = field(default_factory=_default_settings)

    def __getitem__(self, name: str) -> Setting:
        return self.settings[name]

    def set(self, name: str, value: Any, origin: Origin, source: Source | None = None,
            for_cluster: str | None = None) -> Selection:
        """A copy in which *name* is *value*, chosen at *origin*."""
        old = self.settings[name]
        new = Setting(value, origin, source, old.command_seen or source == "command", for_cluster)
        return Selection(MappingProxyType({**self.settings, name: new}))

    def unset(self, name: str, *, keep_seen: bool = True) -> Selection:
        """A copy in which *name* is back to its default."""
        seen = self.settings[name].command_seen and keep_seen
        return Selection(MappingProxyType({**self.settings, name: Setting(DEFAULTS[name], command_seen=seen)}))

    def before_reload(self) -> Selection:
        """Clear what commands set, keep what API calls set (the reference's reset rules)."""
        settings = dict(self.settings)
        for name in SETTINGS:
            setting = settings[name]
            if name in _RELOADABLE and setting.source == "command":
                settings[name] = Setting(DEFAULTS[name])
            elif setting.command_seen:
                settings[name] = replace(setting, command_seen=False)
        return Selection(MappingProxyType(settings))

    def origin(self, name: str) -> Origin:
        return self.settings[name].origin

    # Plain values (the reference's get_* semantics)

    @property
    def cluster(self) -> str | None:
        value: str | None = self.settings["cluster"].value
        return value

    @property
    def project(self) -> str | None:
        value: str | None = self.settings["project"].value
        return value

    @property
    def subproject(self) -> str | None:
        value: str | None = self.settings["subproject"].value
        return value

    @property
    def stage(self) -> str | None:
        value: str | None = self.settings["stage"].value
        return value

    @property
    def substage(self) -> str | None:
        value: str | None = self.settings["substage"].value
        return value

    @property
    def execution(self) -> str:
        value: str = self.settings["execution"].value
        return value

    @property
    def queue(self) -> str | None:
        value: str | None = self.settings["queue"].value
        return value

    @property
    def queue_cluster(self) -> str | None:
        return self.settings["queue"].for_cluster

    @property
    def remote(self) -> str | None:
        value: str | None = self.settings["remote"].value
        return value

    @property
    def persistent(self) -> bool | None:
        value: bool | None = self.settings["persistent"].value
        return value

    @property
    def record(self) -> bool:
        return bool(self.settings["record"].value)

    @property
    def node(self) -> str | None:
        value: str | None = self.settings["node"].value
        return value

    @property
    def nparallel(self) -> int | None:
        value: int | None = self.settings["nparallel"].value
        return value

    # Derived values

    @property
    def effective_execution(self) -> str:
        if not self.settings["execution"].explicit and self.cluster is not None:
            return "remote"
        return self.execution

    def effective_persistent(self, cluster: str | None = None) -> bool:
        if self.persistent is not None:
            return self.persistent
        return bool(cluster if cluster is not None else self.cluster)
