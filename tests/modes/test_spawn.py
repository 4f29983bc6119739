"""execution: spawn — the cluster's ``workers`` local worker processes run the transformations, in parallel."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modes_cluster import LocalClusterProject, run_bounded
from scripts import SPAWN

pytestmark = pytest.mark.slow


def test_spawn_runs_in_parallel_worker_processes(modes_project: Callable[..., LocalClusterProject]) -> None:
    proj = modes_project(backend="none", execution="spawn", workers=2)
    script = proj.write_script("spawn_two.py", SPAWN)
    run = run_bounded(proj, script, timeout=110)
    assert run.returncode == 0, run.describe() + "\n" + proj.diagnostics()
    out = run.tagged("MODES-RESULT")
    (pid_a, start_a, end_a), (pid_b, start_b, end_b) = out["results"]
    assert out["client_pid"] not in (pid_a, pid_b), "a transformation ran in the client"
    assert pid_a != pid_b, "both ran in the same worker: not in parallel"
    assert start_a < end_b and start_b < end_a, f"the two 2 s naps did not overlap: {out['results']}"
    # storage still came from the cluster (persistent by default with a cluster)
    assert {s["meta"]["service"] for s in proj.server_states().values()} == {"hashserver", "database"}
    print(f"\nspawn: first result {out['first_result_seconds']}s after init start")
