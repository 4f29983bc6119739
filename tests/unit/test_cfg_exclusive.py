"""``exclusive: true`` with and without ``cores``: the daskserver parameters, and what
seamless-dask 0.4's wrapper and dask-jobqueue make of them (no scheduler needed).

The wrapper's rule (``build_wrapper_configuration``): in exclusive mode ``job_cores`` must not
be set; with ``cores: N`` it asks for N cores per job itself ("fixed cores per task": one
worker, one thread, one task at a time per job); without ``cores`` it asks for 1 and the
whole node comes from the scheduler (``--exclusive`` / ``/nodes=1``, which we add). 0.3.2 sent
``job_cores = cores`` and the wrapper refused to start; we send no ``job_cores``
(tests/intended_divergences.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from seamless_config.core.model import Cluster, Frontend, Queue
from seamless_config.core.schedulers import SCHEDULERS
from seamless_config.errors import ConfigurationError

wrapper = pytest.importorskip("seamless_dask.wrapper")


def cluster(type_: str) -> Cluster:
    return Cluster(name="c", frontends=(Frontend(hostname="h"),), type=type_, workers=2)  # type: ignore[arg-type]


def queue(**fields: Any) -> Queue:
    return Queue(name="q", walltime="01:00:00", memory="1000MB", **fields)


def wrapper_config(params: dict[str, Any]) -> Any:
    return wrapper.build_wrapper_configuration(host="127.0.0.1", port_range=(62940, 62979), parameters=params)


def job_script(system: str, params: dict[str, Any]) -> str:
    """The job script dask-jobqueue would submit, from the wrapper's own translation of *params*."""
    pytest.importorskip("dask_jobqueue")
    import dask
    import dask_jobqueue  # noqa: F401  (loads jobqueue.yaml)
    from dask_jobqueue.oar import OARJob
    from dask_jobqueue.slurm import SLURMJob

    config = wrapper_config(params)
    merged = dask.config.merge(dask.config.get(f"jobqueue.{system}"), config.jobqueue_config[system])
    job_class = {"slurm": SLURMJob, "oar": OARJob}[system]
    with dask.config.set({f"jobqueue.{system}": merged}):
        return str(job_class(scheduler="tcp://127.0.0.1:62940", name="dask-worker").job_script())


def directives(script: str, prefix: str) -> list[str]:
    return [line[len(prefix):].strip() for line in script.splitlines() if line.startswith(prefix)]


@pytest.mark.parametrize("type_", ["slurm", "oar", "local"])
def test_exclusive_with_cores_sends_no_job_cores_and_the_wrapper_accepts(type_: str) -> None:
    params = SCHEDULERS[type_].file_parameters(cluster(type_), queue(cores=4, exclusive=True), node=None, pure=False)
    assert params["exclusive"] is True and params["cores"] == 4
    assert "job_cores" not in params and "resource_spec" not in params
    assert "--exclusive" not in params.get("job_extra_directives", [])
    config = wrapper_config(params)  # 0.3.2's parameters: RuntimeError "'job_cores' must not be set ..."
    assert config.exclusive is True and config.common["cores"] == 4
    assert (config.worker_processes, config.worker_threads) == (1, 1)  # one task at a time per job


@pytest.mark.filterwarnings("ignore:OAR Job memory reserved resources")
def test_exclusive_with_cores_in_the_job_scripts() -> None:
    params = SCHEDULERS["slurm"].file_parameters(cluster("slurm"), queue(cores=4, exclusive=True), node="n1",
                                                 pure=False)
    sbatch = directives(job_script("slurm", params), "#SBATCH")
    assert "--cpus-per-task=4" in sbatch and "-n 1" in sbatch, sbatch
    assert "--exclusive" not in sbatch and "--nodelist=n1" in sbatch, sbatch
    params = SCHEDULERS["oar"].file_parameters(cluster("oar"), queue(cores=4, exclusive=True), node=None, pure=False)
    assert "-l /nodes=1/core=4,walltime=01:00:00" in directives(job_script("oar", params), "#OAR")


