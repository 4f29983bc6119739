"""Write the generated docs pages: the CLI reference (from the typer apps), the cluster field tables
(from core/fields.py) and the troubleshooting catalogue (from the broken-file corpus of the validate test).

    .venv/bin/python scripts/gen_docs.py          # rewrite them
    tests/docs/test_docs.py                       # fails when they are stale
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BROKEN = REPO / "tests" / "config_cli" / "broken"


def _help(app: object, prog: str, args: list[str]) -> str:
    import click
    import typer

    command = typer.main.get_command(app)  # type: ignore[arg-type]
    ctx = click.Context(command, info_name=prog, terminal_width=100, max_content_width=100)
    for name in args:
        assert isinstance(command, click.Group)
        sub = command.get_command(ctx, name)
        assert sub is not None
        ctx = click.Context(sub, info_name=name, parent=ctx, terminal_width=100, max_content_width=100)
        command = sub
    return command.get_help(ctx)


def cli_reference() -> str:
    from seamless_config.cli.config import app as config_app
    from seamless_config.cli.init import app as init_app

    parts = [
        "# CLI reference",
        "",
        "Generated from the typer apps by `scripts/gen_docs.py` (a test keeps it in sync): exactly what "
        "`--help` prints.",
        "",
        "Exit codes shared by the commands: 0 success, 1 `validate` found problems, 2 bad usage, "
        "3 configuration error, 4 a service could not be brought up (`seamless-init`), 130 interrupted.",
        "",
    ]
    entries = [("seamless-init", init_app, []), ("seamless-config", config_app, []),
               ("seamless-config show", config_app, ["show"]), ("seamless-config validate", config_app, ["validate"]),
               ("seamless-config schema", config_app, ["schema"])]
    from seamless_config.cli import service  # the seamless-service-* commands (docs/services.md)

    entries += [(f"seamless-service-{name}", getattr(service, f"{name}_app"), [])
                for name in ("ps", "logs", "inspect", "stop", "rm", "clear", "resolve")]
    for title, app, args in entries:
        prog = title.split()[0]
        parts += [f"## `{title}`", "", "```text", _help(app, prog, args).rstrip(), "```", ""]
    return "\n".join(parts)


def cluster_fields() -> str:
    from seamless_config.core.fields import SHAPES, markdown_table

    parts = [
        "# Cluster fields",
        "",
        "Every key of a cluster definition, generated from the one field description in "
        "`src/seamless_config/core/fields.py` — the same description the loader checks, `seamless-config "
        "validate` reports and the [JSON Schemas](editor.md) are made of. See [Clusters](clusters.md) for "
        "what they mean together.",
        "",
    ]
    for shape in SHAPES:
        parts += [f"## {shape.name}", "", shape.doc, "", markdown_table(shape), ""]
    return "\n".join(parts)


def troubleshooting() -> str:
    parts = [
        "# Troubleshooting",
        "",
        "Each problem `seamless-config validate` (and `init()`, which stops at the first) can report in a "
        "configuration file, with a file that has it and the message you get. The message says what to do. "
        "Generated from the test corpus `tests/config_cli/broken/` by `scripts/gen_docs.py`.",
        "",
        "Problems outside the files:",
        "",
        "- *Unknown cluster 'x'*: the selected cluster is defined nowhere; define it in "
        "`~/.seamless/clusters.yaml` or with a `- clusters:` command (see [Clusters](clusters.md)).",
        "- *No cluster defined* / *No project defined*: add `- cluster: NAME` to `seamless.profile.yaml` "
        "or `- project: NAME` to `seamless.yaml`.",
        "- *some services are not available*: see [seamless-init](seamless-init.md); the report names the "
        "host, the service and its log.",
        "",
        "Run `seamless-config show` to see which file and line each setting came from.",
        "",
    ]
    home = Path("/nonexistent-home")
    with tempfile.TemporaryDirectory() as tmp:
        for case in sorted(BROKEN.iterdir()):
            parts += _troubleshooting_case(case, Path(tmp) / case.name, home)
    return "\n".join(parts)


def _shown(raw: str) -> str:
    """A corpus file as the page shows it: without its '#!' markers."""
    return "\n".join(line.split("  #!")[0] for line in raw.splitlines())


def _troubleshooting_case(case: Path, copy: Path, home: Path) -> list[str]:
    """The section of one corpus case; its messages are those of the files exactly as shown (markers removed)."""
    from seamless_config.core.validate import validate_file

    title = case.name.split("_", 1)[1].split(".")[0].replace("_", " ")
    if case.is_dir():
        files = sorted(p for p in case.rglob("*.yaml"))
        for path in files:
            target = copy / path.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_shown(path.read_text()) + "\n")
        checked = copy / "child" if (copy / "child").is_dir() else copy
    else:
        files = [case]
        copy.mkdir(parents=True)
        checked = copy / "clusters.yaml"
        checked.write_text(_shown(case.read_text()) + "\n")
    report = validate_file(checked, home)
    parts = [f"### {title}", ""]
    for path in files:
        rel = path.relative_to(case) if case.is_dir() else Path("clusters.yaml")
        raw = path.read_text()
        mark = ["<!-- example: broken -->"] if "#!" in raw else []
        parts += [f"`{rel}`:", "", *mark, "```yaml", _shown(raw), "```", ""]
    parts += ["```text"]
    for problem in report.problems:
        name = problem.file or ""
        rel = Path(name).relative_to(copy) if case.is_dir() and name.startswith(str(copy)) else Path("clusters.yaml")
        parts.append(f"{rel}:{problem.line}:{problem.column}: {problem.message}")
    parts += ["```", ""]
    return parts


PAGES = {"cli-reference.md": cli_reference, "cluster-fields.md": cluster_fields,
         "troubleshooting.md": troubleshooting}


def main() -> None:
    for name, make in PAGES.items():
        (REPO / "docs" / name).write_text(make() + "\n", encoding="utf-8")
        print(f"wrote docs/{name}", file=sys.stderr)


if __name__ == "__main__":
    main()
