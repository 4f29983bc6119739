#!/usr/bin/env python3
"""The full soak: 200 cycles of seamless-init / random SIGKILL of a service (or tunnel) / seamless-init /
a transformation through the jobserver, on a real local cluster (``--ssh``: an SSH frontend with tunnels,
through a private sshd on 127.0.0.1). Prints one line per cycle and a JSON summary; exit code 1 if any
cycle saw a failed init or transformation, a duplicate service, a leaked process or tunnel, or a lost result.

    .venv/bin/python scripts/soak.py --cycles 200 --json /tmp/soak.json

CI runs the same loop for 20 cycles (tests/soak/test_soak.py).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for sub in ("tests/soak", "tests/faults", "tests/orchestrator", "tests/e2e", "tests"):
    sys.path.insert(0, str(ROOT / sub))

from orch_helpers import make_project, teardown_project  # noqa: E402
from soak_lib import run_soak  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ssh", action="store_true", help="SSH frontend with tunnels (also kills tunnels)")
    parser.add_argument("--verify-every", type=int, default=10, help="re-check every earlier result each N cycles")
    parser.add_argument("--json", type=Path, help="write the summary here too")
    parser.add_argument("--keep", action="store_true", help="keep the project directory")
    parser.add_argument("--src", type=Path, help="run seamless_config from this copy of src/ (a snapshot)")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="seamless-soak-"))
    sshd = None
    if args.ssh:
        from sshd import start_sshd

        sshd = start_sshd(root / "sshd")
    proj = make_project(root / "p", ssh=sshd)
    if sshd is not None:
        sshd.set_remote_home(proj.remote_home)
    if args.src is not None:
        proj.env["PYTHONPATH"] = str(args.src.resolve())
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    start = time.monotonic()
    try:
        result = run_soak(
            proj, args.cycles, seed=args.seed, verify_every=args.verify_every, tunnels=args.ssh,
            say=lambda line: print(line, flush=True),
        )
    finally:
        survivors = teardown_project(proj)
        if sshd is not None:
            from sshd import stop_sshd

            stop_sshd(sshd)
    summary = result.summary() | {
        "seconds": round(time.monotonic() - start, 1),
        "commit": commit.stdout.strip(),
        "ssh": args.ssh,
        "survivors_after_teardown": survivors,
    }
    print("SOAK", json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    if not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    return 0 if result.clean and not survivors else 1


if __name__ == "__main__":
    sys.exit(main())
