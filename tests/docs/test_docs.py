"""The docs site: ``mkdocs build --strict`` passes, generated pages are current, and the examples run.

Examples, by fence language:

- ``yaml``: parsed; a list is validated as a project file, a mapping as a cluster file (problems that
  need other files — an undefined cluster, a queue of a cluster defined elsewhere — are allowed).
  ``<!-- example: broken -->`` before a block: validate must report a problem;
  ``<!-- example: fragment -->``: parsed only.
- ``json``: parsed.
- ``python``: compiled (top-level ``await`` allowed); ``<!-- example: run -->`` blocks are run.
- ``console``: every ``$ seamless-config ...`` line is run (in a copy of the repository's examples,
  with a private HOME) and must exit 0; a ``$ cd DIR`` line changes directory for the next ones.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
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
FENCE = re.compile(r"(?:<!-- example: (?P<mark>\w+) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)\n```", re.S)
CONTEXT = ("is not defined", "unknown cluster", "select a cluster before", "has no queue", "defines no queues",
           "names no defined cluster")


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    lang: str
    mark: str | None
    body: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def examples() -> list[Example]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            found.append(Example(page.name, text.count("\n", 0, m.start()) + 1, m["lang"], m["mark"], m["body"]))
    return found


EXAMPLES = examples()


def by_lang(*langs: str) -> list[Example]:
    return [e for e in EXAMPLES if e.lang in langs]


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


@pytest.mark.parametrize("example", by_lang("json"), ids=str)
def test_json_examples(example: Example) -> None:
    try:
        json.loads(example.body)
    except json.JSONDecodeError:
        json.loads("[" + example.body + "]")  # an excerpt: a few elements of a list


@pytest.mark.parametrize("example", by_lang("python"), ids=str)
def test_python_examples(example: Example, tmp_path: Path) -> None:
    compile(example.body, str(example), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if example.mark != "run":
        return
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLESS_")} | {"HOME": str(home)}
    result = subprocess.run([sys.executable, "-c", example.body], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{example}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("example", [e for e in by_lang("console") if "$ seamless-config" in e.body], ids=str)
def test_console_examples(example: Example, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "examples", root / "examples")
    shutil.copytree(REPO / "tests" / "config_cli" / "broken", root / "tests" / "config_cli" / "broken")
    home = tmp_path / "home"
    (home / ".seamless").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLESS_")}
    env |= {"HOME": str(home), "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}
    cwd = root
    ran = 0
    for line in example.body.splitlines():
        if not line.startswith("$ "):
            continue
        command = line[2:].split("  #")[0].strip()
        words = shlex.split(command)
        if words[0] == "cd":
            cwd = cwd / words[1]
            continue
        if words[0] != "seamless-config":
            continue
        result = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
        expected = 1 if words[1] == "validate" and "broken" in command else 0
        assert result.returncode == expected, f"{example}: {command}\n{result.stdout}{result.stderr}"
        assert "Traceback" not in result.stderr
        ran += 1
    assert ran


def test_every_page_is_in_the_nav() -> None:
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for page in DOCS.glob("*.md"):
        assert page.name in nav, page.name


def test_config_file_error_is_what_yaml_examples_raise() -> None:
    with pytest.raises(ConfigFileError):
        parse_yaml("a: [1\n", Path("x.yaml"))
