"""What happened to each service: one report for all of them, not the first exception alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ServicesUnavailable

__all__ = ["Report", "ServiceOutcome", "ServicesUnavailable"]

Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class ServiceOutcome:
    service: str
    host: str
    status: Status
    seconds: float = 0.0
    connection: dict[str, Any] | None = None  # {"hostname", "port", ...} when ok
    reason: str | None = None
    log_path: str | None = None
    log_tail: str | None = None
    reused: bool = False

    @property
    def address(self) -> str | None:
        if self.connection is None:
            return None
        return f"{self.connection.get('hostname')}:{self.connection.get('port')}"

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "host": self.host,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "address": self.address,
            "reused": self.reused,
            "reason": self.reason,
            "log_path": self.log_path,
            "log_tail": self.log_tail,
        }


@dataclass(frozen=True)
class Report:
    outcomes: tuple[ServiceOutcome, ...] = ()
    seconds: float = 0.0
    connections_opened: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    deadline_passed: bool = False  # some service had not finished when the bring-up's deadline passed

    @property
    def ok(self) -> bool:
        return all(o.status == "ok" for o in self.outcomes)

    def connection(self, service: str) -> dict[str, Any] | None:
        for outcome in self.outcomes:
            if outcome.service == service:
                return outcome.connection
        return None

    def format(self) -> str:
        lines = []
        for o in self.outcomes:
            if o.status == "ok":
                how = "reused" if o.reused else "started"
                lines.append(f"  ok      {o.service:<16} {o.host:<20} {o.address}  ({how}, {o.seconds:.2f}s)")
            elif o.status == "skipped":
                lines.append(f"  skipped {o.service:<16} {o.host:<20} {o.reason or ''}")
            else:
                lines.append(f"  FAILED  {o.service:<16} {o.host:<20} {o.reason}")
                if o.log_path:
                    lines.append(f"          log: {o.log_path}")
                if o.log_tail:
                    lines.extend("          | " + line for line in o.log_tail.rstrip().splitlines()[-20:])
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "ssh_connections_opened": self.connections_opened,
            "deadline_passed": self.deadline_passed,
            "services": [o.as_json() for o in self.outcomes],
        } | self.extra
