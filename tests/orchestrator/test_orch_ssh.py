"""``seamless-init`` against a frontend reached over SSH (a real sshd on 127.0.0.1), with tunnels.

The cluster is not the local_cluster: its frontend is ``hostname: localhost``
with ``ssh_hostname: rhl-test`` (an alias in the test sshd's ssh_config, which
``SEAMLESS_SSH_CONFIG`` points the connection pool at; the ssh wrapper first
on PATH makes the tunnel processes use it too), and ``tunnel: true``. The
sshd sessions have their own HOME, so server state and client records are in
different places, as they would be on a real cluster.
"""

from __future__ import annotations

import time

import pytest
from orch_helpers import RUN_TIMEOUT, SERVICES, OrchProject, finish

from seamless_config.remote import find_tunnel_pids
from seamless_config.remote.processes import pid_alive

pytestmark = [pytest.mark.slow, pytest.mark.ssh]


def by_service(report: dict) -> dict[str, dict]:
    return {entry["service"]: entry for entry in report["services"]}


def test_ssh_frontend_cold_then_reuse_tunnels(ssh_project: OrchProject) -> None:
    proj = ssh_project
    assert proj.ssh_tunnel_pids() == []

    cold = proj.init("--json")
    assert cold.returncode == 0, cold.describe()
    report = cold.json
    assert report["ok"] is True
    assert report["ssh_connections_opened"] == 1, "one SSH connection for the three services of one frontend"
    services = by_service(report)
    assert list(services) == list(SERVICES)

    # Server side: three running services, state in the remote HOME, listening on 127.0.0.1 in range.
    states = proj.server_states()
    assert len(states) == 3, sorted(states)
    assert not (proj.home / ".remote-http-launcher" / "server").exists() or not list(
        (proj.home / ".remote-http-launcher" / "server").glob("*.json")
    ), "server state belongs in the remote HOME"
    records = proj.client_records()
    assert set(records) == set(states)
    tunnels: dict[str, tuple[int, list[int]]] = {}
    for name in SERVICES:
        entry = services[name]
        assert entry["status"] == "ok" and entry["reused"] is False, entry
        assert entry["host"] == proj.ssh_alias
        key, state = proj.state_for(name)
        assert state["status"] == "running" and pid_alive(state["pid"]), state
        lo, hi = proj.ports[name]
        assert lo <= state["port"] <= hi and state["network_interface"] == "127.0.0.1"
        # Client side: reached through a local tunnel to that port.
        record = records[key]
        assert record["hostname"] == "localhost" and record["tunneled-port"] == state["port"], record
        assert record["tunneled-host"] == proj.ssh_alias
        local_port = record["port"]
        assert entry["address"] == f"localhost:{local_port}"
        assert local_port != state["port"]
        pids = find_tunnel_pids(local_port)
        assert len(pids) == 1 and pid_alive(pids[0]), (name, local_port, pids)
        tunnels[name] = (local_port, pids)
    all_tunnels = proj.ssh_tunnel_pids()
    # The three tunnels are forwards on the frontend's one SSH master: no `ssh -L` process.
    assert all_tunnels == [], all_tunnels
    assert len({p for _, pids in tunnels.values() for p in pids}) == 1, "one master carries every tunnel"

    # The jobserver was given the storage services' addresses as seen on the frontend.
    _, job_state = proj.state_for("jobserver")
    hs_port = proj.state_for("hashserver")[1]["port"]
    assert job_state["parameters"]["buffer"][0]["remote_url"] == f"http://localhost:{hs_port}"

    # A second process: the tunnels outlived the first one and are reused as they are.
    warm = proj.init("--json")
    assert warm.returncode == 0, warm.describe()
    again = warm.json
    assert again["ok"] is True
    assert again["ssh_connections_opened"] == 0, "the client records and their tunnels suffice"
    for name in SERVICES:
        entry = by_service(again)[name]
        local_port, pids = tunnels[name]
        assert entry["status"] == "ok" and entry["reused"] is True, entry
        assert entry["address"] == f"localhost:{local_port}", entry
        assert find_tunnel_pids(local_port) == pids
    assert proj.ssh_tunnel_pids() == all_tunnels, "no new tunnel process"
    assert proj.server_states() == states
    print(f"\nSSH frontend: cold {cold.seconds:.2f}s, warm {warm.seconds:.2f}s")


