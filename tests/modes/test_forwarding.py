"""Forwarding remote clients to a worker process, with the real seamless-remote.

``collect_remote_clients`` → ``SEAMLESS_REMOTE_CLIENTS`` → ``set_remote_clients_from_env()``:
a separate worker process reads a buffer the client wrote to the hashserver and writes a
result that the client reads back; ``seamless-init`` exits 0 at once in that environment.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modes_cluster import LocalClusterProject, run_bounded
from scripts import FORWARD_CLIENT, FORWARD_WORKER

pytestmark = pytest.mark.slow


def test_forwarded_clients_round_trip(modes_project: Callable[..., LocalClusterProject]) -> None:
    proj = modes_project(backend="none", execution="process")
    proj.write_script("forward_worker.py", FORWARD_WORKER)
    script = proj.write_script("forward_client.py", FORWARD_CLIENT)
    run = run_bounded(proj, script, proj.cluster, timeout=110)
    assert run.returncode == 0, run.describe() + "\n" + proj.diagnostics()
    out = run.tagged("MODES-RESULT")

    _, hashserver = proj.state_for("hashserver")
    _, database = proj.state_for("database")
    (buffer_entry,) = out["clients"]["buffer"]
    (database_entry,) = out["clients"]["database"]
    assert buffer_entry["url"] == f"http://127.0.0.1:{hashserver['port']}"
    assert buffer_entry["readonly"] is False
    assert database_entry["url"] == f"http://127.0.0.1:{database['port']}"

    assert out["seamless_init_rc"] == 0 and out["seamless_init_output"] == "", out["seamless_init_output"]
    assert out["worker"]["read"] == out["written"]
    assert out["worker"]["ok"] is True
    assert out["read_back"] == out["written"].upper() + f" / read by worker {out['worker']['pid']}"
