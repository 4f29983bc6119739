"""Differential test: the reference seamless-config 0.3.2 vs ours, query by query.

The reference runs in a venv made by ``scripts/make_reference_venv.sh``; ours is
whatever ``seamless_config`` ``sys.executable`` imports. Both run the same
standalone ``driver.py`` on the same generated corpus (``corpus.py``); the
outcomes are compared case by case: equal values, and where one raises, the
other raises (exception classes and messages may differ).

Environment knobs:
  DIFF_REF_PYTHON    use this interpreter as the reference (skip building the venv)
  DIFF_OURS_PYTHON   use this interpreter as "ours" (default: sys.executable);
                     point both at the reference to self-test the harness
  DIFF_SEED          corpus seed (default: corpus.DEFAULT_SEED)
  DIFF_REPORT_LIMIT  how many disagreements to show in full (default 10)

A summary (cases, queries compared, disagreements) is printed, written to
``<tmp>/differential-summary.txt`` and ``<repo>/.cache/differential-summary.txt``,
and included in the assertion message on failure.
"""

from __future__ import annotations

import collections
import concurrent.futures
import importlib.util
import json
from collections import Counter
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from intended_divergences import INTENDED_VALUES, excused_value  # noqa: F401  (INTENDED_VALUES: see INTENDED); tests/ is on pythonpath

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DRIVER = HERE / "driver.py"
MAKE_VENV = REPO / "scripts" / "make_reference_venv.sh"
DRIVER_TIMEOUT = 300  # seconds for one driver process
MAX_RESTARTS = 30
STEPS = ("import", "set_workdir", "load", "change_stage")


