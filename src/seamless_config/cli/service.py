"""The ``seamless-service-*`` commands: ps, logs, inspect, stop, rm, clear, resolve.

Each is a small typer app over ``seamless_config.services`` (the same
operations, importable). Without ``--cluster``/``--project``/..., the current
directory's configuration decides, as ``init()`` would. Exit codes and
``--json`` follow ``cli.common``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Optional

import typer

from .common import (
    EXIT_FAILED, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, VERSION_OPTION, emit_json, emit_json_lines, fail, guarded,
    table,
)

_SERVICES = "hashserver, database, jobserver, daskserver, pure-daskserver"

SERVICE: Any = typer.Option(None, "--service", help=f"One of: {_SERVICES}.")
CLUSTER: Any = typer.Option(None, "--cluster", help="Cluster name (default: the configuration's).")
PROJECT: Any = typer.Option(None, "--project", help="Project (SEAMLESS_CACHE: the $SEAMLESS_CACHE setup).")
SUBPROJECT: Any = typer.Option(None, "--subproject")
STAGE: Any = typer.Option(None, "--stage")
SUBSTAGE: Any = typer.Option(None, "--substage")
MODE: Any = typer.Option("rw", "--mode", help="ro or rw (storage services).")
QUEUE: Any = typer.Option(None, "--queue")
FRONTEND: Any = typer.Option(None, "--frontend-name", help="The frontend (its hostname) of a multi-frontend cluster.")
JSON: Any = typer.Option(False, "--json", help="Machine-readable output on stdout.")
CONNECT_TIMEOUT: Any = typer.Option(10.0, "--connect-timeout", help="Give up on an SSH frontend after this many seconds.")


def _query(service: Optional[str], cluster: Optional[str], project: Optional[str], subproject: Optional[str],
           stage: Optional[str], substage: Optional[str], mode: str, queue: Optional[str],
           frontend_name: Optional[str]) -> Any:
    from ..services.model import SERVICES, ServiceQuery

    if service is not None and service not in SERVICES:
        raise typer.BadParameter(f"must be one of: {_SERVICES}", param_hint="--service")
    if mode not in ("ro", "rw"):
        raise typer.BadParameter("must be ro or rw", param_hint="--mode")
    return ServiceQuery(service=service, cluster=cluster, project=project, subproject=subproject, stage=stage,
                        substage=substage, mode=mode, queue=queue, frontend_name=frontend_name)


def _run(make: Callable[[], Any]) -> Any:
    import anyio

    async def go() -> Any:
        return await make()

    return anyio.run(go)


def _app(help_text: str) -> typer.Typer:
    return typer.Typer(add_completion=False, rich_markup_mode=None, help=help_text,
                       context_settings={"help_option_names": ["-h", "--help"]})


# ---------------------------------------------------------------------------- resolve

resolve_app = _app("Resolve a service's launcher key, host, workdir and log path.")


@resolve_app.command()
def resolve_command(
    service: Optional[str] = SERVICE, cluster: Optional[str] = CLUSTER, project: Optional[str] = PROJECT,
    subproject: Optional[str] = SUBPROJECT, stage: Optional[str] = STAGE, substage: Optional[str] = SUBSTAGE,
    mode: str = MODE, queue: Optional[str] = QUEUE, frontend_name: Optional[str] = FRONTEND,
    workdir: Optional[str] = typer.Option(None, "--workdir", help="Read the configuration of this directory."),
    _version: Optional[bool] = VERSION_OPTION,
) -> None:
    """Print one JSON object: key, ssh_hostname, workdir, log_path and the meta fields. No side effects.

    Example: seamless-service-resolve --service hashserver --cluster mycluster --project myproj --stage prod

    Computed by the code path launching uses; call it every time rather than caching its output.
    """
    def action() -> int:
        from ..services.resolve import resolve_target

        if service is None:
            return fail("seamless-service-resolve", f"--service is required ({_SERVICES})", EXIT_USAGE, as_json=True)
        from dataclasses import replace

        query = _query(service, cluster, project, subproject, stage, substage, mode, queue, frontend_name)
        target = resolve_target(replace(query, workdir=workdir))
        emit_json(target.as_json())
        return EXIT_OK

    raise typer.Exit(guarded("seamless-service-resolve", True, action))


# --------------------------------------------------------------------------------- ps

ps_app = _app("List Seamless services (processes and, with --persistent, their data).")


@ps_app.command()
def ps_command(
    client: bool = typer.Option(False, "--client", help="From this machine's client files (the default)."),
    server: bool = typer.Option(False, "--server", help="From the server state of --cluster's frontends."),
    all_clusters: bool = typer.Option(False, "--all-clusters", help="Every defined cluster, concurrently."),
    status: Optional[str] = typer.Option(None, "--status", help="Only rows with this process status."),
    persistent: bool = typer.Option(False, "--persistent", help="Add buffer/database directories per project/stage."),
    as_json: bool = JSON, connect_timeout: float = CONNECT_TIMEOUT,
    service: Optional[str] = SERVICE, cluster: Optional[str] = CLUSTER, project: Optional[str] = PROJECT,
    subproject: Optional[str] = SUBPROJECT, stage: Optional[str] = STAGE, substage: Optional[str] = SUBSTAGE,
    mode: str = MODE, queue: Optional[str] = QUEUE, frontend_name: Optional[str] = FRONTEND,
    _version: Optional[bool] = VERSION_OPTION,
) -> None:
    """Process state from the client files, or from the frontends' server state.

    Example: seamless-service-ps --all-clusters --json

    A table on a terminal; one JSON object per line with --json. An unreachable
    frontend gets its own row (with "error") and exit code 4; the others are listed.
    """
    if sum((client, server, all_clusters)) > 1:
        typer.echo("seamless-service-ps: --client, --server and --all-clusters exclude each other", err=True)
        raise typer.Exit(EXIT_USAGE)

    def action() -> int:
        from ..services import api

        query = _query(service, cluster, project, subproject, stage, substage, mode, queue, frontend_name)
        side = "client" if client else "server" if server else "all" if all_clusters else "auto"
        if side == "server" and cluster is None:
            return fail("seamless-service-ps", "--server requires --cluster", EXIT_USAGE, as_json=as_json)
        rows, failures = _run(lambda: api.ps(query, side=side, status=status, persistent=persistent,
                                                 connect_timeout=connect_timeout))
        error_rows = [{"service": None, "cluster": f.cluster, "project": None, "stage": None, "process": None,
                       "port": None, "persistent": None, "size": None, "key": None, "mode": None,
                       "host": f.host, "error": f.message} for f in failures]
        if as_json:
            emit_json_lines([r.as_json() for r in rows] + error_rows)
        else:
            headers = ("SERVICE", "CLUSTER", "PROJECT", "STAGE", "MODE", "PROCESS", "PORT", "PERSISTENT", "SIZE", "HOST")
            lines = [(r.service, r.cluster, r.project, r.stage, r.mode, r.process, r.port, r.persistent, r.size,
                      r.host) for r in rows]
            sys.stdout.write(table(headers, lines))
            for f in failures:
                typer.echo(f"seamless-service-ps: {f.cluster or f.host}: {f.message}", err=True)
        return EXIT_UNAVAILABLE if failures else EXIT_OK

    raise typer.Exit(guarded("seamless-service-ps", as_json, action))


# ------------------------------------------------------------------------------- logs

logs_app = _app("Print a service's log without knowing its launcher key.")


@logs_app.command()
def logs_command(
    tail: Optional[int] = typer.Option(None, "--tail", min=0, help="Only the last N lines."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing what is appended (Ctrl-C ends)."),
    service: Optional[str] = SERVICE, cluster: Optional[str] = CLUSTER, project: Optional[str] = PROJECT,
    subproject: Optional[str] = SUBPROJECT, stage: Optional[str] = STAGE, substage: Optional[str] = SUBSTAGE,
    mode: str = MODE, queue: Optional[str] = QUEUE, frontend_name: Optional[str] = FRONTEND,
    as_json: bool = JSON, _version: Optional[bool] = VERSION_OPTION,
) -> None:
    """Print the log of one service.

    Example: seamless-service-logs --service hashserver --tail 20
    """
    def action() -> int:
        from ..services import api

        if service is None:
            return fail("seamless-service-logs", f"--service is required ({_SERVICES})", EXIT_USAGE, as_json=as_json)
        query = _query(service, cluster, project, subproject, stage, substage, mode, queue, frontend_name)
        if follow:
            def write(text: str) -> None:
                sys.stdout.write(text)
                sys.stdout.flush()

            _run(lambda: api.follow_logs(query, write, tail=tail))
            return EXIT_OK
        target, text = _run(lambda: api.logs(query, tail=tail))
        if as_json:
            emit_json({"key": target.key, "host": target.host_label, "log_path": target.log_path, "text": text})
            return EXIT_OK if text is not None else EXIT_FAILED
        if text is None:
            return fail("seamless-service-logs", f"no log for {target.key} on {target.host_label}", EXIT_FAILED,
                        as_json=False)
        sys.stdout.write(text)
        return EXIT_OK

    raise typer.Exit(guarded("seamless-service-logs", as_json, action))


# ---------------------------------------------------------------------------- inspect

inspect_app = _app("Print a service's server state JSON.")


@inspect_app.command()
def inspect_command(
    service: Optional[str] = SERVICE, cluster: Optional[str] = CLUSTER, project: Optional[str] = PROJECT,
    subproject: Optional[str] = SUBPROJECT, stage: Optional[str] = STAGE, substage: Optional[str] = SUBSTAGE,
    mode: str = MODE, queue: Optional[str] = QUEUE, frontend_name: Optional[str] = FRONTEND,
    as_json: bool = JSON, _version: Optional[bool] = VERSION_OPTION,
) -> None:
    """The server state (pid, port, status, workdir, command, meta) of one service.

    Example: seamless-service-inspect --service database --stage prod
    """
    def action() -> int:
        import json

        from ..services import api

        if service is None:
            return fail("seamless-service-inspect", f"--service is required ({_SERVICES})", EXIT_USAGE,
                        as_json=as_json)
        query = _query(service, cluster, project, subproject, stage, substage, mode, queue, frontend_name)
        target, state = _run(lambda: api.inspect(query))
        if state is None:
            return fail("seamless-service-inspect", f"no state for {target.key} on {target.host_label}",
                        EXIT_FAILED, as_json=as_json)
        if as_json:
            emit_json(state)
        else:
            sys.stdout.write(json.dumps(state, indent=2, sort_keys=True) + "\n")
        return EXIT_OK

    raise typer.Exit(guarded("seamless-service-inspect", as_json, action))


# ------------------------------------------------------------------------------- stop

stop_app = _app("Stop services (SIGINT → SIGTERM → SIGKILL, identity-checked; state kept).")


def _report(prog: str, outcomes: list[Any], as_json: bool) -> int:
    if as_json:
        emit_json_lines([o.as_json() for o in outcomes])
    else:
        for o in outcomes:
            detail = f" ({o.detail})" if o.detail else ""
            typer.echo(f"{o.host}: {o.key}: {o.outcome}{detail}")
        if not outcomes:
            typer.echo(f"{prog}: no services there")
    if any(o.outcome == "unreachable" for o in outcomes):
        return EXIT_UNAVAILABLE
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED


@stop_app.command()
def stop_command(
    service: Optional[str] = SERVICE, cluster: Optional[str] = CLUSTER, project: Optional[str] = PROJECT,
    subproject: Optional[str] = SUBPROJECT, stage: Optional[str] = STAGE, substage: Optional[str] = SUBSTAGE,
    mode: str = MODE, queue: Optional[str] = QUEUE, frontend_name: Optional[str] = FRONTEND,
    grace: float = typer.Option(5.0, "--grace", help="Seconds between SIGINT, SIGTERM and SIGKILL."),
    as_json: bool = JSON, connect_timeout: float = CONNECT_TIMEOUT, _version: Optional[bool] = VERSION_OPTION,
) -> None:
    """Stop one service (--service), every service of a cluster (--cluster), or this configuration's.

    Example: seamless-service-stop --cluster mycluster

    A PID is signalled only if it is still the recorded service (command line and
    start time); the state JSON is kept (status "stale"), local client files are
    marked stale and their tunnels closed. A service that is not there: exit 0.
    """
    def action() -> int:
        from ..services import api

        query = _query(service, cluster, project, subproject, stage, substage, mode, queue, frontend_name)
        return _report("seamless-service-stop", _run(lambda: api.stop(query, grace=grace, connect_timeout=connect_timeout)), as_json)

    raise typer.Exit(guarded("seamless-service-stop", as_json, action))


# --------------------------------------------------------------------------------- rm

rm_app = _app("Remove services' state JSON (logs are kept).")


@rm_app.command()
def rm_command(
    client: bool = typer.Option(False, "--client", help="Only this machine's client files."),
    server: bool = typer.Option(False, "--server", help="Only the server state."),
    stop_first: bool = typer.Option(False, "--stop", help="Stop running services first (else they are refused)."),
    service: Optional[str] = SERVICE, cluster: Optional[str] = CLUSTER, project: Optional[str] = PROJECT,
    subproject: Optional[str] = SUBPROJECT, stage: Optional[str] = STAGE, substage: Optional[str] = SUBSTAGE,
    mode: str = MODE, queue: Optional[str] = QUEUE, frontend_name: Optional[str] = FRONTEND,
    as_json: bool = JSON, _version: Optional[bool] = VERSION_OPTION,
) -> None:
    """Remove the state of one service, of a cluster's services, or of this configuration's.

    Example: seamless-service-rm --service hashserver --stop

    A running service is refused (exit 1) unless --stop: removing its state would orphan it.
    """
    def action() -> int:
        from ..services import api

        query = _query(service, cluster, project, subproject, stage, substage, mode, queue, frontend_name)
        do_client = client or not server
        do_server = server or not client
        outcomes = _run(lambda: api.rm(query, client=do_client, server=do_server, stop_first=stop_first))
        return _report("seamless-service-rm", outcomes, as_json)

    raise typer.Exit(guarded("seamless-service-rm", as_json, action))


# ------------------------------------------------------------------------------ clear

clear_app = _app("Delete the buffers or the database of exactly one project/stage.")


@clear_app.command()
def clear_command(
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    force: bool = typer.Option(False, "--force", help="Stop the running service first (else: refused)."),
    service: Optional[str] = SERVICE, cluster: Optional[str] = CLUSTER, project: Optional[str] = PROJECT,
    subproject: Optional[str] = SUBPROJECT, stage: Optional[str] = STAGE, substage: Optional[str] = SUBSTAGE,
    mode: str = MODE, queue: Optional[str] = QUEUE, frontend_name: Optional[str] = FRONTEND,
    as_json: bool = JSON, _version: Optional[bool] = VERSION_OPTION,
) -> None:
    """Clear hashserver buffers or seamless.db of one project (and stage).

    Example: seamless-service-clear --service hashserver --project myproj --stage test --yes

    Names every file it will delete and asks unless --yes. Only buffer files
    (checksum names) or seamless.db are deleted: other stages' directories and the
    other service's data stay, whatever the names. Refused while the service runs.
    """
    def action() -> int:
        from ..services import api

        if service not in ("hashserver", "database"):
            return fail("seamless-service-clear", "--service must be hashserver or database", EXIT_USAGE,
                        as_json=as_json)
        if project is None:
            return fail("seamless-service-clear", "--project is required", EXIT_USAGE, as_json=as_json)
        query = _query(service, cluster, project, subproject, stage, None, mode, queue, frontend_name)
        plan = _run(lambda: api.plan_clear(query))
        if plan.running and not force:
            return fail("seamless-service-clear",
                        f"{service} is running on {plan.workdir} ({', '.join(plan.running)}): stop it first "
                        "(seamless-service-stop) or pass --force", EXIT_FAILED, as_json=as_json)
        if not plan.paths:
            if as_json:
                emit_json(plan.as_json() | {"removed": 0})
            else:
                typer.echo(f"nothing to clear in {plan.workdir} on {plan.target.host_label}")
            return EXIT_OK
        if not yes:
            if as_json or not sys.stdin.isatty():
                return fail("seamless-service-clear", f"would delete {len(plan.paths)} file(s) in {plan.workdir}; "
                            "pass --yes to confirm", EXIT_USAGE, as_json=as_json)
            typer.echo(f"{plan.target.host_label}: will delete {len(plan.paths)} file(s) in {plan.workdir}:")
            for path in plan.paths[:50]:
                typer.echo(f"  {path}")
            if len(plan.paths) > 50:
                typer.echo(f"  ... and {len(plan.paths) - 50} more")
            if not typer.confirm("Delete them?"):
                return EXIT_FAILED
        result = _run(lambda: api.clear(plan, force=force))
        if as_json:
            emit_json(result.as_json())
        else:
            typer.echo(f"removed {result.removed} file(s) from {plan.workdir} on {plan.target.host_label}")
            for error in result.errors:
                typer.echo(f"seamless-service-clear: {error}", err=True)
        return EXIT_FAILED if result.errors else EXIT_OK

    raise typer.Exit(guarded("seamless-service-clear", as_json, action))


def _main(app: typer.Typer, name: str) -> Callable[[], None]:
    def main() -> None:
        app(prog_name=name)

    return main


ps_main = _main(ps_app, "seamless-service-ps")
logs_main = _main(logs_app, "seamless-service-logs")
inspect_main = _main(inspect_app, "seamless-service-inspect")
stop_main = _main(stop_app, "seamless-service-stop")
rm_main = _main(rm_app, "seamless-service-rm")
clear_main = _main(clear_app, "seamless-service-clear")
resolve_main = _main(resolve_app, "seamless-service-resolve")
