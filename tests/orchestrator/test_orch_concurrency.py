"""Four ``seamless-init`` processes on the same cold project: every service is launched exactly once."""

from __future__ import annotations

import time

import pytest
from orch_helpers import RUN_TIMEOUT, SERVICES, OrchProject, finish

from seamless_config.remote.processes import pid_alive

N = 4


@pytest.mark.slow
def test_concurrent_cold_inits_launch_each_service_once(project: OrchProject) -> None:
    start = time.monotonic()
    started = [project.popen_init("--json") for _ in range(N)]
    runs = []
    for process, argv in started:
        runs.append(finish(process, argv, start, max(1.0, RUN_TIMEOUT - (time.monotonic() - start))))
    for run in runs:
        assert run.returncode == 0, run.describe()
    reports = [run.json for run in runs]
    assert all(r["ok"] for r in reports)

    # Everyone got the same address per service, and exactly one process launched it.
    for name in SERVICES:
        entries = [next(e for e in r["services"] if e["service"] == name) for r in reports]
        assert all(e["status"] == "ok" for e in entries), entries
        assert len({e["address"] for e in entries}) == 1, (name, [e["address"] for e in entries])
        launched = [i for i, e in enumerate(entries) if not e["reused"]]
        assert len(launched) == 1, f"{name} launched by processes {launched}"

    # One state file and one live process per service (found by /proc, not by the state files),
    # and that process is the one the state file names.
    states = project.server_states()
    assert sorted((s.get("meta") or {}).get("service") for s in states.values()) == sorted(SERVICES), sorted(states)
    processes = project.service_processes()
    assert set(processes) == set(states), (sorted(processes), sorted(states))
    for key, state in states.items():
        assert state["status"] == "running", state
        assert processes[key] == [state["pid"]], (key, processes[key], state["pid"])
        assert pid_alive(state["pid"])
        address = next(e["address"] for e in reports[0]["services"] if e["service"] == state["meta"]["service"])
        assert address == f"127.0.0.1:{state['port']}"

    # The hashserver (uvicorn) says "Started server process" once per start; its log has one.
    _, hs_state = project.state_for("hashserver")
    log = (project.server_dir / f"{project.state_for('hashserver')[0]}.log").read_text()
    assert log.count("Started server process") == 1, log
    assert f"[{hs_state['pid']}]" in log
    print(f"\n{N} concurrent cold seamless-init: {max(r.seconds for r in runs):.2f}s wall")
