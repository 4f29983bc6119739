"""Stress figure for the remote-transformation hang: fresh trials, ours next to the reference, same run.

Each trial builds a fresh local cluster (hashserver + database + daskserver on
``distributed.LocalCluster``, or + jobserver) under a temp dir with its own
HOME, runs one client process that calls ``tf.is_cached()`` and then
``tf.run()`` on a small transformation (the sequence that hung), and stops
every service by PID. A trial that has no result after ``--hang-after``
seconds counts as a hang; its hashserver log is checked for promised buffers
that never arrived (the signature of the upstream race).

    .venv/bin/python scripts/bench/bench_hang.py --trials 20          # both backends, both stacks
    .venv/bin/python scripts/bench/bench_hang.py --trials 3 --modes daskserver --impls ours

The reference stack (seamless-config 0.3.2 with seamless-dask 0.4, hashserver,
seamless-database, seamless-jobserver, all from PyPI) is built once under
``.cache/reference-full-venv``; its services run from that venv too.
Results: a table on stdout and ``.cache/bench/bench_hang.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "modes"))
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from modes_cluster import stop_services, unwritten_promises, write_modes_project  # noqa: E402
from scripts import ADD  # noqa: E402

REFERENCE_PINS = [
    "seamless-config==0.3.2", "remote-http-launcher==0.4.5", "seamless-core==0.1.4",
    "seamless-remote==0.4.0", "seamless-transformer==0.6.1", "seamless-dask==0.4",
    "hashserver==1.1.0", "seamless-database==2.1.0", "seamless-jobserver==0.3.0", "aiofiles",
]


def ensure_reference_venv(path: Path) -> Path:
    """A venv with the published stack around seamless-config 0.3.2 (built once, stamped)."""
    python = path / "bin" / "python"
    stamp = path / ".stamp"
    text = " ".join(REFERENCE_PINS)
    if python.exists() and stamp.exists() and stamp.read_text() == text:
        return python
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *REFERENCE_PINS],
                   check=True)
    version = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('seamless-config'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    assert version == "0.3.2", version
    stamp.write_text(text)
    return python


def trial(python: Path, mode: str, hang_after: float, index: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"bench-hang-{mode}-"))
    try:
        proj = write_modes_project(root, backend=mode)
        script = proj.write_script("add.py", ADD)
        env = dict(proj.env)
        env["PATH"] = os.pathsep.join([str(python.parent), env["PATH"]])
        env["MODES_DUMP_AFTER"] = str(hang_after + 30)  # the bench's own timeout comes first
        t0 = time.monotonic()
        outcome: dict[str, Any] = {"mode": mode, "trial": index}
        try:
            done = subprocess.run([str(python), str(script), str(root / "marker"), f"{time.time()}-{index}"],
                                  cwd=proj.project_dir, env=env, capture_output=True, text=True, timeout=hang_after)
        except subprocess.TimeoutExpired:
            outcome.update(status="hang", seconds=round(time.monotonic() - t0, 1),
                           unwritten_promises=len(unwritten_promises(proj)))
        else:
            outcome["seconds"] = round(time.monotonic() - t0, 1)
            result = None
            for line in done.stdout.splitlines():
                if line.startswith("MODES-RESULT "):
                    result = json.loads(line.split(" ", 1)[1])
            if done.returncode == 0 and result is not None and result.get("result") == 42:
                outcome.update(status="ok", first_result_seconds=result["first_result_seconds"])
            else:
                outcome.update(status="error", returncode=done.returncode, stderr_tail=done.stderr[-600:])
        return outcome
    finally:
        stop_services(root / "home")
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--modes", default="daskserver,jobserver")
    parser.add_argument("--impls", default="ours,reference")
    parser.add_argument("--hang-after", type=float, default=75.0, help="seconds without a result = a hang")
    parser.add_argument("--out", type=Path, default=REPO / ".cache" / "bench" / "bench_hang.json")
    args = parser.parse_args()
    pythons = {"ours": REPO / ".venv" / "bin" / "python"}
    impls = args.impls.split(",")
    if "reference" in impls:
        pythons["reference"] = ensure_reference_venv(REPO / ".cache" / "reference-full-venv")
    modes = args.modes.split(",")
    results: list[dict[str, Any]] = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for i in range(args.trials):  # interleaved: both stacks see the same machine load
        for mode in modes:
            for impl in impls:
                outcome = trial(pythons[impl], mode, args.hang_after, i) | {"impl": impl}
                results.append(outcome)
                print(json.dumps(outcome), flush=True)
                args.out.write_text(json.dumps({"args": vars(args) | {"out": str(args.out)}, "trials": results},
                                               indent=1))
    print(f"\n{'mode':<11} {'stack':<10} {'trials':>6} {'hangs':>6} {'errors':>6} {'median s':>9}")
    for mode in modes:
        for impl in impls:
            rows = [r for r in results if r["mode"] == mode and r["impl"] == impl]
            hangs = sum(r["status"] == "hang" for r in rows)
            errors = sum(r["status"] == "error" for r in rows)
            ok = sorted(r["seconds"] for r in rows if r["status"] == "ok")
            median = ok[len(ok) // 2] if ok else float("nan")
            print(f"{mode:<11} {impl:<10} {len(rows):>6} {hangs:>6} {errors:>6} {median:>9.1f}")


if __name__ == "__main__":
    main()
