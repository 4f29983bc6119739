"""The daskserver on a real single-node SLURM: queue fields in the submitted job script, and a
transformation that runs in a SLURM job, then comes from the database in a new process.

This machine is the cluster's login node (the cluster is the ``local_cluster``):
``seamless-init`` starts hashserver, database and ``seamless-dask-wrapper
dask_jobqueue::SLURMCluster`` here; the wrapper submits its Dask workers with
``sbatch`` to the SLURM of ``scripts/slurm.sh``. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
from dask_helpers import SCRIPT, base_queue, db_rows, diagnostics, executions, report_line
from orch_helpers import OrchProject

from slurm_cluster import Slurm

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

JOB_WAIT = 60.0  # a submitted job shows up in squeue within this
RUN_TIMEOUT = 150.0


def mib_ceil(megabytes: int) -> str:
    """What dask-jobqueue asks SLURM for (MiB, rounded up) for '<megabytes>MB'."""
    return f"{math.ceil(megabytes * 10**6 / 2**20)}M"


def wait_for_new_job(slurm: Slurm, before: set[str], proj: OrchProject) -> str:
    """The first job this project's daskserver submitted (its job logs live under the project's HOME)."""
    deadline = time.monotonic() + JOB_WAIT
    while time.monotonic() < deadline:
        ours = sorted((j for j in slurm.job_ids() - before
                       if job_record(slurm, j).get("StdOut", "").startswith(str(proj.home))), key=int)
        if ours:
            return ours[0]
        time.sleep(0.2)
    raise AssertionError(f"no job was submitted within {JOB_WAIT:g}s\n{diagnostics(proj)}")


def job_record(slurm: Slurm, job: str) -> dict[str, str]:
    """``scontrol show job -o``: the controller's view of the job, as key=value fields."""
    line = slurm.run("scontrol", "show", "job", "-o", job)
    fields: dict[str, str] = {}
    for word in line.split():
        key, sep, value = word.partition("=")
        if sep:
            fields[key] = value
    return fields


def sbatch_directives(script: str) -> list[str]:
    return [line[len("#SBATCH "):].strip() for line in script.splitlines() if line.startswith("#SBATCH ")]


def submitted_script(slurm: Slurm, job: str) -> str:
    """The batch script exactly as slurmctld stored it at submission."""
    return slurm.run("scontrol", "write", "batch_script", job, "-")


def init_and_get_job(proj: OrchProject, slurm: Slurm) -> tuple[str, dict[str, Any]]:
    before = slurm.job_ids()
    cold = proj.init("--json")
    assert cold.returncode == 0, cold.describe() + "\n" + diagnostics(proj)
    services = {s["service"]: s for s in cold.json["services"]}
    assert list(services) == ["hashserver", "database", "daskserver"], services
    assert all(s["status"] == "ok" for s in services.values()), services
    # interactive: true -> the wrapper keeps one worker job from the start.
    return wait_for_new_job(slurm, before, proj), cold.json


