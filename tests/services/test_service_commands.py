"""The seamless-service-* commands against real services, on a local frontend and behind the real sshd.

Each command in text and JSON; ``stop --cluster`` then ``seamless-init``
relaunches cleanly; a forged state file whose PID is an unrelated ``sleep``
survives ``stop`` and ``seamless-init``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from typing import Any

import pytest
from orch_helpers import OrchProject
from svc_helpers import BIN, json_lines, start_sleep, svc

from seamless_config.remote.processes import pid_alive

SERVICES = {"hashserver", "database", "jobserver"}


@pytest.fixture(params=["local", "ssh"])
def any_project(request: pytest.FixtureRequest) -> OrchProject:
    name = "project" if request.param == "local" else "ssh_project"
    proj: OrchProject = request.getfixturevalue(name)
    return proj


def _host(proj: OrchProject) -> str:
    return proj.ssh_alias or "localhost"


def test_each_command_text_and_json(any_project: OrchProject) -> None:
    proj = any_project
    init = proj.init()
    assert init.returncode == 0, init.describe()
    hs_key, hs_state = proj.state_for("hashserver")

    # resolve: the launcher key and host, without side effects
    run = svc(proj, "resolve", "--service", "hashserver")
    assert run.returncode == 0, run.describe()
    resolved = json.loads(run.stdout)
    assert resolved["key"] == hs_key
    assert resolved["ssh_hostname"] == proj.ssh_alias
    assert resolved["workdir"] == str(proj.bufferdir / proj.project)
    assert resolved["service"] == "hashserver" and resolved["project"] == proj.project

    # ps: client view (default), cluster view, text and JSON
    rows = json_lines(svc(proj, "ps", "--json"))
    assert {r["service"] for r in rows} == SERVICES and {r["process"] for r in rows} == {"client"}
    text = svc(proj, "ps", "--cluster", proj.cluster)
    assert text.returncode == 0, text.describe()
    assert "SERVICE" in text.stdout and "running" in text.stdout and _host(proj) in text.stdout
    run = svc(proj, "ps", "--cluster", proj.cluster, "--json")
    rows = json_lines(run)
    running = {r["service"] for r in rows if r["process"] == "running"}
    assert running == SERVICES, run.describe()
    assert {r["host"] for r in rows} == {_host(proj)}
    db_row = next(r for r in rows if r["service"] == "database")
    assert db_row["persistent"] == "populated" and db_row["project"] == proj.project

    # ps --persistent from the project directory keeps the project name (0.3.2 lost it)
    rows = json_lines(svc(proj, "ps", "--persistent", "--json"))
    data = [r for r in rows if r["persistent"] is not None]
    assert {r["service"] for r in data} == {"hashserver", "database"}, rows
    assert {r["project"] for r in data} == {proj.project}, rows

    # inspect: the server state
    run = svc(proj, "inspect", "--service", "hashserver")
    assert run.returncode == 0, run.describe()
    assert json.loads(run.stdout)["pid"] == hs_state["pid"]
    run = svc(proj, "inspect", "--service", "hashserver", "--json")
    assert json.loads(run.stdout.strip())["port"] == hs_state["port"]

    # logs: without knowing the key
    run = svc(proj, "logs", "--service", "hashserver", "--tail", "3")
    assert run.returncode == 0 and 0 < len(run.stdout.splitlines()) <= 3, run.describe()
    run = svc(proj, "logs", "--service", "hashserver", "--json")
    assert "Uvicorn running" in json.loads(run.stdout)["text"]

    # logs --follow: the log, then what is appended, until interrupted
    follow = subprocess.Popen([str(BIN / "seamless-service-logs"), "--service", "hashserver", "--follow"],
                              cwd=proj.project_dir, env=proj.env, stdout=subprocess.PIPE, text=True)
    try:
        assert follow.stdout is not None
        deadline = time.monotonic() + 60
        seen = ""
        while "Uvicorn running" not in seen and time.monotonic() < deadline:
            seen += follow.stdout.readline()
        assert "Uvicorn running" in seen
    finally:
        follow.send_signal(signal.SIGINT)
        follow.wait(30)

    # rm of a running service: refused (it would orphan the process)
    run = svc(proj, "rm", "--service", "hashserver")
    assert run.returncode == 1 and "stop it first" in run.stdout, run.describe()
    assert hs_key in proj.server_states()

    # stop --cluster: processes gone, state kept (stale), client files stale, tunnels closed
    run = svc(proj, "stop", "--cluster", proj.cluster, "--json")
    assert run.returncode == 0, run.describe()
    outcomes = json_lines(run)
    assert {o["service"] for o in outcomes} == SERVICES
    assert {o["outcome"] for o in outcomes} <= {"stopped", "kill required"}, outcomes
    assert not proj.service_processes()
    assert {s["status"] for s in proj.server_states().values()} == {"stale"}
    assert {r.get("status") for r in proj.client_records().values()} == {"stale"}
    assert not proj.ssh_tunnel_pids()
    if proj.ssh_alias is None:  # (the same code over SSH: skipped to keep the suite short)
        text = svc(proj, "stop", "--cluster", proj.cluster)
        assert text.returncode == 0 and "not running" in text.stdout, text.describe()

    # seamless-init relaunches cleanly
    again = proj.init()
    assert again.returncode == 0, again.describe()
    assert set(proj.service_processes()) == set(proj.server_states())
    assert {s["status"] for s in proj.server_states().values()} == {"running"}
    assert proj.state_for("hashserver")[1]["pid"] != hs_state["pid"]

    # stop and rm one service; a service that is not there: said so, exit 0
    run = svc(proj, "stop", "--service", "hashserver")
    assert run.returncode == 0 and "stopped" in run.stdout, run.describe()
    run = svc(proj, "rm", "--service", "hashserver", "--json")
    assert run.returncode == 0 and json_lines(run)[0]["outcome"] == "removed", run.describe()
    assert hs_key not in proj.server_states()
    assert (proj.server_dir / f"{hs_key}.log").exists()  # logs are kept
    for command in ("rm", "stop") if proj.ssh_alias is None else ("stop",):
        run = svc(proj, command, "--service", "hashserver")
        assert run.returncode == 0 and "missing" in run.stdout, run.describe()
    run = svc(proj, "rm", "--cluster", proj.cluster, "--stop")
    assert run.returncode == 0, run.describe()
    assert not proj.server_states() and not proj.service_processes()


def _free_port(lo: int, hi: int) -> int:
    for port in range(lo, hi + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port")


def _forge(proj: OrchProject, key: str, pid: int) -> dict[str, Any]:
    """A state file for *key* that claims the service runs as *pid* (with the service's real command)."""
    status_file = proj.server_dir / f"{key}.json"
    lo, hi = proj.ports["hashserver"]
    port = _free_port(lo, hi)
    forged = {
        "pid": pid, "status": "running", "port": port, "network_interface": "127.0.0.1", "uid": os.getuid(),
        "workdir": str(proj.bufferdir / proj.project), "log": str(proj.server_dir / f"{key}.log"),
        "command": f"hashserver --port-range {lo} {hi} --status-file {status_file} --host 127.0.0.1 --timeout 600 "
                   f"{proj.bufferdir / proj.project} --writable",
        "meta": {"service": "hashserver", "cluster": proj.cluster, "mode": "rw", "project": proj.project},
    }
    proj.server_dir.mkdir(parents=True, exist_ok=True)
    status_file.write_text(json.dumps(forged))
    return forged


def test_forged_state_pid_is_left_alone(any_project: OrchProject) -> None:
    proj = any_project
    key = json.loads(svc(proj, "resolve", "--service", "hashserver").stdout)["key"]
    sleep = start_sleep()
    try:
        _forge(proj, key, sleep.pid)
        rows = json_lines(svc(proj, "ps", "--cluster", proj.cluster, "--json"))
        assert next(r for r in rows if r["key"] == key)["process"] == "stale"
        run = svc(proj, "stop", "--service", "hashserver", "--json")
        assert run.returncode == 0, run.describe()
        outcome = json_lines(run)[0]
        assert outcome["outcome"] == "pid reused", outcome
        assert sleep.poll() is None and pid_alive(sleep.pid)
        state = proj.server_states()[key]
        assert state["status"] == "stale" and "not the recorded service" in state["stale_reason"]

        _forge(proj, key, sleep.pid)  # "running" again: seamless-init must relaunch, not kill
        init = proj.init()
        assert init.returncode == 0, init.describe()
        assert sleep.poll() is None and pid_alive(sleep.pid)
        assert proj.state_for("hashserver")[1]["pid"] != sleep.pid
    finally:
        sleep.kill()
        sleep.wait(10)