def test_concurrent_cold_inits_over_ssh_launch_once_and_share_tunnels(ssh_project: OrchProject) -> None:
    """Three processes at once on a cold SSH project: one launch and one tunnel per service."""
    proj = ssh_project
    start = time.monotonic()
    started = [proj.popen_init("--json") for _ in range(3)]
    runs = [finish(process, argv, start, max(1.0, RUN_TIMEOUT - (time.monotonic() - start))) for process, argv in started]
    for run in runs:
        assert run.returncode == 0, run.describe()
    reports = [run.json for run in runs]
    assert all(r["ok"] for r in reports)
    assert all(r["ssh_connections_opened"] <= 1 for r in reports), [r["ssh_connections_opened"] for r in reports]

    states = proj.server_states()
    processes = proj.service_processes()
    assert set(processes) == set(states) and len(states) == 3, (sorted(processes), sorted(states))
    records = proj.client_records()
    for key, state in states.items():
        assert processes[key] == [state["pid"]], (key, processes[key], state)
    for name in SERVICES:
        entries = [by_service(r)[name] for r in reports]
        assert len({e["address"] for e in entries}) == 1, [e["address"] for e in entries]
        assert sum(not e["reused"] for e in entries) == 1, entries
    # One tunnel per service in total, the one the client record names, all on one master.
    tunnel_pids = sorted(p for record in records.values() for p in find_tunnel_pids(record["port"]))
    assert len(tunnel_pids) == 3 and len(set(tunnel_pids)) == 1, tunnel_pids  # one master for all
    assert proj.ssh_tunnel_pids() == [], proj.ssh_tunnel_pids()
    print(f"\n3 concurrent cold seamless-init over SSH: {max(r.seconds for r in runs):.2f}s wall")


# A user script: ainit() then one transformation, through the tunnels.
TRANSFORMATION = """
import asyncio, faulthandler, json, os, sys

faulthandler.dump_traceback_later(90, exit=True)
import seamless
import seamless.config
from seamless.transformer import delayed


@delayed
def add(a, b):
    return a + b


async def main():
    await seamless.config.ainit()
    tf = add(19, 23)
    return {"result": await tf.task(), "tf_checksum": tf.transformation_checksum.hex()}


payload = asyncio.run(main())
print("ORCH-RESULT", json.dumps(payload), flush=True)
seamless.close()
"""


@pytest.fixture
def cm_project(project_factory, sshd):  # type: ignore[no-untyped-def]  # noqa: F811
    """An SSH project whose alias has ControlMaster auto + ControlPath + ControlPersist (a 2FA user's setup)."""
    from sshd import stop_masters

    proj = project_factory(ssh=sshd)
    proj.ssh_alias = sshd.cm_alias
    proj.write_config()
    sshd.set_remote_home(proj.remote_home)
    try:
        yield proj
    finally:
        sshd.set_remote_home(None)
        stop_masters(sshd)


def test_user_controlmaster_one_connection_for_everything(cm_project: OrchProject, sshd) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from sshd import accepted_connections

    proj = cm_project
    before = accepted_connections(sshd)
    cold = proj.init("--json")
    assert cold.returncode == 0, cold.describe()
    assert cold.json["ssh_connections_opened"] == 1
    sockets = list(sshd.root.glob("cm-*"))
    assert len(sockets) == 1, "the master sits on the user's ControlPath"
    records = proj.client_records()
    masters = {pid for record in records.values() for pid in find_tunnel_pids(record["port"])}
    assert len(records) == 3 and len(masters) == 1 and all(pid_alive(p) for p in masters), (records, masters)
    assert proj.ssh_tunnel_pids() == [], "no `ssh -L` process: the tunnels are forwards on the master"

    run = proj.run_script("add_over_cm.py", TRANSFORMATION)
    assert run.returncode == 0, run.describe()
    assert run.tagged("ORCH-RESULT")["result"] == 42

    warm = proj.init("--json")
    assert warm.returncode == 0, warm.describe()
    assert warm.json["ssh_connections_opened"] == 0
    assert all(entry["reused"] for entry in warm.json["services"]), warm.json
    assert accepted_connections(sshd) - before == 1, "the sshd accepted exactly one connection for all of it"