def _load_corpus_module() -> Any:
    spec = importlib.util.spec_from_file_location("_differential_corpus", HERE / "corpus.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------ reference


def _reference_python() -> str:
    explicit = os.environ.get("DIFF_REF_PYTHON")
    if explicit:
        return explicit
    in_ci = bool(os.environ.get("CI"))
    try:
        proc = subprocess.run(
            ["bash", str(MAKE_VENV)],
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, "PYTHON": os.environ.get("DIFF_VENV_BASE_PYTHON", sys.executable)},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        reason = f"reference venv could not be created: {exc!r}"
        if in_ci:
            pytest.fail(reason)
        pytest.skip(reason)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        reason = (
            "reference venv (seamless-config 0.3.2 from PyPI) could not be created "
            f"(is PyPI reachable?); make_reference_venv.sh exited {proc.returncode}:\n{tail}"
        )
        if in_ci:
            pytest.fail(reason)
        pytest.skip(reason)
    return proc.stdout.strip().splitlines()[-1]


# --------------------------------------------------------------------- driver


def _crash_result(case: dict[str, Any], why: str) -> dict[str, Any]:
    return {"id": case["id"], "runs": {p: {"crash": why} for p in case["paths"]}}


def run_driver(python: str, cases: list[dict[str, Any]], workdir: Path, label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the driver over *cases*; restart past a case that kills or hangs it.

    Returns ({case id: result}, info of the first driver process).
    """
    results: dict[str, Any] = {}
    info: dict[str, Any] = {}
    remaining = list(cases)
    attempt = 0
    while remaining:
        attempt += 1
        cases_file = workdir / f"{label}-cases-{attempt}.json"
        out_file = workdir / f"{label}-out-{attempt}.jsonl"
        err_file = workdir / f"{label}-err-{attempt}.txt"
        cases_file.write_text(json.dumps(remaining), encoding="utf-8")
        with open(err_file, "w", encoding="utf-8") as err:
            try:
                proc = subprocess.run(
                    [python, str(DRIVER), str(cases_file), str(out_file)],
                    stdout=err,
                    stderr=subprocess.STDOUT,
                    timeout=DRIVER_TIMEOUT,
                    cwd=str(workdir),
                )
                rc: int | str = proc.returncode
            except subprocess.TimeoutExpired:
                rc = f"timeout after {DRIVER_TIMEOUT}s"
        started: str | None = None
        done = False
        if out_file.exists():
            for line in out_file.read_text(encoding="utf-8").splitlines():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    break  # a torn last line: the process died while writing
                if "info" in obj and not info:
                    info = obj["info"]
                elif "start" in obj:
                    started = obj["start"]
                elif "result" in obj:
                    results[obj["result"]["id"]] = obj["result"]
                    started = None
                elif obj.get("done"):
                    done = True
        remaining = [c for c in remaining if c["id"] not in results]
        if done and not remaining:
            break
        tail = err_file.read_text(encoding="utf-8", errors="replace")[-1500:]
        why = f"driver process ended (rc={rc}) during this case; output tail:\n{tail}"
        by_id = {c["id"]: c for c in remaining}
        if started is not None and started in by_id:
            results[started] = _crash_result(by_id[started], why)
        elif remaining:
            # Died before starting any case (e.g. cannot even start): mark all.
            for c in remaining:
                results[c["id"]] = _crash_result(c, why)
        remaining = [c for c in remaining if c["id"] not in results]
        if attempt >= MAX_RESTARTS:
            for c in remaining:
                results[c["id"]] = _crash_result(c, "not run: too many driver restarts")
            break
    return results, info


def run_both(ref_python: str, ours_python: str, cases: list[dict[str, Any]], workdir: Path
             ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Run both implementations, sharded over the CPUs (ours' shards first: slower)."""
    nshards = max(2, min(8, os.cpu_count() or 2))
    jobs = []
    for label, python in (("ours", ours_python), ("ref", ref_python)):
        for k in range(nshards):
            chunk = cases[k::nshards]
            if chunk:
                jobs.append((label, python, chunk, f"{label}{k}"))
    results: dict[str, dict[str, Any]] = {"ref": {}, "ours": {}}
    infos: dict[str, dict[str, Any]] = {"ref": {}, "ours": {}}
    with concurrent.futures.ThreadPoolExecutor(max_workers=nshards) as pool:
        futures = {pool.submit(run_driver, py, chunk, workdir, tag): label
                   for label, py, chunk, tag in jobs}
        for fut in concurrent.futures.as_completed(futures):
            label = futures[fut]
            res, info = fut.result()
            results[label].update(res)
            if info and not infos[label]:
                infos[label] = info
    return results["ref"], results["ours"], infos["ref"], infos["ours"]


# ----------------------------------------------------------------- comparison


def _agree(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    if a is None or b is None:
        return a is b
    if "error" in a or "error" in b:
        return "error" in a and "error" in b
    return a.get("value") == b.get("value")


def _error_kind(o: dict[str, Any]) -> tuple[bool, bool]:
    return bool(o.get("is_value_error")), bool(o.get("is_configuration_error"))


def compare(cases: list[dict[str, Any]], ref: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    disagreements: list[dict[str, Any]] = []
    kind_mismatches: list[dict[str, Any]] = []
    compared = 0
    crashes = 0
    both_value = 0
    both_error = 0
    for case in cases:
        cid = case["id"]
        r_case, o_case = ref.get(cid), ours.get(cid)
        for path in case["paths"]:
            r = (r_case or {}).get("runs", {}).get(path, {"crash": "missing result"})
            o = (o_case or {}).get("runs", {}).get(path, {"crash": "missing result"})

            def dis(query: str, rv: Any, ov: Any, note: str = "") -> None:
                disagreements.append(
                    {"case": case, "path": path, "query": query, "ref": rv, "ours": ov, "note": note,
                     "ref_warnings": r.get("warnings"), "ours_warnings": o.get("warnings")}
                )

            if "crash" in r or "crash" in o:
                crashes += 1
                compared += 1
                dis("<driver crash>", r.get("crash", "(no crash)"), o.get("crash", "(no crash)"))
                continue
            load_failed = False
            for step in STEPS:
                rs, os_ = r.get(step), o.get(step)
                if rs is None and os_ is None:
                    continue
                compared += 1
                if not _agree(rs, os_):
                    dis(step, rs, os_, "later queries not compared")
                    load_failed = True
                    break
                if rs is not None and "error" in rs:
                    if _error_kind(rs) != _error_kind(os_ or {}):
                        kind_mismatches.append({"case": case, "path": path, "query": step, "ref": rs, "ours": os_})
                    if step != "change_stage":
                        load_failed = True  # both failed to load: state is not comparable
                        break
            if load_failed:
                continue
            compared += 1
            rw = [w for w in r.get("warnings", [])]
            ow = [w for w in o.get("warnings", [])]
            if len(rw) != len(ow):
                dis("warnings (count)", rw, ow)
            rq, oq = r.get("queries", {}), o.get("queries", {})
            for q in sorted(set(rq) | set(oq)):
                compared += 1
                a, b = rq.get(q), oq.get(q)
                if _agree(a, b) and a is not None:
                    if "error" in a:
                        both_error += 1
                    else:
                        both_value += 1
                if not _agree(a, b):
                    dis(q, a, b)
                elif a is not None and "error" in a and _error_kind(a) != _error_kind(b or {}):
                    kind_mismatches.append({"case": case, "path": path, "query": q, "ref": a, "ours": b})
    return {
        "compared": compared,
        "crashes": crashes,
        "both_value": both_value,
        "both_error": both_error,
        "disagreements": disagreements,
        "kind_mismatches": kind_mismatches,
    }


def _short(o: Any, limit: int = 1500) -> str:
    if isinstance(o, dict) and "error" in o:
        return f"raises {o['error']} (ValueError={o.get('is_value_error')}, ConfigurationError={o.get('is_configuration_error')}): {o.get('message', '')}"
    if isinstance(o, dict) and "value" in o:
        text = json.dumps(o["value"], sort_keys=True)
    else:
        text = o if isinstance(o, str) else json.dumps(o, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + " ..."


def _value_diff(a: Any, b: Any) -> str:
    """For two dict values, list only the differing keys."""
    if not (isinstance(a, dict) and isinstance(b, dict) and "value" in a and "value" in b):
        return ""
    va, vb = a["value"], b["value"]
    if not (isinstance(va, dict) and isinstance(vb, dict)):
        return ""
    lines = []

    def walk(x: Any, y: Any, prefix: str) -> None:
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                if k not in x:
                    lines.append(f"      {prefix}{k}: <absent> vs {json.dumps(y[k])[:300]}")
                elif k not in y:
                    lines.append(f"      {prefix}{k}: {json.dumps(x[k])[:300]} vs <absent>")
                else:
                    walk(x[k], y[k], f"{prefix}{k}.")
        elif x != y:
            lines.append(f"      {prefix.rstrip('.')}: {json.dumps(x)[:300]} vs {json.dumps(y)[:300]}")

    walk(va, vb, "")
    return "    differing keys (ref vs ours):\n" + "\n".join(lines[:25]) + "\n" if lines else ""


def format_disagreement(n: int, d: dict[str, Any]) -> str:
    case = d["case"]
    files = "".join(
        f"      --- {rel}\n" + "".join(f"      | {line}\n" for line in text.splitlines()[:40])
        for rel, text in case["files"].items()
    ) or "      (no files)\n"
    call = "init()" if case["api"] == "init" else f"set_stage({case['stage']!r}, {case['substage']!r})"
    if d["path"] == "low":
        call = f"select_stage({case['stage']!r}); select_substage({case['substage']!r}); load_config_files(); change_stage()"
    env = f"    env: {case['env']}\n" if case["env"] else ""
    text = (
        f"[{n}] {case['id']}: {case['description']}\n"
        f"    path: {d['path']} -> {call} (workdir {case['workdir_rel']})\n{env}"
        f"    query: {d['query']}{' (' + d['note'] + ')' if d['note'] else ''}\n"
        f"    ref : {_short(d['ref'])}\n"
        f"    ours: {_short(d['ours'])}\n"
        + _value_diff(d["ref"], d["ours"])
    )
    if d["query"].startswith("warnings"):
        pass
    elif d["ref_warnings"] != d["ours_warnings"]:
        text += f"    warnings ref : {[w['message'][:80] for w in d['ref_warnings'] or []]}\n"
        text += f"    warnings ours: {[w['message'][:80] for w in d['ours_warnings'] or []]}\n"
    return text + "    files:\n" + files


def build_summary(cases: list[dict[str, Any]], cmp: dict[str, Any], infos: dict[str, Any], elapsed: float) -> str:
    dis = cmp["disagreements"]
    limit = int(os.environ.get("DIFF_REPORT_LIMIT", "10"))
    by_query = collections.Counter(d["query"] for d in dis)
    cases_with = len({d["case"]["id"] for d in dis})
    lines = [
        "differential test: reference seamless-config 0.3.2 vs ours",
        f"  reference: {infos.get('ref')}",
        f"  ours     : {infos.get('ours')}",
        f"  cases: {len(cases)} ({sum(len(c['paths']) for c in cases)} runs: load paths x cases)",
        f"  queries compared: {cmp['compared']} (load steps, warnings and queries; of the queries "
        f"after a load both accepted: {cmp['both_value']} equal values, {cmp['both_error']} both raise)",
        f"  disagreements: {len(dis)} in {cases_with} cases; driver crashes: {cmp['crashes']}",
        f"  error-kind differences (both raise, ValueError/ConfigurationError-ness differs; informational): "
        f"{len(cmp['kind_mismatches'])}",
        f"  elapsed: {elapsed:.1f}s",
    ]
    if by_query:
        lines.append("  disagreements by query: " + ", ".join(f"{q}={n}" for q, n in by_query.most_common()))
    kinds = collections.Counter(
        (k["query"].split("[")[0], k["ref"]["error"], k["ours"]["error"]) for k in cmp["kind_mismatches"]
    )
    if kinds:
        lines.append("  error-kind differences by (step/query, ref class -> ours class): " + ", ".join(
            f"{q}: {a}->{b} x{n}" for (q, a, b), n in kinds.most_common()))
    text = "\n".join(lines) + "\n"
    if dis:
        # Group identical findings (same case and query, e.g. in both load paths),
        # then show the first of each query kind before repeating a kind, so
        # that the first N are not all the same symptom.
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for d in dis:
            groups.setdefault((d["case"]["id"], d["query"]), []).append(d)
        ordered: list[list[dict[str, Any]]] = []
        kinds_seen: set[str] = set()
        rest: list[list[dict[str, Any]]] = []
        for g in groups.values():
            (rest if g[0]["query"] in kinds_seen else ordered).append(g)
            kinds_seen.add(g[0]["query"])
        ordered += rest
        text += f"\nfirst {min(limit, len(ordered))} of {len(ordered)} findings (one per case and query):\n\n"
        for n, g in enumerate(ordered[:limit], 1):
            text += format_disagreement(n, g[0])
            if len(g) > 1:
                text += "    (also in path(s): " + ", ".join(d["path"] for d in g[1:]) + ")\n"
            text += "\n"
    return text


# ----------------------------------------------------------------------- test


# Intended divergences: each is a place where we refuse what the reference silently
# misread, or accept what it crashed on. A disagreement is excused only when ours
# (or the reference) failed with exactly this kind of message.
# Intended differences between two *values* are INTENDED_VALUES (tests/intended_divergences.py,
# shared with tests/unit's comparisons): e.g. no 'job_cores' for an exclusive queue with 'cores'.
INTENDED: list[tuple[str, str, str]] = [
    # (side that raises, message fragment, why)
    ("ours", "is read by YAML 1.1 as the number", "unquoted sexagesimal durations meant 3600 minutes to SLURM; we ask to quote them"),
    ("ours", "must be a whole number, not", "wrong types in cluster files were passed on unchecked"),
    ("ours", "must be true or false, not", "wrong types in cluster files were passed on unchecked"),
    ("ours", "(with a space) for a stage block", "'stageprod:' was silently read as 'stage prod:'"),
    ("ours", "unknown command", "typos of command names are reported even in inactive stage blocks"),
    ("ref", "unexpected keyword argument 'job_script_prologue'", "reference bug: a field it uses could not be set"),
    ("ref", "'NoneType' object is not iterable", "reference crashed on an empty clusters file"),
    # Excused only where ours accepts: the empty / comment-only file, which we read as "no commands"
    # (non-empty files that are not a list of commands are refused by both).
    ("ref", "expected a YAML list of commands", "an empty or comment-only seamless.yaml / seamless.profile.yaml "
     "means 'no commands' (the reference refused it; users create the file before writing it)"),
    ("ours", "names no queue of cluster", "a default_queue naming no queue passed the load and failed at first use; "
     "now it is reported at its own line when the file is loaded"),
]


def _excused(d: dict[str, Any]) -> str | None:
    ref_outcome, ours_outcome = d.get("ref"), d.get("ours")
    if (isinstance(ref_outcome, dict) and "value" in ref_outcome and isinstance(ours_outcome, dict)
            and "value" in ours_outcome):
        # value divergences (tests/intended_divergences.py): the reference's value, changed as intended
        return excused_value(ref_outcome["value"], ours_outcome["value"])
    for side, fragment, why in INTENDED:
        outcome = d.get(side if side == "ours" else "ref")
        other = d.get("ref" if side == "ours" else "ours")
        if (isinstance(outcome, dict) and "error" in outcome and fragment in str(outcome.get("message", ""))
                and isinstance(other, dict) and "error" not in other):
            return why
    return None


def test_reference_vs_ours(tmp_path: Path) -> None:
    t0 = time.monotonic()
    ref_python = _reference_python()
    ours_python = os.environ.get("DIFF_OURS_PYTHON", sys.executable)
    corpus = _load_corpus_module()
    seed = int(os.environ.get("DIFF_SEED", corpus.DEFAULT_SEED))
    cases = corpus.generate(tmp_path / "corpus", seed)
    assert len(cases) >= 250

    ref, ours, ref_info, ours_info = run_both(ref_python, ours_python, cases, tmp_path)
    cmp = compare(cases, ref, ours)
    excused = [(d, why) for d in cmp["disagreements"] if (why := _excused(d)) is not None]
    cmp["disagreements"] = [d for d in cmp["disagreements"] if _excused(d) is None]
    summary = build_summary(cases, cmp, {"ref": ref_info, "ours": ours_info}, time.monotonic() - t0)

    (tmp_path / "differential-summary.txt").write_text(summary, encoding="utf-8")
    (tmp_path / "differential-disagreements.json").write_text(
        json.dumps([{k: v for k, v in d.items()} for d in cmp["disagreements"]], indent=1, default=str),
        encoding="utf-8",
    )
    try:
        cache = REPO / ".cache"
        cache.mkdir(exist_ok=True)
        (cache / "differential-summary.txt").write_text(summary, encoding="utf-8")
        (cache / "differential-disagreements.json").write_text(
            (tmp_path / "differential-disagreements.json").read_text(encoding="utf-8"), encoding="utf-8")
    except OSError:
        pass
    reasons = Counter(why for _, why in excused)
    summary += "\n\nintended divergences (excused): " + str(len(excused)) + "\n" + "\n".join(
        f"  {n:3d} x {why}" for why, n in reasons.most_common())
    print(summary)
    assert ref_info.get("seamless_config_version") == "0.3.2", ref_info
    assert not cmp["disagreements"], summary
