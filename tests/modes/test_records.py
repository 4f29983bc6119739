"""Execution records in seamless.db: minimal by default, full with ``record: true`` / ``select_record(True)``."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from modes_cluster import LocalClusterProject, run_bounded
from scripts import RECORD

pytestmark = pytest.mark.slow

MINIMAL = {"tf_checksum", "result_checksum", "seamless_version", "execution_mode", "remote_target",
           "wall_time_seconds", "cpu_time_user_seconds", "cpu_time_system_seconds", "memory_peak_bytes",
           "gpu_memory_peak_bytes"}
FULL_ONLY = {"environment", "node", "compilation_context", "freshness", "hostname", "started_at", "finished_at"}


def _record(proj: LocalClusterProject, tf: str) -> dict[str, Any]:
    con = sqlite3.connect(f"file:{proj.database_file()}?mode=ro", uri=True, timeout=5)
    try:
        bodies = [r[-1] for r in con.execute("SELECT * FROM meta_data WHERE checksum = ?", (tf,))]
    finally:
        con.close()
    assert len(bodies) == 1, bodies
    record: dict[str, Any] = json.loads(bodies[0])
    return record


def test_minimal_by_default_full_on_request(modes_project: Callable[..., LocalClusterProject]) -> None:
    proj = modes_project(backend="none", execution="process")
    script = proj.write_script("record.py", RECORD)

    default = run_bounded(proj, script, "default", timeout=90)
    assert default.returncode == 0, default.describe()
    minimal = _record(proj, default.tagged("MODES-RESULT")["tf_checksum"])
    assert set(minimal) >= MINIMAL and not (set(minimal) & FULL_ONLY), sorted(minimal)
    assert minimal["execution_mode"] == "process" and minimal["result_checksum"]

    # Full records need the environment's bucket probes in the database first (seamless-transformer 0.6.1).
    probe = subprocess.run(["seamless-probe"], cwd=proj.project_dir, env=proj.env, capture_output=True,
                           text=True, timeout=90)
    assert probe.returncode == 0, probe.stdout + probe.stderr

    by_api = run_bounded(proj, script, "api", "api", timeout=90)   # select_record(True) before init()
    assert by_api.returncode == 0, by_api.describe()
    full = _record(proj, by_api.tagged("MODES-RESULT")["tf_checksum"])
    assert set(full) >= MINIMAL | FULL_ONLY, sorted(full)

    profile = proj.project_dir / "seamless.profile.yaml"
    profile.write_text(profile.read_text() + '- {"record": true}\n')
    by_file = run_bounded(proj, script, "file", timeout=90)
    assert by_file.returncode == 0, by_file.describe()
    full2 = _record(proj, by_file.tagged("MODES-RESULT")["tf_checksum"])
    assert set(full2) >= MINIMAL | FULL_ONLY, sorted(full2)
    assert full2["tf_checksum"] != full["tf_checksum"] != minimal["tf_checksum"]
