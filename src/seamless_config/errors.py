"""The error hierarchy. Every message says what went wrong *and* what to do.

Everything seamless-config raises is a ``ConfigurationError``::

    RuntimeError
    └── ConfigurationError                 root: anything this package raises
        ├── ConfigFileError (+ValueError)  a file is malformed; .location (path:line:col), .reason
        │   ├── ClusterDefinitionError (+TypeError)   a cluster definition is invalid
        │   └── UnsafeNameError            a name would reach a template, path or shell word
        ├── UsageError                     an API call that cannot work in this state
        │                                  (remote clients already set; a sync call on the loop thread)
        ├── StalledRunError                a transformation waits for something that will never come;
        │                                  .service (hashserver / jobserver / daskserver), .url, .waited_for
        └── OrchestrationError             bringing services up failed
            ├── ServiceError               one service; .service, .host, .log_path, .log_tail, .reason
            │   └── ConnectionFailedError  the SSH connection to a frontend failed
            │       └── SSHError           .hint says what to do, .detail what ssh said (see docs/ssh.md)
            │           ├── HostKeyChangedError         refused; .known_hosts = "file:line" of the old key
            │           ├── AuthenticationRefusedError  .identities tried
            │           └── HostUnreachableError        refused / timed out / unknown name
            ├── TunnelError                an ``ssh -L`` tunnel could not be established
            ├── CommandTimeout (+TimeoutError)   a command on a host did not finish in time
            └── ServicesUnavailable        init() / ainit(): .report lists every service's outcome
                └── BringUpTimeout (+TimeoutError)   the one deadline passed; .report says
                                           what was up and what was not

``ConfigurationError`` keeps the reference's base (``RuntimeError``) so that
existing ``except RuntimeError`` code still catches it. Errors in the user's
files are also ``ValueError`` because the reference raised ``ValueError`` (or
``TypeError`` for cluster definitions) there.

Lower layers (asyncssh, aiohttp, OSError, a bare ``TimeoutError`` of a lock
or an ``anyio.fail_after``) are translated once, at the per-service boundary
(``remote.ensure_service``: into ``ServiceError``), and the orchestrator turns
whatever still escapes a step into that step's "failed" outcome: the report,
not an exception, is what reaches the user. ``TunnelError`` and
``CommandTimeout`` are what the remote layer raises internally; they reach
callers only through the remote API used directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ConfigurationError(RuntimeError):
    """The configuration cannot be used as it is."""


@dataclass(frozen=True)
class Location:
    """A place in a configuration file (1-based line and column)."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.path
        if self.column is None:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"


class ConfigFileError(ConfigurationError, ValueError):
    """A configuration file is malformed; the message names file, line and column."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.location = location
        self.reason = message
        super().__init__(f"{location}: {message}" if location else message)


class ClusterDefinitionError(ConfigFileError, TypeError):
    """A cluster definition is invalid (the reference raised ``TypeError`` here)."""


class UnsafeNameError(ConfigFileError):
    """A name would end up in a launcher template, path or shell word and is not safe."""


class UsageError(ConfigurationError):
    """An API was called in a state where it cannot work; the message says what to call instead."""


class StalledRunError(ConfigurationError):
    """A transformation waits on a service for something that will never come; the run fails instead.

    ``service`` is the service that cannot deliver (``"hashserver"``, ``"jobserver"``, ``"daskserver"``), ``url`` where it
    runs, ``waited_for`` what the run waited for (a buffer checksum, a job).
    """

    def __init__(self, message: str, *, service: str, url: str | None, waited_for: str) -> None:
        self.service = service
        self.url = url
        self.waited_for = waited_for
        super().__init__(message)


class OrchestrationError(ConfigurationError):
    """Bringing services up failed; see ``report`` for every service's outcome."""


class TunnelError(OrchestrationError):
    """An ``ssh -L`` tunnel could not be established."""


class CommandTimeout(OrchestrationError, TimeoutError):
    """A command on a host did not finish within its timeout."""


class ServicesUnavailable(OrchestrationError):
    """Some services could not be brought up; ``report`` (an orchestrator ``Report``) lists every one."""

    def __init__(self, report: Any) -> None:
        self.report = report
        failed = [o.service for o in report.outcomes if o.status == "failed"]
        super().__init__(
            f"{len(failed)} of {len(report.outcomes)} services failed ({', '.join(failed)}):\n{report.format()}"
        )


class BringUpTimeout(ServicesUnavailable, TimeoutError):
    """The bring-up's one deadline passed; ``report`` says what was up and what was not."""

    def __init__(self, seconds: float, report: Any = None) -> None:
        self.seconds = seconds
        self.report = report
        outcomes = getattr(report, "outcomes", ())
        text = report.format() if outcomes else "  (no service reported back)"
        OrchestrationError.__init__(
            self,
            f"the bring-up did not finish within its deadline of {seconds:g}s:\n{text}\n"
            "Raise the deadline (init(timeout=...), seamless-init --timeout) or see the service logs named above.",
        )


class ServiceError(OrchestrationError):
    """One service could not be launched, reached or health-checked."""

    def __init__(
        self,
        message: str,
        *,
        service: str | None = None,
        host: str | None = None,
        log_path: str | None = None,
        log_tail: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.reason = reason  # the cause alone, without the log path and tail of the message
        self.service = service
        self.host = host
        self.log_path = log_path
        self.log_tail = log_tail
        super().__init__(message)


class ConnectionFailedError(ServiceError):
    """An SSH connection to a frontend could not be opened."""


# --- SSH: why a connection to a frontend could not be opened (raised by remote/pool.py) ---


class SSHError(ConnectionFailedError):
    """An SSH connection failed; ``hint`` says what to do. Raised once per host and operation."""

    def __init__(self, message: str, *, host: str, hint: str, detail: str | None = None) -> None:
        self.hint = hint
        self.detail = detail  # the client's own words (ssh's stderr or asyncssh's message)
        super().__init__(f"{message}\n  {hint}", host=host, reason=message)


class HostKeyChangedError(SSHError):
    """The host presented a key other than the one in known_hosts: refused; ``known_hosts`` is ``file:line``."""

    def __init__(self, message: str, *, host: str, hint: str, known_hosts: str | None, detail: str | None = None) -> None:
        self.known_hosts = known_hosts
        super().__init__(message, host=host, hint=hint, detail=detail)


class AuthenticationRefusedError(SSHError):
    """The host refused every identity offered; ``identities`` lists them."""

    def __init__(self, message: str, *, host: str, hint: str, identities: tuple[str, ...], detail: str | None = None) -> None:
        self.identities = identities
        super().__init__(message, host=host, hint=hint, detail=detail)


class HostUnreachableError(SSHError):
    """No SSH server answered (refused, timed out, unknown name) within the connect timeout."""


# -- service management (seamless-service-*) ---------------------------------------------


class ServiceManagementError(ServiceError):
    """A service command was refused or could not be done (e.g. clear of a running service); names host and service."""
