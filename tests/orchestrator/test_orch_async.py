"""``init()`` / ``ainit()`` from inside a running event loop, and a transformation after ``ainit()``.

The first two tests run in the pytest process (pytest-asyncio), with the
seamless_remote backends enabled (``DISABLED = False``) and a local cluster, so
that services really come up; ``STATE`` is reset around each test and HOME
points at the test's own directory. The last one runs a user script in a
subprocess, as a user would.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import socket
from collections.abc import Iterator

import pytest
from orch_helpers import SERVICES, OrchProject, occupied

import seamless_config
from seamless_config.remote.processes import pid_alive
from seamless_config.state import STATE

pytestmark = pytest.mark.slow

# Module-level registries of seamless_remote that activation fills (clients, launcher caches).
SEAMLESS_REMOTE_STATE = {
    "seamless_remote.buffer_remote": (
        "_launched_clients", "_extern_clients", "_read_server_clients", "_read_folders_clients",
        "_write_server_clients",
    ),
    "seamless_remote.database_remote": (
        "_launched_clients", "_extern_clients", "_read_database_clients", "_write_database_clients",
    ),
    "seamless_remote.jobserver_remote": ("_launched_clients", "_jobserver_clients"),
    "seamless_remote.buffer_client": ("_launcher_cache",),
    "seamless_remote.database_client": ("_launcher_cache",),
    "seamless_remote.jobserver_client": ("_launcher_cache",),
}

WATCHDOG = 120  # a deadlock must fail the run with a traceback, not hang it


@pytest.fixture
def in_process(project: OrchProject, monkeypatch: pytest.MonkeyPatch) -> Iterator[OrchProject]:
    """The project's environment in this process, backends enabled, a fresh STATE before and after."""
    for name, value in project.env.items():
        if os.environ.get(name) != value:
            monkeypatch.setenv(name, value)
    for name in set(os.environ) - set(project.env):
        monkeypatch.delenv(name)
    import importlib

    for module_name, containers in SEAMLESS_REMOTE_STATE.items():
        module = importlib.import_module(module_name)
        if module_name.endswith("_remote"):
            monkeypatch.setattr(module, "DISABLED", False)
        # Fresh module state for this test; the original objects come back at teardown.
        for name in containers:
            value = getattr(module, name)
            monkeypatch.setattr(module, name, type(value)(1000) if name == "_launcher_cache" else type(value)())
    STATE.reset()
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    try:
        yield project
    finally:
        faulthandler.cancel_dump_traceback_later()
        STATE.reset()


def check_services_up(proj: OrchProject) -> dict[str, int]:
    pids = {}
    records = proj.client_records()
    for name in SERVICES:
        key, state = proj.state_for(name)
        assert state["status"] == "running" and pid_alive(state["pid"]), state
        assert records[key]["port"] == state["port"] and records[key]["hostname"] == "127.0.0.1"
        pids[key] = state["pid"]
    return pids


def check_backends_active() -> None:
    import seamless_remote.buffer_remote
    import seamless_remote.jobserver_remote

    from seamless_config.select import get_current, get_execution

    cluster, project, _, stage, _ = get_current()
    assert (cluster, stage) == ("orchlocal", None) and project == "orchproj"
    assert get_execution() == "remote"
    assert seamless_remote.buffer_remote.has_write_server()
    assert seamless_remote.jobserver_remote._launched_clients, "jobserver_remote was not activated"


async def test_sync_init_inside_running_loop(in_process: OrchProject) -> None:
    proj = in_process
    loop = asyncio.get_running_loop()
    from seamless_config.orchestrator.loop import RUNNER

    seamless_config.init(workdir=proj.project_dir)  # blocks this loop's thread; runs on the background loop

    assert STATE.initialized
    assert RUNNER._loop is not None and RUNNER._loop is not loop
    pids = check_services_up(proj)
    check_backends_active()
    assert {k: v for k, v in proj.service_processes().items()} == {k: [p] for k, p in pids.items()}

    seamless_config.init(workdir=proj.project_dir)  # a no-op once initialised
    assert {k: s["pid"] for k, s in proj.server_states().items()} == pids
    await asyncio.sleep(0)  # this loop still runs


async def test_sync_init_inside_running_loop_with_an_uninitialised_extern_client(in_process: OrchProject) -> None:
    """seamless-remote 0.4.0 initialises an extern client with run_coroutine_threadsafe(...).result() on
    the calling thread's running loop: a deadlock, unless init() activates from a worker thread."""
    import seamless_remote.buffer_remote

    proj = in_process
    with socket.socket() as probe:  # a port nobody listens on: the client's health check fails at once
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    seamless_remote.buffer_remote.define_extern_client("stale", "hashserver", url=f"http://127.0.0.1:{dead}",
                                                       readonly=True)
    try:
        seamless_config.init(workdir=proj.project_dir)  # the watchdog turns a deadlock into a traceback
    except Exception as exc:  # a refused stale client may be reported; a deadlock may not happen
        print(f"init() reported the stale extern client: {type(exc).__name__}: {exc}")
    await asyncio.sleep(0)  # this loop still runs


