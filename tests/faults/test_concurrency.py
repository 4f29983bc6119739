"""Concurrency, cold: 8 ``seamless-init`` processes and 8 threads calling ``init()`` at once, on one project.

Every caller must succeed, and every service must be launched exactly once:
one process per service (a /proc scan, not the state files), one start in
each service's log, and at most one of the reports saying "launched".
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fault_helpers import assert_clean, report_services
from orch_helpers import SERVICES, OrchProject, finish

pytestmark = pytest.mark.slow

N_PROCESSES = 8
N_THREADS = 8

THREADS_SCRIPT = """
import json, sys, threading, time
import seamless.config

n = int(sys.argv[1])
barrier = threading.Barrier(n)
errors, seconds = [], []

def call():
    barrier.wait()
    t0 = time.monotonic()
    try:
        seamless.config.init()
    except BaseException as exc:  # every caller's outcome is reported
        errors.append(f"{type(exc).__name__}: {exc}")
    seconds.append(time.monotonic() - t0)

threads = [threading.Thread(target=call) for _ in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join(120)
print("THREADS", json.dumps({"errors": errors, "finished": len(seconds), "max_seconds": max(seconds or [0])}), flush=True)
"""

# One line per start in each service's log.
START_LINE = {
    "hashserver": "Started server process",
    "database": "DATABASE FILE",
    "jobserver": "Welcome to the Seamless jobserver",
}


def test_8_processes_and_8_threads_cold(project_factory: Callable[..., OrchProject]) -> None:
    import subprocess
    import sys

    proj = project_factory()
    script = proj.project_dir / "threads_init.py"
    script.write_text(THREADS_SCRIPT)
    start = time.monotonic()
    threads_proc = subprocess.Popen(
        [sys.executable, str(script), str(N_THREADS)], cwd=proj.project_dir, env=proj.env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    started = [proj.popen_init("--json") for _ in range(N_PROCESSES)]
    runs = [finish(p, argv, start, 150) for p, argv in started]
    threads_run = finish(threads_proc, [sys.executable, str(script)], start, 150)
    wall = time.monotonic() - start

    for run in runs:
        assert run.returncode == 0, run.describe()
    assert threads_run.returncode == 0, threads_run.describe()
    threads = threads_run.tagged("THREADS")
    assert threads["errors"] == [] and threads["finished"] == N_THREADS, threads

    reports = [run.json for run in runs]
    for name in SERVICES:
        entries = [report_services(r)[name] for r in reports]
        assert all(e["status"] == "ok" for e in entries), entries
        assert len({e["address"] for e in entries}) == 1, [e["address"] for e in entries]
        assert sum(not e["reused"] for e in entries) <= 1, entries  # the threads' process may have launched it

    c = assert_clean(proj)
    assert sorted(c.services) == sorted(c.recorded) and len(c.recorded) == len(SERVICES), c.describe()
    for name in SERVICES:
        key, state = proj.state_for(name)
        log = (proj.server_dir / f"{key}.log").read_text(errors="replace")
        assert log.count(START_LINE[name]) == 1, f"{name} started {log.count(START_LINE[name])} times:\n{log[-2000:]}"
    print(
        f"\n{N_PROCESSES} seamless-init processes + {N_THREADS} init() threads, cold: all succeeded, "
        f"each service launched once; {wall:.2f}s wall (threads: {threads['max_seconds']:.2f}s)"
    )