def test_queue_fields_reach_the_sbatch_script(slurm_project_factory: Any, slurm: Slurm) -> None:
    """Every queue field, through TEMPLATE inheritance and the node selection, in the real job script."""
    queues = {
        "base": base_queue(cores=1, walltime="00:20:00", memory="1000MB",
                           job_extra_directives=["--comment=seamless-base"]),
        # inherits walltime (and conda, maximum_jobs...) from 'base'; overrides the rest
        "whole": {"TEMPLATE": "base", "cores": None, "exclusive": True, "memory": "900MB", "interactive": True,
                  "job_extra_directives": ["--comment=seamless-whole", "--nice=10"]},
        "pair": {"TEMPLATE": "base", "cores": 2, "walltime": "00:15:00", "interactive": True},
        # exclusive with cores: fixed cores per task (seamless-dask 0.4 refused 0.3.2's job_cores here)
        "fixed": {"TEMPLATE": "base", "cores": 2, "exclusive": True, "interactive": True},
    }

    # 1. exclusive (whole node), node selection, extra directives, memory override, inherited walltime
    whole = slurm_project_factory("whole", queues=queues, default_queue="base",
                                  commands=[{"queue": "whole"}, {"node": slurm.node}])
    job, _ = init_and_get_job(whole, slurm)
    script = submitted_script(slurm, job)
    directives = sbatch_directives(script)
    assert "-t 00:20:00" in directives, directives  # walltime: inherited from 'base'
    assert f"--mem={mib_ceil(900)}" in directives, directives  # memory: 'whole' overrides 'base'
    assert "--cpus-per-task=1" in directives and "-n 1" in directives, directives  # exclusive, no cores: 1 task
    assert "--exclusive" in directives, directives
    assert f"--nodelist={slurm.node}" in directives, directives
    assert "--comment=seamless-whole" in directives and "--nice=10" in directives, directives
    assert "--comment=seamless-base" not in directives, "a TEMPLATE child's list replaces the parent's"
    assert "SEAMLESS_DASK_QUEUE_EXCLUSIVE=1" in script
    record = job_record(slurm, job)
    assert record["TimeLimit"] == "00:20:00", record
    assert record["Comment"] == "seamless-whole", record
    assert record["ReqNodeList"] == slurm.node, record
    assert record["OverSubscribe"] == "NO", record  # --exclusive
    assert record["MinMemoryNode"] == mib_ceil(900), record
    # The daskserver's own view of the queue (its state file) names the same values.
    _, state = whole.state_for("daskserver")
    assert state["parameters"]["exclusive"] is True and state["parameters"]["memory"] == "900MB"
    assert state["meta"]["queue"] == "whole"

    # 2. cores (and an overridden walltime), no node, not exclusive
    pair = slurm_project_factory("pair", queues=queues, default_queue="base", commands=[{"queue": "pair"}])
    job2, _ = init_and_get_job(pair, slurm)
    directives2 = sbatch_directives(submitted_script(slurm, job2))
    assert "--cpus-per-task=2" in directives2 and "-n 1" in directives2, directives2
    assert "-t 00:15:00" in directives2, directives2
    assert f"--mem={mib_ceil(1000)}" in directives2, directives2  # inherited from 'base'
    assert "--comment=seamless-base" in directives2, directives2  # inherited list
    assert "--exclusive" not in directives2 and not any(d.startswith("--nodelist") for d in directives2)
    record2 = job_record(slurm, job2)
    assert record2["TimeLimit"] == "00:15:00" and record2["Comment"] == "seamless-base", record2

    # 3. exclusive with cores: the daskserver starts (0.3.2's parameters made the wrapper refuse
    #    'job_cores' in exclusive mode) and each job asks for 'cores', one task at a time, not the node
    fixed = slurm_project_factory("fixed", queues=queues, default_queue="base", commands=[{"queue": "fixed"}])
    job3, _ = init_and_get_job(fixed, slurm)
    script3 = submitted_script(slurm, job3)
    directives3 = sbatch_directives(script3)
    assert "--cpus-per-task=2" in directives3 and "-n 1" in directives3, directives3
    assert "--exclusive" not in directives3, directives3
    assert "-t 00:20:00" in directives3 and f"--mem={mib_ceil(1000)}" in directives3, directives3  # inherited
    assert "SEAMLESS_DASK_QUEUE_EXCLUSIVE=1" in script3
    record3 = job_record(slurm, job3)
    assert record3["NumCPUs"] == "2" and record3["OverSubscribe"] != "NO", record3
    _, state3 = fixed.state_for("daskserver")
    assert state3["parameters"]["exclusive"] is True and state3["parameters"]["cores"] == 2
    assert "job_cores" not in state3["parameters"], state3["parameters"]