async def test_ainit_keeps_the_loop_running(in_process: OrchProject) -> None:
    proj = in_process
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        await asyncio.wait_for(seamless_config.ainit(workdir=proj.project_dir), 90)
    finally:
        task.cancel()
    assert STATE.initialized
    pids = check_services_up(proj)
    check_backends_active()
    # The services took ~seconds to start; the caller's loop kept turning meanwhile.
    assert ticks >= 10, f"the event loop was blocked during ainit() ({ticks} ticks)"

    # A second ainit() is a no-op; after a reset, a new ainit() reuses everything.
    await seamless_config.ainit(workdir=proj.project_dir)
    STATE.reset()
    await asyncio.wait_for(seamless_config.ainit(workdir=proj.project_dir), 60)
    assert {k: s["pid"] for k, s in proj.server_states().items()} == pids
    assert {k: v for k, v in proj.service_processes().items()} == {k: [p] for k, p in pids.items()}


async def test_ainit_failure_lists_every_service_then_a_retry_succeeds(in_process: OrchProject) -> None:
    proj = in_process
    lo, hi = proj.ports["hashserver"]
    with occupied(lo, hi), pytest.raises(seamless_config.ServicesUnavailable) as info:
        await asyncio.wait_for(seamless_config.ainit(workdir=proj.project_dir), 60)
    outcomes = {o.service: o for o in info.value.report.outcomes}
    assert list(outcomes) == list(SERVICES)
    assert outcomes["hashserver"].status == "failed" and outcomes["hashserver"].log_tail, outcomes["hashserver"]
    assert "No free port" in outcomes["hashserver"].log_tail
    assert outcomes["database"].status == "ok"
    assert outcomes["jobserver"].status == "skipped"
    assert "hashserver" in str(info.value)
    assert not STATE.initialized, "a failed ainit() must leave the configuration uninitialised (retry possible)"

    # The ports are free again: the same call now succeeds, reusing the database it already started.
    db_key, db_state = proj.state_for("database")
    await asyncio.wait_for(seamless_config.ainit(workdir=proj.project_dir), 60)
    assert STATE.initialized
    pids = check_services_up(proj)
    assert pids[db_key] == db_state["pid"]
    check_backends_active()


# ----------------------------------------------------------------------------- a transformation after ainit()

SCRIPT = """
import asyncio, faulthandler, json, os, sys

faulthandler.dump_traceback_later(60, exit=True)  # a hang shows where it hangs
import seamless
import seamless.config
from seamless.transformer import delayed


@delayed
def add(a, b, marker):
    import os
    with open(marker, "a") as f:
        f.write(f"{os.getpid()}\\n")
    return a + b


async def main():
    await seamless.config.ainit()
    tf = add(19, 23, sys.argv[1])
    result = await tf.task()
    return {
        "result": result,
        "tf_checksum": tf.transformation_checksum.hex(),
        "client_pid": os.getpid(),
    }


payload = asyncio.run(main())
print("ORCH-RESULT", json.dumps(payload), flush=True)
seamless.close()
"""


def test_transformation_after_ainit_reuses_the_services(project: OrchProject) -> None:
    cold = project.init("--json")
    assert cold.returncode == 0, cold.describe()
    state_files = {p.name: p.read_bytes() for p in project.server_dir.glob("*.json")}
    pids = {k: s["pid"] for k, s in project.server_states().items()}
    assert len(pids) == 3

    marker = project.root / "executions.txt"
    run = project.run_script("add_after_ainit.py", SCRIPT, str(marker))
    assert run.returncode == 0, run.describe()
    out = run.tagged("ORCH-RESULT")
    assert out["result"] == 42

    # It ran in a jobserver worker, which received it once.
    executions = marker.read_text().split()
    assert len(executions) == 1 and int(executions[0]) != out["client_pid"], executions
    job_key, _ = project.state_for("jobserver")
    job_log = (project.server_dir / f"{job_key}.log").read_text()
    assert job_log.count(f"Received transformation {out['tf_checksum']}") == 1, job_log

    # Nothing was launched again: same state files, byte for byte, same processes.
    assert {p.name: p.read_bytes() for p in project.server_dir.glob("*.json")} == state_files
    assert {k: v for k, v in project.service_processes().items()} == {k: [p] for k, p in pids.items()}
    assert all(pid_alive(p) for p in pids.values())
