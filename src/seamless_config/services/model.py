"""Values of the service API: what is asked (``ServiceQuery``) and what came back (frozen results)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SERVICES = ("hashserver", "database", "jobserver", "daskserver", "pure-daskserver")
STORAGE_SERVICES = ("hashserver", "database")
SEAMLESS_CACHE_PROJECT = "SEAMLESS_CACHE"


@dataclass(frozen=True)
class ServiceQuery:
    """Seamless-level arguments; None means "as the directory's configuration says" (as ``init()``)."""

    service: str | None = None
    cluster: str | None = None
    project: str | None = None
    subproject: str | None = None
    stage: str | None = None
    substage: str | None = None
    mode: str = "rw"
    queue: str | None = None
    frontend_name: str | None = None
    workdir: str | None = None  # the directory whose configuration applies (default: the current one)

    def with_service(self, service: str) -> ServiceQuery:
        from dataclasses import replace

        return replace(self, service=service)


@dataclass(frozen=True)
class ServiceTarget:
    """One service, resolved the way launching resolves it: its key and where it lives."""

    service: str
    key: str
    cluster: str
    ssh_hostname: str | None  # None: this machine
    workdir: str
    log_path: str
    meta: dict[str, Any] = field(hash=False)
    data_root: str | None = None  # bufferdir / database_dir of the frontend (storage services)
    tunnel: bool = False

    @property
    def host_label(self) -> str:
        return self.ssh_hostname or "localhost"

    def as_json(self) -> dict[str, Any]:
        """``seamless-service-resolve``'s object (the reference's keys)."""
        payload: dict[str, Any] = {
            "key": self.key, "ssh_hostname": self.ssh_hostname, "workdir": self.workdir, "log_path": self.log_path,
        }
        payload.update(self.meta)
        return payload


@dataclass(frozen=True)
class HostFailure:
    """A host (or cluster) that could not be asked; reported in its own row."""

    host: str
    message: str
    cluster: str | None = None


@dataclass(frozen=True)
class PsRow:
    """One row of ``seamless-service-ps``: a process, persistent data, or both."""

    service: str | None
    cluster: str | None
    project: str | None
    stage: str | None
    process: str | None
    port: int | None
    persistent: str | None
    size: int | None
    key: str | None
    path: str | None = None
    mode: str | None = None
    host: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "service": self.service, "cluster": self.cluster, "project": self.project, "stage": self.stage,
            "process": self.process, "port": self.port, "persistent": self.persistent, "size": self.size,
            "key": self.key, "mode": self.mode, "host": self.host,
        }
        if self.path is not None:
            data["path"] = self.path
        if self.error is not None:
            data["error"] = self.error
        return data


@dataclass(frozen=True)
class KeyOutcome:
    """What a stop or rm did to one key (outcome: stopped, kill required, not running, pid reused,
    missing, removed, running, unreachable, permission denied)."""

    key: str
    host: str
    outcome: str
    detail: str = ""
    service: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome not in ("unreachable", "permission denied", "running", "error")

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "host": self.host, "service": self.service, "outcome": self.outcome,
                "detail": self.detail}


@dataclass(frozen=True)
class ClearPlan:
    """What ``clear`` will delete (exactly these files) and what it found running."""

    target: ServiceTarget
    workdir: str
    paths: tuple[str, ...]
    running: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"service": self.target.service, "host": self.target.host_label, "workdir": self.workdir,
                "paths": list(self.paths), "running": list(self.running)}


@dataclass(frozen=True)
class ClearResult:
    plan: ClearPlan
    removed: int
    stopped: tuple[str, ...]
    errors: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return self.plan.as_json() | {"removed": self.removed, "stopped": list(self.stopped),
                                      "errors": list(self.errors)}