def test_transformation_runs_in_a_slurm_job_then_is_a_database_cache_hit(slurm_project_factory: Any,
                                                                          slurm: Slurm) -> None:
    proj = slurm_project_factory("tf", queues={"base": base_queue(cores=1)}, default_queue="base")
    marker = proj.root / "executions.txt"
    jobs_before = slurm.job_ids()

    # ---- cold: seamless-init brings everything up, then a user script runs the transformation
    start = time.monotonic()
    cold = proj.init("--json")
    assert cold.returncode == 0, cold.describe() + "\n" + diagnostics(proj)
    run1 = proj.run_script("add.py", SCRIPT, str(marker), str(RUN_TIMEOUT - 10), timeout=RUN_TIMEOUT)
    first_result = time.monotonic() - start
    assert run1.returncode == 0, run1.describe() + "\n" + diagnostics(proj)
    out1 = run1.tagged("DASK-RESULT")
    assert out1["result"] == 42
    done = executions(marker)
    assert len(done) == 1, done
    pid, job = done[0]
    assert pid != out1["client_pid"]
    assert job != "-", "the function body did not run inside a SLURM job"
    assert job not in jobs_before
    assert job_record(slurm, job)["JobName"] == "dask-worker", "a dask-jobqueue worker job"
    tf = out1["tf_checksum"]
    assert db_rows(proj.database_dir / proj.project / "seamless.db", tf) == [(tf, out1["result_checksum"])]

    # ---- a new process: the database has the result; nothing runs again
    run2 = proj.run_script("add.py", SCRIPT, str(marker), str(RUN_TIMEOUT - 10), timeout=RUN_TIMEOUT)
    assert run2.returncode == 0, run2.describe() + "\n" + diagnostics(proj)
    out2 = run2.tagged("DASK-RESULT")
    assert out2["result"] == 42 and out2["tf_checksum"] == tf and out2["result_checksum"] == out1["result_checksum"]
    assert executions(marker) == done, "the function body ran again"

    report_line("daskserver on SLURM", {
        "seamless_init_cold_s": round(cold.seconds, 2),
        "services_s": {s["service"]: s["seconds"] for s in cold.json["services"]},
        "first_script_s": round(run1.seconds, 2),
        "first_script_init_s": out1["init_seconds"],
        "init_start_to_first_result_s": round(first_result, 2),
        "first_run_s": out1["run_seconds"],
        "cache_hit_script_s": round(run2.seconds, 2),
        "cache_hit_run_s": out2["run_seconds"],
    })


@pytest.mark.parametrize("cores", [2, None])
def test_exclusive_queue_with_cores_runs_a_transformation(slurm_project_factory: Any, slurm: Slurm,
                                                          cores: int | None) -> None:
    """``exclusive: true`` + ``cores: 2``: the daskserver starts, the body runs in a SLURM job of 2 CPUs
    (the job asks for 'cores', not the whole node). With 0.3.2's parameters the wrapper refused to start,
    and with seamless-remote 0.4.0's worker count the worker refused its setup (upstream_fixes/daskserver_exclusive.py).
    ``cores`` unset: the whole node (``--exclusive``; this node has 2 CPUs)."""
    proj = slurm_project_factory("excl", queues={"base": base_queue(cores=cores, exclusive=True, interactive=True)},
                                 default_queue="base")
    marker = proj.root / "executions.txt"
    jobs_before = slurm.job_ids()
    cold = proj.init("--json")
    assert cold.returncode == 0, cold.describe() + "\n" + diagnostics(proj)
    run = proj.run_script("add.py", SCRIPT, str(marker), str(RUN_TIMEOUT - 10), timeout=RUN_TIMEOUT)
    assert run.returncode == 0, run.describe() + "\n" + diagnostics(proj)
    out = run.tagged("DASK-RESULT")
    assert out["result"] == 42
    done = executions(marker)
    assert len(done) == 1, done
    _pid, job = done[0]
    assert job != "-" and job not in jobs_before, "the function body did not run in a new SLURM job"
    record = job_record(slurm, job)
    assert record["JobName"] == "dask-worker" and record["NumCPUs"] == "2", record
    directives = sbatch_directives(submitted_script(slurm, job))
    if cores is None:
        assert "--cpus-per-task=1" in directives and "--exclusive" in directives, directives
        assert record["OverSubscribe"] == "NO", record
    else:
        assert "--cpus-per-task=2" in directives and "--exclusive" not in directives, directives
    report_line(f"daskserver on SLURM, exclusive, cores={cores}", {
        "seamless_init_cold_s": round(cold.seconds, 2), "first_script_s": round(run.seconds, 2),
        "first_run_s": out["run_seconds"],
    })
