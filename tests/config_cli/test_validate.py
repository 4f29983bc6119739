"""``seamless-config validate`` on a corpus of broken files: every problem at its line, with a fix.

Each file under ``broken/`` marks the lines where a problem must be reported
with ``#! fragment`` (several markers on a line: several problems there).
``*.clusters.yaml`` files are cluster files; directories are projects
(validated from ``child/`` when there is one, so the chain is followed).
The test requires exactly the marked problems: none missing, none extra,
and no traceback.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seamless_config.cli.config import app
from seamless_config.errors import ConfigFileError

BROKEN = Path(__file__).resolve().parent / "broken"
CASES = sorted(p.name for p in BROKEN.iterdir())
# Each message says what to do: one of these words (or a did-you-mean) is in every one.
FIX = re.compile(r"did you mean|valid:|\buse\b|\badd\b|\bset\b|quote|remove|must be|write|fix|needs|"
                 r"expects|expected|select|define|check", re.IGNORECASE)


def markers(root: Path) -> dict[tuple[str, int], list[str]]:
    expected: dict[tuple[str, int], list[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            fragments = [f.strip() for f in line.split("#!")[1:]]
            if fragments:
                expected[(str(path.resolve()), number)] = fragments
    return expected


def run_validate(*paths: Path) -> tuple[int, dict[str, object], str]:
    result = CliRunner().invoke(app, ["validate", "--json", *map(str, paths)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout), result.output


def test_corpus_is_big_enough() -> None:
    files = [p for p in BROKEN.rglob("*") if p.is_file()]
    assert len(files) >= 60
    multi = [c for c in CASES if sum(len(v) for v in markers(BROKEN / c if (BROKEN / c).is_dir() else BROKEN).values()) > 1]
    assert multi


@pytest.mark.parametrize("case", CASES)
def test_every_problem_at_its_line(case: str, tmp_path: Path) -> None:
    source = BROKEN / case
    if source.is_dir():
        root = tmp_path / case
        shutil.copytree(source, root)
        target = root / "child" if (root / "child").is_dir() else root
    else:
        root = tmp_path / "files"
        root.mkdir()
        shutil.copy(source, root / case)
        target = root / case
    expected = markers(root)
    code, data, output = run_validate(target)
    assert code == 1, output
    problems = data["problems"]
    assert isinstance(problems, list)
    found: dict[tuple[str, int], list[str]] = {}
    for p in problems:
        found.setdefault((p["file"], p["line"]), []).append(p["message"])
        assert FIX.search(p["message"]), p["message"]
        assert p["column"] is not None, p
    assert set(found) == set(expected), f"reported {found}\nexpected {expected}"
    for where, fragments in expected.items():
        messages = found[where]
        assert len(messages) == len(fragments), (where, messages)
        for fragment in fragments:
            assert any(fragment in m for m in messages), (where, fragment, messages)


def test_several_problems_in_one_file_all_reported(tmp_path: Path) -> None:
    shutil.copy(BROKEN / "c42_many_problems.clusters.yaml", tmp_path / "clusters.yaml")
    code, data, _ = run_validate(tmp_path / "clusters.yaml")
    assert code == 1 and len(data["problems"]) == 7  # type: ignore[arg-type]


def test_clean_project_exits_0(tmp_path: Path) -> None:
    (tmp_path / "seamless.yaml").write_text("- project: p\n")
    (tmp_path / "seamless.profile.yaml").write_text("# nothing yet\n")
    code, data, _ = run_validate(tmp_path)
    assert code == 0 and data["ok"] is True and data["problems"] == []


def test_cluster_files_in_home_are_checked(tmp_path: Path, home: Path) -> None:
    (home / ".seamless").mkdir()
    (home / ".seamless" / "clusters.yaml").write_text("c:\n  type: local\n  workers: -2\n  frontends: []\n")
    (tmp_path / "seamless.yaml").write_text("- project: p\n- cluster: c\n")
    code, data, _ = run_validate(tmp_path)
    assert code == 1
    [problem] = data["problems"]  # type: ignore[misc]
    assert problem["file"].endswith(".seamless/clusters.yaml") and problem["line"] == 3


@pytest.mark.parametrize("kind", ["dangling", "loop"])
def test_broken_symlink_in_the_chain(tmp_path: Path, kind: str) -> None:
    (tmp_path / "seamless.yaml").write_text("- project: p\n")
    link = tmp_path / "seamless.profile.yaml"
    link.symlink_to(tmp_path / ("nowhere.yaml" if kind == "dangling" else "seamless.profile.yaml"))
    child = tmp_path / "child"
    child.mkdir()
    (child / "seamless.yaml").write_text("- inherit_from_parent\n")
    code, data, _ = run_validate(child)
    assert code == 1
    [problem] = data["problems"]  # type: ignore[misc]
    assert problem["file"] == str(link) and ("symlink" in problem["message"])


def test_init_fails_fast_with_the_same_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader stops at its first problem; validate reports it too, with the same message and place."""
    from seamless_config.core.discovery import cluster_files
    from seamless_config.state import STATE

    shutil.copy(BROKEN / "c42_many_problems.clusters.yaml", tmp_path / "clusters.yaml")
    _, data, _ = run_validate(tmp_path / "clusters.yaml")
    home = tmp_path / "h"
    (home / ".seamless").mkdir(parents=True)
    shutil.copy(tmp_path / "clusters.yaml", home / ".seamless" / "clusters.yaml")
    (tmp_path / "seamless.yaml").write_text("- project: p\n")
    monkeypatch.setenv("HOME", str(home))
    assert cluster_files(home)
    STATE.set_workdir(str(tmp_path))
    with pytest.raises(ConfigFileError) as info:
        STATE.load_files()
    err = info.value
    assert err.location is not None
    reported = {(p["line"], p["column"], p["message"]) for p in data["problems"]}  # type: ignore[union-attr]
    assert (err.location.line, err.location.column, err.reason) in reported


