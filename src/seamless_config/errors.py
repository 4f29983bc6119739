"""The error hierarchy. Every message says what went wrong *and* what to do.

``ConfigurationError`` keeps the reference's base (``RuntimeError``) so that
existing ``except RuntimeError`` code still catches it. Errors in the user's
files are also ``ValueError`` because the reference raised ``ValueError`` (or
``TypeError`` for cluster definitions) there.
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


class OrchestrationError(ConfigurationError):
    """Bringing services up failed; see ``report`` for every service's outcome."""


class ServicesUnavailable(OrchestrationError):
    """Some services could not be brought up; ``report`` (an orchestrator ``Report``) lists every one."""

    def __init__(self, report: Any) -> None:
        self.report = report
        failed = [o.service for o in report.outcomes if o.status == "failed"]
        super().__init__(
            f"{len(failed)} of {len(report.outcomes)} services failed ({', '.join(failed)}):\n{report.format()}"
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
