"""remote: daskserver on a ``type: local`` cluster, the scheduler on the client (no ``hostname``).

hashserver + database + ``seamless-dask-wrapper distributed::LocalCluster`` come up on 127.0.0.1;
the client asks ``is_cached()`` *before* ``run()`` (the sequence that hung 3 runs in 5 with
seamless-transformer 0.6.1, see docs/upstream-issues.md), the transformation runs in a Dask
worker, is stored, and a second process gets it from seamless-database without executing it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from modes_cluster import LocalClusterProject, run_bounded
from scripts import ADD

pytestmark = pytest.mark.slow


def _db_rows(proj: LocalClusterProject, tf: str) -> tuple[list[tuple[str, str]], list[str]]:
    con = sqlite3.connect(f"file:{proj.database_file()}?mode=ro", uri=True, timeout=5)
    try:
        rows = con.execute("SELECT checksum, result FROM transformation WHERE checksum = ?", (tf,)).fetchall()
        meta = [r[-1] for r in con.execute("SELECT * FROM meta_data WHERE checksum = ?", (tf,))]
    finally:
        con.close()
    return rows, meta


def test_daskserver_local_runs_stores_and_hits_the_cache(modes_project: Callable[..., LocalClusterProject]) -> None:
    # The queue names no conda environment: "run without conda" (seamless-remote 0.4.0 alone would
    # fail its assertion; see upstream_fixes "daskserver-requires-conda").
    proj = modes_project(backend="daskserver", omit_queue_conda=True)
    script = proj.write_script("add.py", ADD)
    marker = proj.root / "executions.txt"

    run1 = run_bounded(proj, script, str(marker), "daskserver-local")
    assert run1.returncode == 0, run1.describe() + "\n" + proj.diagnostics()
    out1 = run1.tagged("MODES-RESULT")
    assert out1["result"] == 42 and out1["cached_before"] is False and out1["cached_after"] is True

    key, state = proj.state_for("daskserver")
    assert state["status"] == "running" and "distributed::LocalCluster" in state["command"]
    lo, hi = proj.ports["daskserver"]
    assert lo <= state["port"] <= hi and state.get("network_interface") == "127.0.0.1"
    executions = marker.read_text().split()
    assert len(executions) == 1 and int(executions[0]) != out1["client_pid"], "the body did not run in a Dask worker"

    rows, meta = _db_rows(proj, out1["tf_checksum"])
    assert rows == [(out1["tf_checksum"], out1["result_checksum"])], rows
    # seamless-dask 0.4 writes the minimal record with remote_target null (the jobserver writes "jobserver")
    assert any('"execution_mode":"remote"' in body.replace(" ", "") for body in meta), meta

    pid = state["pid"]
    run2 = run_bounded(proj, script, str(marker), "daskserver-local")
    assert run2.returncode == 0, run2.describe() + "\n" + proj.diagnostics()
    out2 = run2.tagged("MODES-RESULT")
    assert out2["result"] == 42 and out2["cached_before"] is True
    assert out2["tf_checksum"] == out1["tf_checksum"]
    assert marker.read_text().split() == executions, "the body ran again instead of a database cache hit"
    assert proj.state_for("daskserver")[1]["pid"] == pid, "the daskserver was launched again"
    print(f"\ndaskserver/local: first result {out1['first_result_seconds']}s after init start; "
          f"cache hit {out2['first_result_seconds']}s")
