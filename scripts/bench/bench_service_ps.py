#!/usr/bin/env python3
"""Benchmark: ``seamless-service-ps --all-clusters`` over N SSH frontends, ours next to the reference.

Setup: a real sshd on 127.0.0.1 (tests/sshd.py), N ssh_config aliases of it
(``fe1`` ... ``feN``), one cluster per alias (frontend ``hostname: feK`` plus
``ssh_hostname: feK``) and, on the server side, three state files per cluster
(hashserver, database, jobserver; status "running", PIDs that are not theirs:
ps reports them "stale"). Each frontend is made slower by ``--delay`` seconds
per SSH session (a ``sleep`` in the sessions' login path, via sshd's
ForceCommand-free ``~/.ssh/rc``), so that "the slowest frontend" and "the sum
of the frontends" are far apart.

Reports, for ours and the reference (0.3.2, scripts/make_reference_venv.sh),
the median wall time of ``ps --all-clusters --json``, ours for a single
frontend (``ps --cluster fe1 --server --json``), and the ratios.

    .venv/bin/python scripts/bench/bench_service_ps.py --frontends 5 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "tests" / d) for d in ("", "services", "orchestrator", "e2e")]


def _timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.monotonic()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)
    return time.monotonic() - start, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frontends", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.5, help="extra seconds per SSH session on each frontend")
    args = parser.parse_args()

    from sshd import sshd_available, start_sshd, stop_sshd  # type: ignore[import-not-found]
    from svc_helpers import alias_config  # type: ignore[import-not-found]

    reason = sshd_available()
    if reason is not None:
        print(f"skipped: {reason}")
        return 0
    ref_bin = REPO / ".cache" / "reference-venv" / "bin"
    if not (ref_bin / "seamless-service-ps").exists():
        subprocess.run(["bash", str(REPO / "scripts" / "make_reference_venv.sh")], check=True,
                       stdout=subprocess.DEVNULL)
    ours_bin = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="bench-service-ps-") as tmp:
        work = Path(tmp)
        ssh = start_sshd(work / "sshd")
        try:
            home, remote_home, project = work / "home", work / "remote-home", work / "project"
            for d in (home, remote_home, project):
                d.mkdir()
            ssh.set_remote_home(remote_home)
            aliases = [f"fe{i + 1}" for i in range(args.frontends)]
            config, bindir = alias_config(ssh, work / "ssh", aliases)
            if args.delay > 0:  # every session on the "frontends" starts this much later (sshd runs ~/.ssh/rc)
                (remote_home / ".ssh").mkdir()
                (remote_home / ".ssh" / "rc").write_text(f"sleep {args.delay}\n")
            clusters: dict[str, Any] = {}
            server = remote_home / ".remote-http-launcher" / "server"
            server.mkdir(parents=True)
            for alias in aliases:
                name = f"fe-{alias}"
                clusters[name] = {"type": "local", "tunnel": False, "workers": 1, "frontends": [{
                    "hostname": alias, "ssh_hostname": alias,
                    "hashserver": {"bufferdir": str(work / "buffers")},
                    "database": {"database_dir": str(work / "db")}}]}
                for service in ("hashserver", "database", "jobserver"):
                    key = f"{service}-{name}-rw-proj"
                    (server / f"{key}.json").write_text(json.dumps({
                        "pid": 1, "status": "running", "port": 1, "command": service, "workdir": "/tmp",
                        "meta": {"service": service, "cluster": name, "mode": "rw", "project": "proj"}}))
            (project / "seamless.yaml").write_text('- {"project": "proj"}\n')
            (project / "seamless.profile.yaml").write_text(
                f"- {json.dumps({'clusters': clusters})}\n- {json.dumps({'cluster': 'fe-fe1'})}\n")
            env = {"HOME": str(home), "PATH": f"{bindir}:{ssh.bin_dir}:{ours_bin}:{os.environ.get('PATH', '')}",
                   "SEAMLESS_SSH_CONFIG": str(config), "LANG": "C.UTF-8"}
            ref_env = dict(env, PATH=f"{bindir}:{ref_bin}:{os.environ.get('PATH', '')}")
            # The reference's clusters come from ~/.seamless/clusters.yaml when it is not given --workdir
            (home / ".seamless").mkdir()
            (home / ".seamless" / "clusters.yaml").write_text(json.dumps(clusters))

            results: dict[str, list[float]] = {"ours": [], "reference": [], "ours_one": []}
            rows: dict[str, int] = {}
            for _ in range(args.runs):
                for label, argv, e in (
                    ("ours", [str(ours_bin / "seamless-service-ps"), "--all-clusters", "--json"], env),
                    ("reference", [str(ref_bin / "seamless-service-ps"), "--all-clusters", "--json"], ref_env),
                    ("ours_one", [str(ours_bin / "seamless-service-ps"), "--server", "--cluster", "fe-fe1",
                                  "--json"], env),
                ):
                    seconds, done = _timed(argv, e, project)
                    if done.returncode != 0:
                        print(f"{label} failed ({done.returncode}): {done.stderr[-1500:]} {done.stdout[-1500:]}")
                        return 1
                    results[label].append(seconds)
                    rows[label] = len([line for line in done.stdout.splitlines() if line.strip()])
            med = {k: statistics.median(v) for k, v in results.items()}
            print(f"seamless-service-ps --all-clusters over {args.frontends} SSH frontends "
                  f"(+{args.delay:.2f}s per SSH session), median of {args.runs} runs:")
            print(f"  ours       {med['ours']:.2f}s  ({rows['ours']} rows)")
            print(f"  reference  {med['reference']:.2f}s  ({rows['reference']} rows)")
            print(f"  ours, one frontend (--server --cluster fe-fe1)  {med['ours_one']:.2f}s")
            print(f"  ours/reference = {med['ours'] / med['reference']:.2f}")
            print(f"  ours all-clusters / ours one frontend = {med['ours'] / med['ours_one']:.2f} "
                  f"(1.0 = as slow as one frontend; {args.frontends:.1f} = the sum)")
        finally:
            stop_sshd(ssh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
