"""Conventions shared by the command-line tools: exit codes, ``--json``, ``--version``, error mapping.

Exit codes: 0 done (also: "nothing to do", "not there"), 1 the operation was
refused or failed, 2 bad usage, 3 configuration error, 4 a host could not be
reached, 130 interrupted.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any, Optional, TypeVar

# typer is imported where it is used: seamless-init's everyday invocations run without it.

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONFIG, EXIT_UNAVAILABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

T = TypeVar("T")
logger = logging.getLogger("seamless_config.cli")


def version() -> str:
    try:
        from importlib.metadata import version as dist_version

        return dist_version("seamless-config")
    except Exception:  # noqa: BLE001 - metadata missing in a source checkout
        logger.debug("no distribution metadata", exc_info=True)
        return "unknown"


def version_callback(value: bool) -> None:
    if value:
        import typer

        typer.echo(f"seamless-config {version()}")
        raise typer.Exit(EXIT_OK)


def __getattr__(name: str) -> Any:
    if name == "VERSION_OPTION":  # the --version option of every seamless CLI (made on first use)
        import typer

        option = typer.Option(
            None, "--version", callback=version_callback, is_eager=True, help="Print the version and exit."
        )
        globals()["VERSION_OPTION"] = option
        return option
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, sort_keys=True) + "\n")


def emit_json_lines(rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        emit_json(row)


def table(headers: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> str:
    rendered = [["-" if v is None or v == "" else str(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rendered:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = [" ".join(h.ljust(widths[i]) for i, h in enumerate(headers)).rstrip()]
    lines += [" ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in rendered]
    return "\n".join(lines) + "\n"


def fail(prog: str, message: str, code: int, *, as_json: bool) -> int:
    if as_json:
        emit_json({"ok": False, "error": message, "exit_code": code})
    else:
        import typer

        typer.echo(f"{prog}: {message}", err=True)
    return code


def guarded(prog: str, as_json: bool, action: Callable[[], int]) -> int:
    """Run *action*, mapping the package's errors to messages and exit codes (no tracebacks)."""
    from ..errors import ConfigurationError, ConnectionFailedError, ServiceError, ServiceManagementError

    import typer

    try:
        return action()
    except KeyboardInterrupt:
        typer.echo(f"{prog}: interrupted", err=True)
        return EXIT_INTERRUPTED
    except ConnectionFailedError as exc:
        return fail(prog, str(exc), EXIT_UNAVAILABLE, as_json=as_json)
    except ServiceManagementError as exc:
        return fail(prog, str(exc), EXIT_FAILED, as_json=as_json)
    except ServiceError as exc:
        return fail(prog, str(exc), EXIT_UNAVAILABLE if exc.host else EXIT_FAILED, as_json=as_json)
    except (ConfigurationError, ValueError, TypeError) as exc:
        return fail(prog, f"configuration error: {exc}", EXIT_CONFIG, as_json=as_json)
    except KeyError as exc:
        return fail(prog, f"configuration error: unknown {exc}", EXIT_CONFIG, as_json=as_json)


def parse_stage(value: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    """``--stage STAGE[:SUBSTAGE]`` -> (stage, substage)."""
    if value is None:
        return None, None
    stage, _, substage = value.partition(":")
    if not stage:
        import typer

        raise typer.BadParameter("the stage before ':' cannot be empty", param_hint="--stage")
    return stage, substage or None


def optional(value: Optional[str]) -> Optional[str]:
    return value
