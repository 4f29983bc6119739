"""validate never crashes: mutated copies of the broken corpus and the examples give problems, not tracebacks."""

from __future__ import annotations

import random
from pathlib import Path

from seamless_config.core.validate import validate_file

REPO = Path(__file__).resolve().parents[2]
WEIRD = ["", "null", "-3", "[]", "{}", "[a, b]", "{a: 1}", "'x y'", "1:00:00", "2020-01-01", "!!binary aGVsbG8=",
         "*a", "&a x", "yes", "0x10", ".inf", "'--'", "STAGE-x", "99999", "[[[", "'unclosed"]


def test_mutated_files_give_problems_with_lines_never_tracebacks(tmp_path: Path) -> None:
    rng = random.Random(20261201)
    sources = sorted((REPO / "tests" / "config_cli" / "broken").rglob("*.yaml")) + sorted(
        (REPO / "examples").rglob("*.yaml"))
    texts = [p.read_text() for p in sources]
    problems = 0
    for i in range(300):
        lines = rng.choice(texts).splitlines()
        op = rng.random()
        if lines and op < 0.3:
            del lines[rng.randrange(len(lines))]
        elif lines and op < 0.8:
            j = rng.randrange(len(lines))
            if ":" in lines[j]:
                lines[j] = lines[j].split(":")[0] + ": " + rng.choice(WEIRD)
        else:
            lines.insert(rng.randrange(len(lines) + 1), rng.choice(lines or [""]))
        directory = tmp_path / str(i)
        directory.mkdir()
        path = directory / ("seamless.yaml" if i % 2 else "clusters.yaml")
        path.write_text("\n".join(lines) + "\n")
        report = validate_file(path, tmp_path / "nohome")  # raises on any bug: no try/except here
        for problem in report.problems:
            assert problem.file is not None and problem.line is not None, problem
        problems += len(report.problems)
    assert problems > 150