@pytest.mark.filterwarnings("ignore:OAR Job memory reserved resources")
def test_exclusive_without_cores_takes_the_whole_node() -> None:
    params = SCHEDULERS["slurm"].file_parameters(cluster("slurm"), queue(exclusive=True), node=None, pure=False)
    assert "cores" not in params and "job_cores" not in params
    sbatch = directives(job_script("slurm", params), "#SBATCH")
    assert "--exclusive" in sbatch and "--cpus-per-task=1" in sbatch, sbatch
    params = SCHEDULERS["oar"].file_parameters(cluster("oar"), queue(exclusive=True), node=None, pure=False)
    assert "-l /nodes=1,walltime=01:00:00" in directives(job_script("oar", params), "#OAR")


def test_pure_daskserver_with_exclusive_and_cores_is_accepted() -> None:
    params = SCHEDULERS["slurm"].file_parameters(cluster("slurm"), queue(cores=4, exclusive=True), node=None, pure=True)
    assert "exclusive" not in params and "job_cores" not in params  # as 0.3.2
    assert wrapper_config(params).common["cores"] == 4


def test_job_cores_as_an_argument_with_exclusive_is_refused() -> None:
    # the cluster file cannot say this (refused when it is read); an explicit argument can
    with pytest.raises(ConfigurationError, match="'job_cores' cannot be combined with 'exclusive: true'"):
        SCHEDULERS["slurm"].file_parameters(cluster("slurm"), queue(cores=4, exclusive=True), node=None, pure=False,
                                            overrides={"job_cores": 2})
    # not exclusive: job_cores is the scheduler's request, cores the worker's size
    params = SCHEDULERS["slurm"].file_parameters(cluster("slurm"), queue(cores=4), node=None, pure=False,
                                                 overrides={"job_cores": 2})
    assert (params["cores"], params["job_cores"]) == (4, 2)
    assert wrapper_config(params).common["cores"] == 2


def test_exclusive_workers_get_one_seamless_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """upstream_fixes ``daskserver-exclusive-worker-count``: seamless-remote 0.4.0 registers one Seamless
    worker per queue ``cores``, seamless-dask 0.4 gives an exclusive worker one thread, and its plugin
    refuses fewer threads than Seamless workers; for an exclusive queue the handle's count becomes 1."""
    import importlib.metadata

    from seamless_config import upstream_fixes
    from seamless_config.upstream_fixes import daskserver_exclusive

    daskserver_remote = pytest.importorskip("seamless_remote.daskserver_remote")
    versions = (importlib.metadata.version("seamless-remote"), importlib.metadata.version("seamless-dask"))
    affected = (daskserver_exclusive.AFFECTED, daskserver_exclusive.DASK_AFFECTED)
    if versions[0] not in affected[0] or versions[1] not in affected[1]:
        pytest.skip(f"seamless-remote / seamless-dask {versions} is not the affected pair")
    handle_class = daskserver_remote.DaskserverLaunchedHandle

    def published_config(self: Any, file_parameters: dict[str, Any]) -> None:  # what 0.4.0's config() sets
        self.launch_config = {"conda": "", "file_parameters": file_parameters}
        self.cores = int(file_parameters.get("cores") or 1)

    monkeypatch.setattr(handle_class, "config", published_config)
    def fix() -> Any:
        return upstream_fixes._apply_one(daskserver_exclusive.WORKAROUND)

    assert fix().applied
    assert fix().reason == "already applied"  # not wrapped twice
    handle = object.__new__(handle_class)
    handle.config({"cores": 4, "exclusive": True})
    assert handle.cores == 1
    handle.config({"cores": 4})
    assert handle.cores == 4  # not exclusive: unchanged
    handle.config({"cores": 4, "job_cores": 2, "exclusive": False})
    assert handle.cores == 4
