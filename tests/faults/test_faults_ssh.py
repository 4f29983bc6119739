"""Fault scenarios on an SSH frontend with tunnels (the real sshd of tests/sshd.py on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator

import pytest
from fault_helpers import assert_clean, census, kill_pids_checked, kill_service, report_services, tunnel_pids
from orch_helpers import SERVICES, OrchProject
from sshd import SSHD, free_port

pytestmark = [pytest.mark.slow, pytest.mark.ssh]


@pytest.fixture
def ssh_project(project_factory: Callable[..., OrchProject], sshd: SSHD) -> Iterator[OrchProject]:
    proj = project_factory(ssh=sshd)
    sshd.set_remote_home(proj.remote_home)
    try:
        yield proj
    finally:
        sshd.set_remote_home(None)


def test_dead_service_behind_a_live_tunnel(ssh_project: OrchProject) -> None:
    proj = ssh_project
    cold = proj.init("--json")
    assert cold.returncode == 0, cold.describe()
    old_tunnels = tunnel_pids(proj, "hashserver")
    assert old_tunnels, proj.client_records()
    kill_service(proj, "hashserver")
    assert all(census(proj).tunnels), "the tunnel should still be up, in front of nothing"
    t0 = time.monotonic()
    run = proj.init("--json", "-vv")  # -vv: the log says where the time went
    assert run.returncode == 0, run.describe()
    services = report_services(run.json)
    assert not services["hashserver"]["reused"], services
    if os.environ.get("FAULTS_SHOW_LOG"):
        print(run.stderr)
    # Forwarded again (by a new `ssh -L`, or by the shared ControlMaster: then the PID may stay the same).
    assert tunnel_pids(proj, "hashserver"), proj.client_records()
    assert_clean(proj)
    print(f"\ndead service behind a live tunnel: relaunched and re-tunnelled in {time.monotonic() - t0:.2f}s")


def test_sigkill_of_each_tunnel(ssh_project: OrchProject) -> None:
    proj = ssh_project
    cold = proj.init("--json")
    assert cold.returncode == 0, cold.describe()
    pids = {k: s["pid"] for k, s in proj.server_states().items()}
    for service in SERVICES:
        tunnels = tunnel_pids(proj, service)
        assert tunnels, service
        kill_pids_checked(tunnels)
        t0 = time.monotonic()
        run = proj.init("--json")
        assert run.returncode == 0, run.describe()
        # Only the tunnel is new: the service is reused on the frontend, never launched twice.
        assert {k: s["pid"] for k, s in proj.server_states().items()} == pids
        assert tunnel_pids(proj, service), proj.client_records()  # forwarded again
        assert_clean(proj)
        print(f"\ntunnel of {service} killed: re-tunnelled in {time.monotonic() - t0:.2f}s")


def test_sshd_down(ssh_project: OrchProject, sshd: SSHD) -> None:
    """The frontend's sshd does not answer: every service fails fast with what to check; nothing starts."""
    proj = ssh_project
    dead_config = proj.root / "dead_ssh_config"
    port = free_port()  # nobody listens there
    text = sshd.config_path.read_text()
    lines = [f"    Port {port}" if line.strip().startswith("Port ") else line for line in text.splitlines()]
    dead_config.write_text("\n".join(lines) + "\n")
    env = dict(proj.env, SEAMLESS_SSH_CONFIG=str(dead_config))
    run = proj.init("--json", "--timeout", "30", env=env)
    assert run.returncode == 4, run.describe()
    services = report_services(run.json)
    for service in ("hashserver", "database"):
        assert services[service]["status"] == "failed", services
        reason = services[service]["reason"]
        assert reason.startswith("Cannot") and sshd.alias in reason, reason
    assert services["jobserver"]["status"] in ("skipped", "failed")
    assert run.json["deadline_passed"] is False
    assert not proj.server_states() and not census(proj).tunnels
    assert not census(proj).leaked
    print(f"\nsshd down: reported after {run.seconds:.2f}s: {services['hashserver']['reason'][:120]}")
    # sshd back (the real config): everything comes up, once.
    again = proj.init("--json")
    assert again.returncode == 0, again.describe()
    assert json.dumps(again.json).count('"reused": false') == 3
    assert_clean(proj)
