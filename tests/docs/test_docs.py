"""The docs site: ``mkdocs build --strict`` passes, generated pages are current, and the examples run.

Examples, by fence language (blocks and their marks: tests/docs/blocks.py):

- ``yaml``: written into a project as the page implies and checked with the loader (``validate``: no problem)
  and the JSON Schema; ``<!-- example: fragment -->``: parsed only. The troubleshooting page's broken files
  must give exactly the messages it shows.
- ``json``: parsed (and compared with real output where they show one: test_docs_live.py).
- ``python``: compiled; ``<!-- example: run -->`` blocks are run here, the others in test_docs_live.py.
- ``console``: blocks of ``$ seamless-config ...`` lines are run here (in a copy of the repository's examples,
  with a private HOME); the others in test_docs_live.py.
"""

from __future__ import annotations

import ast
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seamless_config.core.validate import validate, validate_file
from seamless_config.core.yaml_io import parse_yaml
from seamless_config.errors import ConfigFileError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import blocks  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
BIN = Path(sys.executable).parent

def test_mkdocs_build_strict(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "show-and-validate" / "index.html").exists()


def test_generated_pages_are_current() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import gen_docs
    finally:
        sys.path.pop(0)
    for name, make in gen_docs.PAGES.items():
        assert (DOCS / name).read_text(encoding="utf-8") == make() + "\n", (
            f"docs/{name} is stale: run .venv/bin/python scripts/gen_docs.py")


# ----------------------------------------------------------------------------- YAML examples
#
# A YAML block names its file in a first comment line ('# seamless.yaml', '# ~/.seamless/clusters/hpc.yaml',
# '# ~/work/bigproject/docking/seamless.yaml'); an unnamed list is a seamless.profile.yaml, an unnamed mapping
# a ~/.seamless/clusters.yaml. Consecutive named blocks of a page are one project, as the page writes them
# (a name seen again starts the next one). Each is written into a fresh directory whose HOME has the machine
# the docs describe (the quick start's ~/.seamless/clusters.yaml and clusters.md's clusters/hpc.yaml), then
# checked with the loader (validate: no problem at all) and with the JSON Schema.

DOC_HOME_FILES = (("index.md", "~/.seamless/clusters.yaml"), ("clusters.md", "~/.seamless/clusters/hpc.yaml"))


def yaml_name(block: blocks.Block) -> str | None:
    word = block.first_comment.split()[0] if block.first_comment else ""
    return word if word.endswith(".yaml") else None


def yaml_groups() -> list[list[tuple[str, blocks.Block]]]:
    groups: list[list[tuple[str, blocks.Block]]] = []
    for page in sorted(DOCS.glob("*.md")):
        if page.name == "troubleshooting.md":
            continue  # generated from the validate corpus: test_troubleshooting_examples
        current: list[tuple[str, blocks.Block]] = []
        for block in blocks.parse(page):
            if block.lang != "yaml" or block.mark in ("fragment", "broken"):
                continue
            name = yaml_name(block)
            if name is None or any(n == name for n, _ in current):
                if current:
                    groups.append(current)
                current = []
            if name is None:
                data = parse_yaml(block.body + "\n", Path("x.yaml")).data
                groups.append([("~/.seamless/clusters.yaml" if isinstance(data, dict) else "seamless.profile.yaml",
                                block)])
            else:
                current.append((name, block))
        if current:
            groups.append(current)
    return groups


def doc_home(home: Path) -> None:
    for page, name in DOC_HOME_FILES:
        block = next(b for b in blocks.page_blocks(page) if b.lang == "yaml" and yaml_name(b) == name)
        target = home / name[2:]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.body + "\n", encoding="utf-8")


def write_group(group: list[tuple[str, blocks.Block]], root: Path) -> tuple[Path, list[Path], list[Path]]:
    """(home, project directories, cluster files) of *group* written under *root*."""
    home, project = root / "home", root / "project"
    doc_home(home)
    project.mkdir()
    dirs, cluster_files = [], []
    for name, block in group:
        path = home / name[2:] if name.startswith("~/") else project / name
        if path.name == "clusters.yaml" and path.parent.name == ".seamless":
            for old in (home / ".seamless").rglob("*.yaml"):
                old.unlink()  # the page describes its own machine
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.body + "\n", encoding="utf-8")
        (dirs if path.name in ("seamless.yaml", "seamless.profile.yaml") else cluster_files).append(path)
    return home, sorted({p.parent for p in dirs}), cluster_files


