"""daskserver on an SSH frontend: seamless-dask-wrapper runs there as a daemon (LocalCluster), the
scheduler and dashboard ports come back through SSH tunnels, and a transformation runs through it
with persistence, then comes from the database in a new process."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

import pytest
from dask_helpers import SCRIPT, base_queue, db_rows, diagnostics, executions, report_line

from seamless_config.remote import find_tunnel_pids
from seamless_config.remote.processes import pid_alive

pytestmark = [pytest.mark.slow, pytest.mark.ssh]

RUN_TIMEOUT = 120.0


def test_daskserver_on_ssh_frontend_through_tunnels(ssh_dask_project_factory: Any) -> None:
    proj = ssh_dask_project_factory("ssh", queues={"q": base_queue()}, default_queue="q", workers=1)
    marker = proj.root / "executions.txt"

    start = time.monotonic()
    cold = proj.init("--json")
    assert cold.returncode == 0, cold.describe() + "\n" + diagnostics(proj)
    report = cold.json
    services = {s["service"]: s for s in report["services"]}
    assert list(services) == ["hashserver", "database", "daskserver"], services
    assert report["ssh_connections_opened"] == 1, "one SSH connection for the frontend's three services"
    assert all(s["status"] == "ok" and s["host"] == proj.ssh_alias for s in services.values()), services

    # Server side (the frontend): the wrapper runs as a daemon, its state in the remote HOME.
    key, state = proj.state_for("daskserver")
    assert state["status"] == "running" and pid_alive(state["pid"]), state
    assert state["network_interface"] == "127.0.0.1"
    lo, hi = proj.ports["daskserver"]
    assert lo <= state["port"] <= hi and lo <= state["dashboard_port"] <= hi, state
    assert str(proj.remote_home) in (state.get("log") or ""), state.get("log")
    assert not (proj.home / ".remote-http-launcher" / "server").exists() or not list(
        (proj.home / ".remote-http-launcher" / "server").glob("daskserver*.json")
    ), "server state belongs on the frontend (remote HOME)"

    # Client side: scheduler and dashboard each behind a local tunnel.
    record = proj.client_records()[key]
    assert record["hostname"] == "localhost", record
    assert record["tunneled-port"] == state["port"] and record["tunneled-dashboard_port"] == state["dashboard_port"]
    for local in (record["port"], record["dashboard_port"]):
        assert local not in (state["port"], state["dashboard_port"])
        pids = find_tunnel_pids(local)
        assert len(pids) == 1 and pid_alive(pids[0]), (local, pids)
    with urllib.request.urlopen(f"http://localhost:{record['dashboard_port']}/health", timeout=10) as answer:
        assert answer.status == 200 and answer.read().strip() == b"ok"
    assert services["daskserver"]["address"] == f"localhost:{record['port']}"

    # A transformation through the tunnelled scheduler, with persistence.
    run1 = proj.run_script("add.py", SCRIPT, str(marker), str(RUN_TIMEOUT - 10), timeout=RUN_TIMEOUT)
    first_result = time.monotonic() - start
    assert run1.returncode == 0, run1.describe() + "\n" + diagnostics(proj)
    out1 = run1.tagged("DASK-RESULT")
    assert out1["result"] == 42
    done = executions(marker)
    assert len(done) == 1 and done[0][0] != out1["client_pid"], done
    tf = out1["tf_checksum"]
    assert db_rows(proj.database_dir / proj.project / "seamless.db", tf) == [(tf, out1["result_checksum"])]
    tunnels = proj.ssh_tunnel_pids()

    # A new process: a database cache hit; nothing launched, no new tunnel.
    warm = proj.init("--json")
    assert warm.returncode == 0 and warm.json["ssh_connections_opened"] == 0, warm.describe()
    run2 = proj.run_script("add.py", SCRIPT, str(marker), str(RUN_TIMEOUT - 10), timeout=RUN_TIMEOUT)
    assert run2.returncode == 0, run2.describe() + "\n" + diagnostics(proj)
    out2 = run2.tagged("DASK-RESULT")
    assert out2["result"] == 42 and out2["tf_checksum"] == tf and out2["result_checksum"] == out1["result_checksum"]
    assert executions(marker) == done, "the function body ran again"
    assert proj.ssh_tunnel_pids() == tunnels, "the tunnels were reused"
    assert proj.state_for("daskserver")[1]["pid"] == state["pid"]

    report_line("daskserver on SSH frontend", {
        "seamless_init_cold_s": round(cold.seconds, 2),
        "services_s": {name: s["seconds"] for name, s in services.items()},
        "first_script_s": round(run1.seconds, 2),
        "first_script_init_s": out1["init_seconds"],
        "init_start_to_first_result_s": round(first_result, 2),
        "first_run_s": out1["run_seconds"],
        "cache_hit_script_s": round(run2.seconds, 2),
        "cache_hit_run_s": out2["run_seconds"],
    })


def test_daskserver_on_ssh_login_node_submits_to_slurm(ssh_slurm_project: Any) -> None:
    """The HPC path: login node over SSH, the daskserver there submits its workers to SLURM."""
    proj = ssh_slurm_project
    marker = proj.root / "executions.txt"
    start = time.monotonic()
    cold = proj.init("--json")
    assert cold.returncode == 0, cold.describe() + "\n" + diagnostics(proj)
    key, state = proj.state_for("daskserver")
    record = proj.client_records()[key]
    assert record["tunneled-port"] == state["port"] and "tunneled-dashboard_port" in record, record
    run1 = proj.run_script("add.py", SCRIPT, str(marker), str(RUN_TIMEOUT - 10), timeout=RUN_TIMEOUT)
    first_result = time.monotonic() - start
    assert run1.returncode == 0, run1.describe() + "\n" + diagnostics(proj)
    out1 = run1.tagged("DASK-RESULT")
    assert out1["result"] == 42
    done = executions(marker)
    assert len(done) == 1 and done[0][1] != "-", f"not run in a SLURM job: {done}"
    tf = out1["tf_checksum"]
    assert db_rows(proj.database_dir / proj.project / "seamless.db", tf) == [(tf, out1["result_checksum"])]
    report_line("daskserver on SSH login node + SLURM (interactive queue)", {
        "seamless_init_cold_s": round(cold.seconds, 2),
        "first_script_s": round(run1.seconds, 2),
        "init_start_to_first_result_s": round(first_result, 2),
        "first_run_s": out1["run_seconds"],
    })
