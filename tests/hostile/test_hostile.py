"""The hostile-input suite: every case a clear error naming file and line (or the argument).

Cases come from ``hostile_corpus.py`` (files, API calls, ``seamless-init`` arguments,
environment values). ``hostile_worker.py`` runs them under an address-space and CPU
rlimit and an audit hook: the light cases in one process, each resource case
(alias bombs, deep nesting, huge files, long lines) in its own. Per case:

- the outcome is a ``ConfigurationError`` whose location is the file the case
  broke, with a line (whole-file problems — size, symlink loop, FIFO — name
  the file); API, CLI and environment cases name the argument;
- no process started, no signal sent, no socket opened; no source mentioning
  the canary compiled; nothing written;
- the canary file that every payload would create does not exist.

The counts are printed (``pytest -s``) and written to ``.cache/hostile-summary.txt``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import hostile_corpus as corpus  # noqa: E402

WORKER = HERE / "hostile_worker.py"
HEAVY_TIMEOUT = 120  # seconds, generous: the machine is shared; the CPU rlimit bounds the work itself
BATCH_TIMEOUT = 300


def _run_worker(cases_path: Path, out: Path, ids: list[str], timeout: float) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, str(WORKER), str(cases_path), str(out), *ids],
                          capture_output=True, text=True, timeout=timeout, env=env)
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    if proc.returncode != 0 or len(results) != len(ids):
        done = {r["id"] for r in results}
        missing = [i for i in ids if i not in done]
        pytest.fail(f"worker exited {proc.returncode} before finishing {missing[:5]}; "
                    f"stderr tail:\n{proc.stderr[-3000:]}")
    return results


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("hostile")
    cases_path = corpus.write(root)
    cases = json.loads(cases_path.read_text(encoding="utf-8"))
    light = [c["id"] for c in cases if not c["heavy"]]
    heavy = [c["id"] for c in cases if c["heavy"]]
    results = _run_worker(cases_path, root / "light.jsonl", light, BATCH_TIMEOUT)
    for n, case_id in enumerate(heavy):
        results += _run_worker(cases_path, root / f"heavy-{n}.jsonl", [case_id], HEAVY_TIMEOUT)
    yield root, cases, {r["id"]: r for r in results}
    corpus.cleanup_permissions(root)


def _problem(case: dict[str, Any], result: dict[str, Any]) -> str | None:
    """Why *result* is not a clean refusal of *case* (None if it is)."""
    if result["launched"] or result["executed"] or result["writes"]:
        return f"side effects: {result['launched'] + result['executed'] + result['writes']}"
    if case["expect_ok"]:
        return None if result["outcome"] == "returned" else f"expected to load, got {result.get('message')}"
    action = case["action"]
    if action == "cli":
        value = result.get("value") or {}
        if result["outcome"] != "returned" or value.get("exit") not in (2, 3):
            return f"expected exit 2 or 3, got {result}"
        if "Traceback" in value["stderr"] or case["expect_word"] not in value["stderr"]:
            return f"unclear CLI error: {value['stderr'][:300]}"
        return None
    if action == "remote_clients_env":
        logged = (result.get("value") or {}).get("logged", [])
        if not any(case["expect_word"] in m for m in logged):
            return f"no warning logged: {result}"
        return None
    if result["outcome"] != "config_error":
        return f"expected a configuration error, got {result['outcome']}: {result.get('type')} {result.get('message')}"
    message = result["message"]
    if case["expect_file"] is not None:
        location = result["location"]
        if location is None or location["path"] != case["expect_file"]:
            return f"error does not name {case['expect_file']}: {message[:300]}"
        if location["line"] is None and not case["whole_file"]:
            return f"error names no line: {message[:300]}"
        if case["expect_file"] not in message:
            return f"message does not name the file: {message[:300]}"
    elif case["expect_word"] is not None and case["expect_word"] not in message:
        return f"error does not name the argument ({case['expect_word']}): {message[:300]}"
    if len(message) > 2000:
        return f"message of {len(message)} characters (a payload echoed whole?)"
    return None


def test_every_case_is_a_clean_refusal(run: Any) -> None:
    root, cases, results = run
    problems = [f"{c['id']} [{c['category']}]: {why}" for c in cases
                if (why := _problem(c, results[c["id"]])) is not None]
    assert not problems, f"{len(problems)} of {len(cases)} cases:\n" + "\n".join(problems[:40])


def test_canary_absent_and_counts(run: Any) -> None:
    root, cases, results = run
    assert not (root / "canary" / "pwned").exists(), "a payload ran"
    assert list((root / "canary").iterdir()) == []
    assert len(cases) >= 150
    by_category = Counter(c["category"] for c in cases)
    for category in ("fstring", "quote", "shell", "dotdot", "nul", "newline", "dash-host", "non-utf8", "symlink",
                     "unreadable", "alias-bomb", "deep", "huge", "queue-injection", "api", "cli", "env"):
        assert by_category[category] > 0, category
    executed = sum(len(r["executed"]) for r in results.values())
    launched = sum(len(r["launched"]) for r in results.values())
    writes = sum(len(r["writes"]) for r in results.values())
    heavy = [results[c["id"]] for c in cases if c["heavy"]]
    summary = (
        f"hostile inputs tried: {len(cases)} ({sum(1 for c in cases if c['action'] == 'load')} file sets, "
        f"{sum(1 for c in cases if c['action'] not in ('load', 'cli', 'remote_clients_env'))} API calls, "
        f"{sum(1 for c in cases if c['action'] == 'cli')} seamless-init runs, "
        f"{sum(1 for c in cases if c['action'] == 'remote_clients_env')} environment values)\n"
        f"code executed: {executed}; launched (processes, signals, sockets): {launched}; files written: {writes}; "
        f"canary present: {(root / 'canary' / 'pwned').exists()}\n"
        f"by category: {dict(sorted(by_category.items()))}\n"
        f"slowest case: {max(r['seconds'] for r in results.values()):.2f} s; "
        f"largest peak RSS of a resource case (each in its own process): "
        f"{max(r['maxrss_kb'] for r in heavy) // 1024} MB (address-space limit 512 MB)\n"
        + "".join(f"  {r['id']}: {r['seconds']:.2f} s, peak RSS {r['maxrss_kb'] // 1024} MB\n" for r in heavy)
    )
    print("\n" + summary)
    try:
        (REPO / ".cache").mkdir(exist_ok=True)
        (REPO / ".cache" / "hostile-summary.txt").write_text(summary, encoding="utf-8")
    except OSError:
        pass
    assert executed == 0 and launched == 0 and writes == 0


def test_seamless_init_as_a_process(tmp_path: Path) -> None:
    """The real console script: a 100,000-character stage is a clear error (exit 3), no traceback."""
    proj, home = tmp_path / "proj", tmp_path / "home"
    proj.mkdir()
    home.mkdir()
    (proj / "seamless.yaml").write_text("- project: p\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLESS_")} | {"HOME": str(home)}
    script = "from seamless_config.cli.init import main; main()"
    proc = subprocess.run([sys.executable, "-c", script, "--stage", "s" * 100_000], cwd=proj, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "stage" in proc.stderr and len(proc.stderr) < 2000
    proc = subprocess.run([sys.executable, "-c", script], cwd=proj, capture_output=True, text=True, timeout=120,
                          env=env | {"SEAMLESS_REMOTE_CLIENTS": "{not json"})
    assert proc.returncode == 0 and "SEAMLESS_REMOTE_CLIENTS is malformed" in proc.stderr
    # A 1 MB comment line through the real CLI (main: 15-55 s, quadratic in ruamel's round-trip scanner;
    # now about a second). The timeout is a generous bound, not a benchmark.
    (proj / "seamless.yaml").write_text("- project: p\n# " + "x" * 1_000_000 + "\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", script, "-q"], cwd=proj, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