def test_text_output_and_missing_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "absent")])
    assert result.exit_code == 1 and "no such file or directory" in result.output


# The "precise positions", each at the place a user looks (file bytes, the file's name, the
# line:column validate must report, a fragment of the message). The corpus above has the text ones too
# (p35, c49, c50, c03, c11/c12, c29/c30); bytes that are not text cannot carry '#!' markers, so they are here.
PRECISE = [
    ("unclosed quote", b'- project: p\n- cluster: "abc\n- execution: remote\n', "seamless.yaml", 2, 12,
     "quoted string is never closed"),
    ("unclosed bracket", b"- project: p\n- clusters: {c: {type: local,\n\n- execution: remote\n", "seamless.yaml",
     2, 17, "'{' is never closed"),
    ("unclosed list", b"c:\n  type: local\n  frontends: [\n    {hostname: h}\n", "clusters.yaml", 3, 14,
     "'[' is never closed"),
    ("NUL", b'- project: p\n- cluster: "a\x00b"\n', "seamless.yaml", 2, 14, "U+0000 (NUL)"),
    ("BEL", b"- project: p\n- cluster: a\x07b\n", "seamless.yaml", 2, 13, "U+0007 (BEL)"),
    ("not UTF-8", b"- project: p\n- cluster: caf\xe9\n", "seamless.yaml", 2, 15, "not UTF-8"),
    ("port", b"c:\n  type: local\n  workers: 2\n  frontends:\n    - hashserver:\n        bufferdir: /b\n"
     b"        port_start: 1\n        port_end: 70000\n", "clusters.yaml", 8, 9, "'port_end: 70000' is out of range"),
    ("duplicate key", b"c:\n  type: local\n  workers: 2\n  workers: 3\n  frontends: []\n", "clusters.yaml", 4, 3,
     "duplicate key 'workers' (first at line 3)"),
    ("duplicate command key", b"- project: p\n- stage a:\n    - {record: true, record: false}\n", "seamless.yaml",
     3, 22, "duplicate key 'record'"),
    ("workers -2", b"c:\n  type: local\n  workers: -2\n  frontends: []\n", "clusters.yaml", 3, 3,
     "'workers: -2' is out of range"),
    ("default_queue", b"c:\n  type: slurm\n  frontends: [{hostname: h}]\n  default_queue: gpu\n  queues:\n"
     b"    cpu: {cores: 1}\n", "clusters.yaml", 4, 3, "names no queue"),
]


@pytest.mark.parametrize("content, name, line, column, fragment",
                         [case[1:] for case in PRECISE], ids=[case[0] for case in PRECISE])
def test_precise_positions(tmp_path: Path, content: bytes, name: str, line: int, column: int, fragment: str) -> None:
    (tmp_path / name).write_bytes(content)
    code, data, output = run_validate(tmp_path / name if name == "clusters.yaml" else tmp_path)
    assert code == 1, output
    problems = data["problems"]
    assert isinstance(problems, list)
    assert [(p["line"], p["column"]) for p in problems if fragment in p["message"]] == [(line, column)], problems


@pytest.mark.parametrize("content", ["", "\n", "# nothing yet\n", "# a\n\n# b\n"])
@pytest.mark.parametrize("name", ["seamless.yaml", "seamless.profile.yaml"])
def test_empty_or_comment_only_file_means_no_commands(tmp_path: Path, name: str, content: str) -> None:
    """An intended divergence from 0.3.2 (which rejected it): listed in tests/differential INTENDED."""
    (tmp_path / name).write_text(content)
    code, data, output = run_validate(tmp_path)
    assert code == 0 and data["problems"] == [], output
    differential = (Path(__file__).resolve().parents[1] / "differential" / "test_differential.py").read_text()
    assert "an empty or comment-only seamless.yaml / seamless.profile.yaml" in differential


_LOCAL = ("- clusters:\n    c:\n      type: local\n      frontends:\n        - hashserver: {bufferdir: /b}\n"
          "          database: {database_dir: /d}\n")
COMBINATIONS = {
    "execution is 'remote' but no cluster is selected": "- project: p\n- execution: remote\n",
    "Cluster 'c' has a jobserver but no 'workers'": _LOCAL + "          jobserver: {network_interface: 127.0.0.1, "
    "port_start: 55000, port_end: 55010}\n- cluster: c\n- execution: remote\n- project: p\n",
    "No queue selected and cluster 'c' has no default queue": _LOCAL + "          daskserver: {network_interface: "
    "127.0.0.1, port_start: 55020, port_end: 55030}\n      queues: {main: {cores: 1}}\n- cluster: c\n"
    "- execution: remote\n- project: p\n",
    "(stage prod)": "- project: p\n- stage prod:\n    - execution: remote\n",
}


@pytest.mark.parametrize("fragment", list(COMBINATIONS))
def test_settings_wrong_together_are_problems(tmp_path: Path, fragment: str) -> None:
    """Each file right, the combination not: validate reports what init() would refuse (it said 'no problems')."""
    (tmp_path / "seamless.yaml").write_text(COMBINATIONS[fragment])
    code, data, output = run_validate(tmp_path)
    assert code == 1, output
    messages = [p["message"] for p in data["problems"]]  # type: ignore[index]
    assert any(fragment in m for m in messages), messages
