"""``seamless-config``: see and check the configuration without running anything.

    seamless-config show [--stage S[:SUB]] [--workdir DIR] [--json]
    seamless-config validate [PATHS...] [--json]
    seamless-config schema {project,clusters}

Exit codes (as ``seamless-init``): 0 fine, 1 ``validate`` found problems,
2 bad usage, 3 configuration error (``show`` could not resolve).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from .common import EXIT_CONFIG, EXIT_OK, EXIT_USAGE, VERSION_OPTION, parse_stage
from .common import EXIT_FAILED as EXIT_PROBLEMS

app = typer.Typer(
    add_completion=True, rich_markup_mode=None, no_args_is_help=True,
    help="See and check the Seamless configuration of a directory.\n\n"
         "Example:\n\n    seamless-config show --stage prod\n\n    seamless-config validate",
)



@app.callback()
def _main(
    version: Optional[bool] = VERSION_OPTION,
) -> None:
    """See and check the Seamless configuration of a directory."""


def _home() -> str:
    return os.environ.get("HOME") or str(Path.home())


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")



@app.command()
def show(
    stage: Optional[str] = typer.Option(None, "--stage", metavar="STAGE[:SUBSTAGE]",
                                        help="Resolve as set_stage(STAGE, SUBSTAGE) would."),
    workdir: Path = typer.Option(Path("."), "--workdir", "-C", help="Directory whose configuration to show."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON on stdout."),
) -> None:
    """Print the resolved configuration and where each setting came from.

    For every setting: its value and origin (file:line:column, the stage block,
    the parent directory it was inherited from, an API call, an environment
    variable, or the default). Then the files read in order, the selected
    cluster with its queues (each queue field marked with the queue or
    TEMPLATE it came from), the services init() would bring up, and the
    warnings init() would give. Nothing is launched or contacted.

    Example:

        seamless-config show --stage prod --workdir ~/myproject
    """
    raise typer.Exit(run_show(stage, workdir, as_json))


def run_show(stage_arg: Optional[str], workdir: Path, as_json: bool) -> int:
    from ..core.explain import cluster_json, effective_json, explain, settings_json
    from ..environment import seamless_cache_dir
    from ..errors import ConfigurationError
    from ..orchestrator.preview import planned_services

    stage, substage = parse_stage(stage_arg)
    try:
        expl = explain(workdir, _home(), stage, substage, seamless_cache=seamless_cache_dir())
    except ConfigurationError as exc:
        if as_json:
            _emit_json({"ok": False, "error": "configuration", "message": str(exc)})
        else:
            typer.echo(f"seamless-config: configuration error: {exc}", err=True)
            typer.echo("Run 'seamless-config validate' to see every problem.", err=True)
        return EXIT_CONFIG
    config = expl.config
    services, service_problems = planned_services(config)
    data = {
        "ok": True,
        "workdir": str(workdir.resolve()),
        "files": list(expl.files),
        "settings": settings_json(config.selection),
        "effective": effective_json(config),
        "cluster": cluster_json(expl),
        "services": services,
        "warnings": list(expl.warnings) + service_problems,
    }
    if as_json:
        _emit_json(data)
    else:
        typer.echo(format_show(data))
    return EXIT_OK


def _value(value: Any) -> str:
    return "null" if value is None else json.dumps(value) if not isinstance(value, str) else value


def format_show(data: dict[str, Any]) -> str:
    lines = ["Files read, in order:"]
    lines += [f"  {f}" for f in data["files"]] or ["  (none)"]
    lines.append("")
    lines.append("Settings:")
    width = max(len(_value(s["value"])) for s in data["settings"])
    for s in data["settings"]:
        lines.append(f"  {s['name']:<11} {_value(s['value']):<{width}}  <- {s['origin_text']}")
    eff = data["effective"]
    lines.append(f"  (effective: execution {eff['execution']}, persistent {_value(eff['persistent'])}"
                 + (f", queue {eff['queue']} from {eff['queue_from']}" if eff["queue"] else "") + ")")
    cluster = data["cluster"]
    lines.append("")
    if cluster is None:
        lines.append("Cluster: none selected")
    else:
        local = ", the local cluster" if cluster["is_local_cluster"] else ""
        lines.append(f"Cluster '{cluster['name']}' (defined at {cluster['defined_at']}{local}):")
        lines.append(f"  type: {_value(cluster['type'])}   tunnel: {_value(cluster['tunnel'])}   "
                     f"workers: {_value(cluster['workers'])}   default_queue: {_value(cluster['default_queue'])}")
        for fe in cluster["frontends"]:
            ssh = f" (ssh {fe['ssh_hostname']})" if fe["ssh_hostname"] else ""
            lines.append(f"  frontend {fe['hostname']}{ssh}:")
            for service in ("hashserver", "database", "jobserver", "daskserver"):
                if service in fe:
                    spec = ", ".join(f"{k}={_value(v)}" for k, v in fe[service].items() if v is not None)
                    lines.append(f"    {service}: {spec}")
        for name, fields in cluster["queues"].items():
            lines.append(f"  queue {name}:")
            for key, entry in fields.items():
                mark = "" if entry["from"] == name else f"   [from TEMPLATE {entry['from']}]"
                lines.append(f"    {key}: {_value(entry['value'])}{mark}")
    lines.append("")
    lines.append("Services init() would bring up:")
    if not data["services"]:
        lines.append("  (none)")
    for s in data["services"]:
        if "error" in s:
            lines.append(f"  {s['service']} on {s['host']}: cannot be configured: {s['error']}")
            continue
        after = f" (after {', '.join(s['after'])})" if s["after"] else ""
        tunnel = ", tunnelled" if s["tunnel"] else ""
        lines.append(f"  {s['service']} on {s['host']}{after}{tunnel}")
        lines.append(f"    directory: {s['workdir']}")
        lines.append(f"    launcher key (template): {s['key']}")
    lines.append("")
    lines.append("Warnings init() would give:")
    lines += [f"  {w}" for w in data["warnings"]] or ["  (none)"]
    return "\n".join(lines)


@app.command()
def validate(
    paths: Optional[list[Path]] = typer.Argument(
        None, help="Project directories, seamless*.yaml files or cluster files (default: the current directory)."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON on stdout."),
) -> None:
    """Check the configuration files and report every problem with file:line:column and a fix.

    A directory (or a seamless.yaml / seamless.profile.yaml in it) is checked
    with its inheritance chain and the cluster files in ~/.seamless; any other
    file is checked as a cluster file. Exit 0 when clean, 1 when not.

    Example:

        seamless-config validate . ~/.seamless/clusters/hpc.yaml
    """
    raise typer.Exit(run_validate(paths or [Path(".")], as_json))


def run_validate(paths: list[Path], as_json: bool) -> int:
    from ..core.validate import Problem, Report, validate_file
    from ..orchestrator.preview import combination_problems

    reports: list[Report] = []
    for path in paths:
        if not path.exists() and not path.is_symlink():
            reports.append(Report((str(path),), (Problem(str(path), None, None, "no such file or directory"),)))
            continue
        report = validate_file(path, _home())
        reports.append(report)
        if report.ok and (path.is_dir() or path.name in ("seamless.yaml", "seamless.profile.yaml")):
            reports.append(Report((), tuple(combination_problems(path if path.is_dir() else path.parent, _home()))))
    files = list(dict.fromkeys(f for r in reports for f in r.files))
    problems = list(dict.fromkeys(p for r in reports for p in r.problems))
    if as_json:
        _emit_json({"ok": not problems, "files": files, "problems": [p.as_json() for p in problems]})
    else:
        for p in problems:
            typer.echo(str(p))
        n = len(problems)
        summary = f"{len(files)} file(s) checked, " + ("no problems" if not n else f"{n} problem(s)")
        typer.echo(summary, err=bool(n))
    return EXIT_PROBLEMS if problems else EXIT_OK


@app.command()
def schema(
    which: str = typer.Argument(..., metavar="{project,clusters}", help="Which file's schema to print."),
) -> None:
    """Print the JSON Schema of the project files or of the cluster files.

    The same schemas ship in the package (seamless_config/schemas/); point your
    editor's YAML language server at them (see the docs: Editor set-up).

    Example:

        seamless-config schema clusters > clusters.schema.json
    """
    from ..schemas import load_schema

    if which not in ("project", "clusters"):
        raise typer.BadParameter("choose 'project' or 'clusters'", param_hint="WHICH")
    _emit_json(load_schema(which))


def main() -> None:
    """Console-script entry point."""
    app(prog_name="seamless-config")


if __name__ == "__main__":
    main()
