"""Execution modes on a local cluster: cold ``seamless-init`` with a daskserver (ours vs the reference),
and the time from ``seamless-init`` start to the first result of each mode.

    .venv/bin/python scripts/bench/bench_modes.py --runs 3

Part 1 (same run, interleaved): a fresh ``type: local`` cluster with hashserver + database +
daskserver (``distributed.LocalCluster``), cold ``seamless-init``, ours and the reference
(seamless-config 0.3.2 with the published stack, ``.cache/reference-full-venv``, built by
bench_hang.py's helper). Part 2 (ours): per mode, a fresh cluster, ``seamless-init``, then the
mode's script; the figure is ``seamless-init`` wall time + the script's time to its first result.
Results on stdout and in ``.cache/bench/bench_modes.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "modes"))
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "scripts" / "bench"))

from bench_hang import ensure_reference_venv  # noqa: E402
from modes_cluster import stop_services, write_modes_project  # noqa: E402
from scripts import ADD, SPAWN  # noqa: E402


def _env(proj: Any, python: Path) -> dict[str, str]:
    env = dict(proj.env)
    env["PATH"] = os.pathsep.join([str(python.parent), env["PATH"]])
    return env


def cold_init(python: Path, impl: str) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"bench-modes-init-{impl}-"))
    try:
        proj = write_modes_project(root, backend="daskserver")
        t0 = time.monotonic()
        done = subprocess.run([str(python.parent / "seamless-init")], cwd=proj.project_dir, env=_env(proj, python),
                              capture_output=True, text=True, timeout=180)
        seconds = time.monotonic() - t0
        states = {s.get("meta", {}).get("service") or k.split("-")[0]: s.get("status")
                  for k, s in proj.server_states().items()}
        return {"impl": impl, "seconds": round(seconds, 2), "returncode": done.returncode, "services": states,
                "stderr_tail": done.stderr[-400:] if done.returncode else ""}
    finally:
        stop_services(root / "home")
        shutil.rmtree(root, ignore_errors=True)


PURE = """
    import json, os, time
    t0 = time.monotonic()
    import seamless.config
    from seamless_config import pure_daskserver
    seamless.config.init()
    client = pure_daskserver.get_client()
    value = client.submit(lambda x: x + 1, 41, pure=False).result(timeout=60)
    print("MODES-RESULT", json.dumps({"result": value, "first_result_seconds": round(time.monotonic() - t0, 3)}))
"""

MODES: dict[str, dict[str, Any]] = {
    "process (stored)": {"kwargs": {"backend": "none", "execution": "process"}, "script": ADD},
    "spawn": {"kwargs": {"backend": "none", "execution": "spawn"}, "script": SPAWN},
    "remote: jobserver": {"kwargs": {"backend": "jobserver"}, "script": ADD},
    "remote: daskserver": {"kwargs": {"backend": "daskserver"}, "script": ADD},
    "pure Dask": {"kwargs": {"backend": "daskserver", "persistent": False}, "script": PURE},
}


def mode_run(python: Path, mode: str) -> dict[str, Any]:
    spec = MODES[mode]
    root = Path(tempfile.mkdtemp(prefix="bench-modes-run-"))
    try:
        proj = write_modes_project(root, **spec["kwargs"])
        script = proj.write_script("first.py", spec["script"])
        env = _env(proj, python)
        t0 = time.monotonic()
        init = subprocess.run([str(python.parent / "seamless-init")], cwd=proj.project_dir, env=env,
                              capture_output=True, text=True, timeout=180)
        t_init = time.monotonic() - t0
        run = subprocess.run([str(python), str(script), str(root / "marker"), str(time.time())],
                             cwd=proj.project_dir, env=env, capture_output=True, text=True, timeout=120)
        result = None
        for line in run.stdout.splitlines():
            if line.startswith("MODES-RESULT "):
                result = json.loads(line.split(" ", 1)[1])
        ok = init.returncode == 0 and run.returncode == 0 and result is not None
        first = t_init + result["first_result_seconds"] if ok and result else None
        return {"mode": mode, "ok": ok, "seamless_init_seconds": round(t_init, 2),
                "first_result_seconds": round(first, 2) if first is not None else None,
                "error": "" if ok else (init.stderr + run.stderr)[-500:]}
    finally:
        stop_services(root / "home")
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-modes", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / ".cache" / "bench" / "bench_modes.json")
    args = parser.parse_args()
    ours = REPO / ".venv" / "bin" / "python"
    pythons = {"ours": ours}
    if not args.skip_reference:
        pythons["reference"] = ensure_reference_venv(REPO / ".cache" / "reference-full-venv")
    inits: list[dict[str, Any]] = []
    for _ in range(args.runs):
        for impl, python in pythons.items():
            inits.append(cold_init(python, impl))
            print(json.dumps(inits[-1]), flush=True)
    modes: list[dict[str, Any]] = []
    if not args.skip_modes:
        for _ in range(args.runs):
            for mode in MODES:
                modes.append(mode_run(ours, mode))
                print(json.dumps(modes[-1]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"cold_init": inits, "modes": modes}, indent=1))

    print("\ncold seamless-init, remote: daskserver, type: local (median of ok runs)")
    medians = {}
    for impl in pythons:
        ok = [r["seconds"] for r in inits if r["impl"] == impl and r["returncode"] == 0]
        medians[impl] = statistics.median(ok) if ok else float("nan")
        print(f"  {impl:<10} {medians[impl]:6.2f} s   ({len(ok)}/{sum(r['impl'] == impl for r in inits)} ok)")
    if "reference" in medians:
        print(f"  ours/reference = {medians['ours'] / medians['reference']:.2f}")
    if modes:
        print("\nmode (placement: client)      result   seamless-init start -> first result (median)")
        for mode in MODES:
            rows = [r for r in modes if r["mode"] == mode]
            ok = [r["first_result_seconds"] for r in rows if r["ok"]]
            median = f"{statistics.median(ok):.1f} s" if ok else "-"
            print(f"  {mode:<26} {len(ok)}/{len(rows)} ok   {median}")


if __name__ == "__main__":
    main()