@pytest.mark.parametrize("group", yaml_groups(), ids=lambda g: "+".join(str(b) for _, b in g))
def test_yaml_examples(group: list[tuple[str, blocks.Block]], tmp_path: Path) -> None:
    import jsonschema

    from seamless_config.schemas import load_schema

    home, dirs, cluster_files = write_group(group, tmp_path)
    problems = []
    for d in dirs:
        problems += [str(p) for p in validate(d, home).problems]
    for f in cluster_files:
        problems += [str(p) for p in validate_file(f, home).problems]
    assert not problems, f"{' + '.join(str(b) for _, b in group)}: {problems}"
    for name, block in group:
        data = parse_yaml(block.body + "\n", Path(name)).data
        schema = load_schema("project" if isinstance(data, list) or data is None else "clusters")
        errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]
        assert not errors, f"{block}: the JSON Schema refuses it: {errors}"


@pytest.mark.parametrize("block", [b for b in blocks.all_blocks() if b.lang == "yaml" and b.mark == "fragment"],
                         ids=str)
def test_yaml_fragments_parse(block: blocks.Block) -> None:
    parse_yaml(block.body + "\n", Path("fragment.yaml"))


def troubleshooting_cases() -> list[tuple[str, list[blocks.Block], blocks.Block]]:
    """Each '### title' of troubleshooting.md: its files (`name`: + yaml block) and the text block of messages."""
    cases = []
    page = blocks.page_blocks("troubleshooting.md")
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8").splitlines()
    files: list[blocks.Block] = []
    for block in page:
        if block.lang == "yaml":
            files.append(block)
        elif block.lang == "text" and files:
            title = next(line for line in reversed(text[:files[0].line]) if line.startswith("### "))
            cases.append((title[4:], files, block))
            files = []
    return cases


@pytest.mark.parametrize("title, files, messages", troubleshooting_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_troubleshooting_examples(title: str, files: list[blocks.Block], messages: blocks.Block,
                                  tmp_path: Path) -> None:
    """Each broken file of the troubleshooting page, written as the page shows it, gives exactly its messages."""
    lines = (DOCS / "troubleshooting.md").read_text(encoding="utf-8").splitlines()
    paths = []
    for block in files:
        name = next(line for line in reversed(lines[:block.line - 1]) if line.startswith("`")).strip("`:")
        path = tmp_path / "case" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.body + "\n", encoding="utf-8")
        paths.append(path)
    case = tmp_path / "case"
    if paths[0].name == "clusters.yaml" and len(paths) == 1:
        report = validate_file(paths[0], tmp_path / "home")
    else:
        report = validate(case / "child" if (case / "child").is_dir() else case, tmp_path / "home")
    got = [f"{Path(p.file).relative_to(case) if p.file else ''}:{p.line}:{p.column}: {p.message}"
           for p in report.problems]
    assert "\n".join(got) == messages.body, title


@pytest.mark.parametrize("block", [b for b in blocks.all_blocks() if b.lang == "json"], ids=str)
def test_json_examples(block: blocks.Block) -> None:
    try:
        json.loads(block.body)
    except json.JSONDecodeError:
        json.loads("[" + block.body + "]")  # an excerpt: a few elements of a list


