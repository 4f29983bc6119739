"""Daskserver projects for the tests: hashserver + database + daskserver, with real services.

A project is an ``OrchProject`` (tests/orchestrator/orch_helpers.py: its own
``home/``, ``project/``, ``buffers/``, ``db/``, isolated HOME, teardown by PID)
whose profile defines one cluster with a ``daskserver:`` frontend and Dask
queues, and selects ``execution: remote`` + ``remote: daskserver``.

- ``cluster_type="slurm"``: the cluster is the ``local_cluster`` (this machine is
  the login node); the daskserver runs ``dask_jobqueue.SLURMCluster`` and its
  workers are real ``sbatch`` jobs on the test SLURM (scripts/slurm.sh).
- ``cluster_type="local"`` with ``ssh=``: the frontend is reached over the test
  sshd with ``tunnel: true``; the wrapper runs there as a daemon
  (``distributed.LocalCluster``) and its ports come back through tunnels.

Ports: hashserver and database from ``allocate_ports()``; the daskserver gets
its own 40-port block (scheduler, dashboard, and the workers' and nannies' ports:
seamless-dask-wrapper uses the same range for all of them).
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
for _path in (str(TESTS / "orchestrator"), str(TESTS / "e2e"), str(TESTS)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from orch_helpers import OrchProject, make_project, yaml_list  # noqa: E402

DASK_PORT_BASE = 62000  # apart from the other suites (55xxx, 57xxx, 61xxx)
DASK_PORT_BLOCK = 40
_dask_blocks = itertools.count()

# The user's script: one small transformation. The body appends "<pid> <SLURM_JOB_ID>" to a
# marker file (one line per real execution). No is_cached() before run(): seamless-transformer
# 0.6.1's is_cached_sync() closes the remote clients under a pending upload (see
# /work/shared/evidence/upload-race.md); that race is not what these tests are about.
SCRIPT = textwrap.dedent("""
    import faulthandler, json, os, sys, time

    faulthandler.dump_traceback_later(float(sys.argv[2]), exit=True)  # a hang shows where it hangs
    t0 = time.monotonic()
    import seamless
    import seamless.config
    from seamless.transformer import delayed

    seamless.config.init()
    t_init = time.monotonic() - t0

    @delayed
    def add(a, b, marker):
        import os
        with open(marker, "a") as f:
            f.write(f"{os.getpid()} {os.environ.get('SLURM_JOB_ID', '-')}\\n")
        return a + b

    tf = add(19, 23, sys.argv[1])
    t1 = time.monotonic()
    result = tf.run()
    t_run = time.monotonic() - t1
    payload = {
        "result": result,
        "tf_checksum": tf.transformation_checksum.hex(),
        "result_checksum": tf.result_checksum.hex(),
        "client_pid": os.getpid(),
        "init_seconds": round(t_init, 3),
        "run_seconds": round(t_run, 3),
        "total_seconds": round(time.monotonic() - t0, 3),
    }
    print("DASK-RESULT", json.dumps(payload), flush=True)
    seamless.close()
""")


def base_queue(**fields: Any) -> dict[str, Any]:
    # conda "" = no conda (seamless-remote's daskserver client asserts that conda is not None).
    queue: dict[str, Any] = {"conda": "", "walltime": "00:20:00", "memory": "1000MB", "maximum_jobs": 1,
                             "unknown_task_duration": "1s", "target_duration": "1s"}
    queue.update(fields)
    return queue


def make_dask_project(
    root: Path,
    *,
    cluster_type: str,
    queues: Mapping[str, Mapping[str, Any]],
    default_queue: str,
    ssh: Any = None,
    workers: int = 2,
    commands: Sequence[Any] = (),
    env: Mapping[str, str] | None = None,
) -> OrchProject:
    proj = make_project(root, ssh=ssh, cluster=f"dask{cluster_type}{'ssh' if ssh is not None else ''}",
                        project="daskproj")
    lo = DASK_PORT_BASE + DASK_PORT_BLOCK * next(_dask_blocks)
    proj.ports["daskserver"] = (lo, lo + DASK_PORT_BLOCK - 1)
    frontend = proj.frontend()
    del frontend["jobserver"]
    frontend["daskserver"] = {"network_interface": "127.0.0.1", "port_start": lo, "port_end": lo + DASK_PORT_BLOCK - 1}
    cluster: dict[str, Any] = {
        "type": cluster_type,
        "tunnel": ssh is not None,
        "workers": workers,
        "frontends": [frontend],
        "default_queue": default_queue,
        "queues": {name: dict(q) for name, q in queues.items()},
    }
    clusters: dict[str, Any] = {proj.cluster: cluster}
    if ssh is None:
        clusters["local_cluster"] = proj.cluster
    profile = [{"clusters": clusters}, {"cluster": proj.cluster}, {"execution": "remote"},
               {"remote": "daskserver"}, *commands]
    (proj.project_dir / "seamless.yaml").write_text(yaml_list([{"project": proj.project}]))
    proj.profile_path.write_text(yaml_list(profile))
    if env:
        proj.env.update(env)
    return proj


def db_rows(db: Path, tf_checksum: str) -> list[tuple[str, str]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute("SELECT checksum, result FROM transformation WHERE checksum = ?", (tf_checksum,)).fetchall()
    finally:
        con.close()


def executions(marker: Path) -> list[tuple[int, str]]:
    if not marker.exists():
        return []
    return [(int(pid), job) for pid, job in (line.split() for line in marker.read_text().splitlines() if line)]


def diagnostics(proj: OrchProject, lines: int = 40) -> str:
    parts = []
    for key, state in proj.server_states().items():
        log = Path(state.get("log") or proj.server_dir / f"{key}.log")
        text = log.read_text(errors="replace") if log.exists() else "(no log)"
        parts.append(f"--- {key} (pid {state.get('pid')}, {state.get('status')}) ---\n"
                     + "\n".join(text.splitlines()[-lines:]))
    return "\n".join(parts) or "(no services)"


def report_line(name: str, values: Mapping[str, Any]) -> None:
    """Print a measurement and append it to .cache/dask-timings.jsonl (read by the note)."""
    print(f"\n{name}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    out = TESTS.parent / ".cache" / "dask-timings.jsonl"
    try:
        out.parent.mkdir(exist_ok=True)
        with out.open("a") as f:
            f.write(json.dumps({"test": name, "pid": os.getpid(), **values}) + "\n")
    except OSError:
        pass
