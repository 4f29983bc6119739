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


@pytest.mark.parametrize("example", by_lang("yaml"), ids=str)
def test_yaml_examples(example: Example, tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(example.body + "\n", encoding="utf-8")
    try:
        doc = parse_yaml(example.body + "\n", path)
    except ConfigFileError:
        if example.mark == "broken":
            return  # a YAML mistake is the problem this example shows
        raise
    if example.mark == "fragment":
        return
    if isinstance(doc.data, list) or doc.data is None:
        path.rename(tmp_path / "seamless.yaml")
        report = validate(tmp_path, tmp_path / "home")
    else:
        path.rename(tmp_path / "clusters.yaml")
        report = validate_file(tmp_path / "clusters.yaml", tmp_path / "home")
    problems = [p for p in report.problems if not any(c in p.message for c in CONTEXT)]
    if example.mark == "broken":
        assert report.problems, f"{example}: expected a problem"
    else:
        assert not problems, f"{example}: {[str(p) for p in problems]}"


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