@pytest.mark.parametrize("block", [b for b in blocks.all_blocks() if b.lang == "python"], ids=str)
def test_python_examples_compile(block: blocks.Block) -> None:
    compile(block.body, str(block), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


@pytest.mark.parametrize("block", [b for b in blocks.all_blocks() if b.lang == "python" and b.mark == "run"], ids=str)
def test_python_examples_that_run_alone(block: blocks.Block, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLESS_")} | {"HOME": str(home)}
    result = subprocess.run([sys.executable, "-c", block.body], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{block}:\n{result.stdout}{result.stderr}"


def console_blocks() -> list[blocks.Block]:
    """Unmarked console blocks whose every command is seamless-config (or cd): run here, without services."""
    found = []
    for block in blocks.all_blocks():
        words = [line[2:].split()[0] for line in block.body.splitlines() if line.startswith("$ ")]
        if block.lang == "console" and block.mark is None and words and set(words) <= {"seamless-config", "cd"}:
            found.append(block)
    return found


@pytest.mark.parametrize("block", console_blocks(), ids=str)
def test_console_examples(block: blocks.Block, tmp_path: Path) -> None:
    """Run in a copy of the repository's examples and validate corpus, with a private HOME."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "examples", root / "examples")
    shutil.copytree(REPO / "tests" / "config_cli" / "broken", root / "tests" / "config_cli" / "broken")
    home = tmp_path / "home"
    (home / ".seamless").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLESS_")}
    env |= {"HOME": str(home), "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}
    cwd = root
    for line in block.body.splitlines():
        if not line.startswith("$ "):
            continue
        command = line[2:].split("  #")[0].strip()
        words = shlex.split(command)
        if words[0] == "cd":
            cwd = cwd / words[1]
            continue
        result = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
        expected = 1 if words[1] == "validate" and "broken" in command else 0
        assert result.returncode == expected, f"{block}: {command}\n{result.stdout}{result.stderr}"
        assert "Traceback" not in result.stderr


def test_validate_output_shown(tmp_path: Path) -> None:
    """docs/show-and-validate.md: the validate output shown is what validate prints for such a seamless.yaml."""
    page = blocks.page_blocks("show-and-validate.md")
    shown = next(b for b in page if b.lang == "text" and "unknown command 'clsuter'" in b.body)
    (tmp_path / "seamless.yaml").write_text("- project: p\n- clsuter: local\n- execution: local\n")
    result = subprocess.run([str(BIN / "seamless-config"), "validate"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    printed = (result.stdout + result.stderr).replace(f"{tmp_path}/", "")
    assert sorted(printed.splitlines()) == sorted(shown.body.splitlines()), printed


def test_seamless_init_usage_shown() -> None:
    """docs/seamless-init.md opens with seamless-init --help, as printed (the CLI reference is generated)."""
    shown = blocks.page_blocks("seamless-init.md")[0]
    assert shown.body.startswith("Usage: seamless-init")
    reference = (DOCS / "cli-reference.md").read_text(encoding="utf-8")
    help_text = reference.split("## `seamless-init`", 1)[1].split("```text\n", 1)[1].split("\n```", 1)[0]
    assert shown.body == help_text, help_text


def test_every_page_is_in_the_nav() -> None:
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for page in DOCS.glob("*.md"):
        assert page.name in nav, page.name


def test_config_file_error_is_what_yaml_examples_raise() -> None:
    with pytest.raises(ConfigFileError):
        parse_yaml("a: [1\n", Path("x.yaml"))


def _show(workdir: Path, home: Path, stage: str | None = None) -> dict[str, object]:
    from typer.testing import CliRunner

    from seamless_config.cli.config import app

    args = ["show", "--json", "--workdir", str(workdir)] + (["--stage", stage] if stage else [])
    result = CliRunner().invoke(app, args, env={"HOME": str(home)})
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def _setting(data: dict[str, object], name: str) -> object:
    return next(s["value"] for s in data["settings"] if s["name"] == name)  # type: ignore[attr-defined,index]


def test_stages_table(tmp_path: Path) -> None:
    """docs/stages.md: the table of what each stage gets, from the page's two files (show, no services)."""
    group = next(g for g in yaml_groups() if g[0][1].page == "stages.md")
    home, [project], _ = write_group(group, tmp_path)
    text = (DOCS / "stages.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "STAGE" in line or
            line.startswith("| none |")]
    assert len(rows) == 3
    for row in rows:
        stage, execution, record, storage = [c.strip().replace("`", "") for c in row.strip("|").split("|")]
        data = _show(project, home, None if stage == "none" else stage.split()[0])
        effective = data["effective"]
        assert effective["execution"] == execution, row  # type: ignore[index]
        assert str(_setting(data, "record")).lower() == record, row
        hashserver = next(s for s in data["services"] if s["service"] == "hashserver")  # type: ignore[attr-defined]
        assert hashserver.get("workdir", "").endswith("/" + storage), (row, hashserver)


def test_inheritance_example(tmp_path: Path) -> None:
    """docs/configuration.md: a script in docking/ uses bigproject, docking, local, remote; data in bigproject/docking."""
    group = next(g for g in yaml_groups() if g[0][1].page == "configuration.md" and len(g) == 2)
    home, dirs, _ = write_group(group, tmp_path)
    docking = next(d for d in dirs if d.name == "docking")
    data = _show(docking, home)
    assert [_setting(data, n) for n in ("project", "subproject", "cluster")] == ["bigproject", "docking", "local"]
    assert data["effective"]["execution"] == "remote"  # type: ignore[index]
    hashserver = next(s for s in data["services"] if s["service"] == "hashserver")  # type: ignore[attr-defined]
    assert hashserver["workdir"].endswith("seamless-data/buffers/bigproject/docking")
