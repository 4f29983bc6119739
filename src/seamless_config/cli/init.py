"""``seamless-init``: resolve the configuration, bring its services up concurrently, report.

Exit codes: 0 all services reachable (or nothing to do), 2 bad usage,
3 configuration error, 4 a service could not be brought up, 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from typing import Any, Optional

import typer

from .common import (  # the exit codes, --version and --stage parsing of every seamless CLI
    EXIT_CONFIG, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, VERSION_OPTION, parse_stage,
)

app = typer.Typer(add_completion=False, rich_markup_mode=None)



def _emit_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


@app.command()
def main_command(
    stage: Optional[str] = typer.Option(
        None, "--stage", metavar="STAGE[:SUBSTAGE]",
        help="Stage (and substage) to initialise; each stage has its own storage.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a machine-readable report on stdout."),
    timeout: float = typer.Option(
        180.0, "--timeout", min=0.0,
        help="One deadline for the whole bring-up (seconds); the report of what was up still comes when it passes.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing on success."),
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="Log what happens on stderr (-v: steps, -vv: every phase)."
    ),
    version: Optional[bool] = VERSION_OPTION,
) -> None:
    """Bring up and check the services of this directory's Seamless configuration.

    Reads seamless.yaml and seamless.profile.yaml in the current directory
    (and its parents, with inherit_from_parent), then launches or reuses the
    selected cluster's hashserver, database and job server concurrently and
    health-checks them. Exits at once (0) when SEAMLESS_REMOTE_CLIENTS is set.

    Example: seamless-init --stage prod --timeout 300 --json
    """
    if verbose:
        _log_to_stderr(verbose)
    raise typer.Exit(run(stage, as_json=as_json, timeout=timeout, quiet=quiet))


def _log_to_stderr(verbosity: int) -> None:
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("seamless_config")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)


def run(stage_arg: Optional[str], *, as_json: bool, timeout: float, quiet: bool) -> int:
    from .. import _configure
    from ..errors import ConfigurationError
    from ..state import STATE

    stage, substage = parse_stage(stage_arg)
    caught: list[str] = []
    try:
        STATE.set_workdir(os.getcwd())
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always")
            _configure(stage, substage)
        caught = [str(w.message) for w in recorded]
        from ..orchestrator.bringup import prepare

        plan = prepare(STATE.snapshot())
    except (ConfigurationError, ValueError, TypeError, KeyError, OSError) as exc:
        # ValueError/TypeError/KeyError/OSError: lower layers not yet translated; reported the same way.
        message = str(exc) if not isinstance(exc, KeyError) else f"unknown cluster {exc}"
        if as_json:
            _emit_json({"ok": False, "error": "configuration", "message": message, "warnings": caught})
        else:
            typer.echo(f"seamless-init: configuration error: {message}", err=True)
        return EXIT_CONFIG
    if not as_json and not quiet:
        for message in caught:
            typer.echo(f"warning: {message}", err=True)
    if not plan:
        if as_json:
            _emit_json({"ok": True, "services": [], "warnings": caught, "message": "no services to bring up"})
        elif not quiet:
            typer.echo("seamless-init: no cluster services needed (nothing to bring up)", err=True)
        return EXIT_OK

    from ..orchestrator.bringup import warm_report

    report = warm_report(plan)
    if report is not None:  # warm cluster: nothing to launch, no event loop needed
        return _finish(report, as_json=as_json, quiet=quiet, live=None, caught=caught, stage=stage, substage=substage)

    import anyio

    from ..orchestrator.bringup import execute

    live = None
    if not as_json and not quiet and sys.stderr.isatty():
        from .progress import LiveProgress

        live = LiveProgress(plan.names, sys.stderr)

    async def go() -> Any:
        if live is None:
            return await execute(plan, timeout=timeout)
        async with anyio.create_task_group() as tg:
            tg.start_soon(live.tick)
            report = await execute(plan, timeout=timeout, progress=live)
            tg.cancel_scope.cancel()
        live.draw()
        return report

    try:
        report = anyio.run(go)
    except KeyboardInterrupt:
        typer.echo("seamless-init: interrupted", err=True)
        return EXIT_INTERRUPTED
    return _finish(report, as_json=as_json, quiet=quiet, live=live, caught=caught, stage=stage, substage=substage)


def _finish(
    report: Any, *, as_json: bool, quiet: bool, live: Any, caught: list[str],
    stage: Optional[str], substage: Optional[str],
) -> int:
    if as_json:
        _emit_json(report.as_json() | {"warnings": caught, "stage": stage, "substage": substage})
    elif live is None and (not quiet or not report.ok):
        typer.echo(report.format(), err=not report.ok)
    if not report.ok:
        if not as_json:
            why = " (the deadline passed; raise it with --timeout)" if report.deadline_passed else ""
            typer.echo(f"seamless-init: some services are not available{why} (see above)", err=True)
        return EXIT_UNAVAILABLE
    return EXIT_OK


def main() -> None:
    """Console-script entry point."""
    raw_clients = os.environ.get("SEAMLESS_REMOTE_CLIENTS")
    if raw_clients is not None:
        # A worker bootstrapping itself with forwarded clients: nothing to check (but a bad value is reported).
        from ..extern_clients import parse_env_clients

        clients, problem = parse_env_clients(raw_clients)
        if clients is None:
            sys.stderr.write(f"seamless-init: warning: SEAMLESS_REMOTE_CLIENTS is malformed ({problem}); "
                             "workers will run without forwarded clients\n")
        sys.exit(EXIT_OK)
    app(prog_name="seamless-init")


if __name__ == "__main__":
    main()
