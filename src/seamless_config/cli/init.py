"""``seamless-init``: resolve the configuration, bring its services up concurrently, report.

Exit codes: 0 all services reachable (or nothing to do), 2 bad usage,
3 configuration error, 4 a service could not be brought up, 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from functools import cache
from typing import TYPE_CHECKING, Any, Optional

from .common import (  # the exit codes and --stage parsing of every seamless CLI (--version: in _app)
    EXIT_CONFIG, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, parse_stage,
)

if TYPE_CHECKING:
    import typer

__all__ = ["EXIT_CONFIG", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_UNAVAILABLE", "EXIT_USAGE", "main", "run"]

DEFAULT_TIMEOUT = 180.0


def _emit_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _echo(message: str, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(message + "\n")
    stream.flush()


@cache
def _app() -> typer.Typer:
    """The typer app, built on first use: importing typer costs ~40 ms, and :func:`main`
    reads the everyday invocations without it."""
    import typer

    from .common import VERSION_OPTION

    app = typer.Typer(add_completion=False, rich_markup_mode=None)

    @app.command()
    def main_command(
        stage: Optional[str] = typer.Option(
            None, "--stage", metavar="STAGE[:SUBSTAGE]",
            help="Stage (and substage) to initialise; each stage has its own storage.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print a machine-readable report on stdout."),
        timeout: float = typer.Option(
            DEFAULT_TIMEOUT, "--timeout", min=0.0,
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

    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # ``seamless_config.cli.init.app`` as before (docs generation, tests)
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _simple_invocation(argv: list[str]) -> tuple[Optional[str], bool, bool] | None:
    """(stage, as_json, quiet) of the everyday invocations -- no argument, ``--json``,
    ``-q``/``--quiet``, ``--stage S``/``--stage=S`` -- read without typer; None for anything
    else (typer parses it: ``--help``, ``--timeout``, ``-v``, mistakes...)."""
    stage: Optional[str] = None
    as_json = quiet = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--json":
            as_json = True
        elif arg in ("-q", "--quiet"):
            quiet = True
        elif arg == "--stage" and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            i += 1
            stage = argv[i]
        elif arg.startswith("--stage=") and not arg[len("--stage="):].startswith("-"):
            stage = arg[len("--stage="):]
        else:
            return None
        i += 1
    if stage is not None and stage.partition(":")[0] == "":
        return None  # typer reports the bad --stage value
    return stage, as_json, quiet


def _log_to_stderr(verbosity: int) -> None:
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("seamless_config")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)


def run(stage_arg: Optional[str], *, as_json: bool, timeout: float, quiet: bool) -> int:
    """One ``seamless-init``: its exit code (Ctrl-C: 130, whichever parser read the arguments)."""
    from ..remote import prefetch

    try:
        return _run(stage_arg, as_json=as_json, timeout=timeout, quiet=quiet)
    except KeyboardInterrupt:
        _echo("seamless-init: interrupted", err=True)
        return EXIT_INTERRUPTED
    finally:
        prefetch.forget()


def _remember(hint: str | None, plan: Any) -> None:
    """Keep this good run's handshake URLs for the next one (only a speed-up: never fails the run)."""
    if hint is None:
        return
    from ..remote import quick

    try:
        quick.remember(hint, [step.build({}) for step in plan.steps])
    except (OSError, ValueError) as exc:
        import logging

        logging.getLogger("seamless_config").debug("warm hint not written: %s", exc)


def _run(stage_arg: Optional[str], *, as_json: bool, timeout: float, quiet: bool) -> int:
    stage, substage = parse_stage(stage_arg)
    from ..remote import prefetch

    # The handshakes of the last good run start now, while the configuration is resolved
    # (through a tunnel they take two round trips); warm_report uses the answers they get.
    hint: str | None
    try:
        hint = prefetch.hint_path(os.getcwd(), stage, substage)
    except OSError:  # the directory is gone: reported below as a configuration error
        hint = None
    else:
        prefetch.prefetch(hint)

    from .. import _configure
    from ..errors import ConfigurationError
    from ..state import STATE

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
            _echo(f"seamless-init: configuration error: {message}", err=True)
        return EXIT_CONFIG
    if not as_json and not quiet:
        for message in caught:
            _echo(f"warning: {message}", err=True)
    if not plan:
        if as_json:
            _emit_json({"ok": True, "services": [], "warnings": caught, "message": "no services to bring up"})
        elif not quiet:
            _echo("seamless-init: no cluster services needed (nothing to bring up)", err=True)
        return EXIT_OK

    from ..orchestrator.bringup import warm_report

    report = warm_report(plan)
    if report is not None:  # warm cluster: nothing to launch, no event loop needed
        code = _finish(report, as_json=as_json, quiet=quiet, live=None, caught=caught, stage=stage, substage=substage)
        _remember(hint, plan)
        return code

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
        _echo("seamless-init: interrupted", err=True)
        return EXIT_INTERRUPTED
    code = _finish(report, as_json=as_json, quiet=quiet, live=live, caught=caught, stage=stage, substage=substage)
    if report.ok:
        _remember(hint, plan)
    return code


def _finish(
    report: Any, *, as_json: bool, quiet: bool, live: Any, caught: list[str],
    stage: Optional[str], substage: Optional[str],
) -> int:
    if as_json:
        _emit_json(report.as_json() | {"warnings": caught, "stage": stage, "substage": substage})
    elif live is None and (not quiet or not report.ok):
        _echo(report.format(), err=not report.ok)
    if not report.ok:
        if not as_json:
            why = " (the deadline passed; raise it with --timeout)" if report.deadline_passed else ""
            _echo(f"seamless-init: some services are not available{why} (see above)", err=True)
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
    simple = _simple_invocation(sys.argv[1:])
    if simple is not None:  # the same run(), without importing typer
        stage, as_json, quiet = simple
        sys.exit(run(stage, as_json=as_json, timeout=DEFAULT_TIMEOUT, quiet=quiet))
    _app()(prog_name="seamless-init")


if __name__ == "__main__":
    main()
