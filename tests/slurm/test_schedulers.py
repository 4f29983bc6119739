"""The scheduler interface (pure, no SLURM needed): one class per scheduler, defaults as data,
argument > file > default, and a new scheduler as a new class."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from seamless_config.core.model import Cluster, Frontend, Queue
from seamless_config.core.schedulers import SCHEDULERS, FromCluster, Scheduler, scheduler_for
from seamless_config.errors import ConfigurationError, UnsafeNameError


def cluster(type_: str, **kwargs: Any) -> Cluster:
    return Cluster(name="c", frontends=(Frontend(hostname="h"),), type=type_, **kwargs)  # type: ignore[arg-type]


def test_one_scheduler_per_type() -> None:
    from seamless_config.core.model import CLUSTER_TYPES

    assert set(SCHEDULERS) == set(CLUSTER_TYPES)
    assert {t: s.cluster_string for t, s in SCHEDULERS.items()} == {
        "local": "distributed::LocalCluster",
        "slurm": "dask_jobqueue::SLURMCluster",
        "oar": "dask_jobqueue::OARCluster",
    }
    with pytest.raises(ConfigurationError, match="needs 'type'"):
        scheduler_for("c", None)
    with pytest.raises(ConfigurationError, match="no Dask scheduler for type 'pbs'"):
        scheduler_for("c", "pbs")


def test_precedence_argument_file_default() -> None:
    local = SCHEDULERS["local"]
    c = cluster("local", workers=6)
    # default (from the cluster's 'workers', as data)
    assert local.file_parameters(c, Queue(name="q", memory="1GB"), node=None, pure=False)["cores"] == 6
    # file beats default
    assert local.file_parameters(c, Queue(name="q", cores=3), node=None, pure=False)["cores"] == 3
    # argument beats file
    params = local.file_parameters(c, Queue(name="q", cores=3, walltime="01:00:00"), node=None, pure=False,
                                   overrides={"cores": 1, "walltime": "00:05:00"})
    assert (params["cores"], params["walltime"]) == (1, "00:05:00")
    # pure defaults on top: worker_threads 2, maximum_jobs from 'workers'
    pure = local.file_parameters(c, Queue(name="q"), node=None, pure=True)
    assert (pure["worker_threads"], pure["maximum_jobs"], pure["pure_dask"]) == (2, 6, True)
    with pytest.raises(ConfigurationError, match="unknown queue parameter"):
        local.file_parameters(c, Queue(name="q"), node=None, pure=False, overrides={"wallclock": 1})


def test_slurm_node_and_whole_node_are_directives() -> None:
    slurm = SCHEDULERS["slurm"]
    c = cluster("slurm")
    params = slurm.file_parameters(c, Queue(name="q", exclusive=True, job_extra_directives=["--nodelist=n1"]),
                                   node="n1", pure=False, record=True)
    assert params["job_extra_directives"] == ["--nodelist=n1", "--exclusive"]  # no duplicate
    assert params["exclusive"] is True and params["record"] is True and "resource_spec" not in params
    with pytest.raises(UnsafeNameError):
        slurm.file_parameters(c, Queue(name="q", cores=1), node="n1\n#SBATCH --uid=0", pure=False)
    with pytest.raises(ConfigurationError, match="Node selection is not supported"):
        SCHEDULERS["local"].file_parameters(cluster("local"), Queue(name="q", cores=1), node="n1", pure=False)


def test_a_new_scheduler_is_a_new_class() -> None:
    """What adding PBS would look like: data, one method, no change to launch.py."""

    class PBSScheduler(Scheduler):
        type = "pbs"
        cluster_string = "dask_jobqueue::PBSCluster"
        defaults: ClassVar[dict[str, Any]] = {"walltime": "01:00:00", "cores": FromCluster("workers")}
        whole_node_directive = "-l place=excl"

        def node_directives(self, node: str) -> list[str]:
            return [f"-l host={node}"]

    pbs = PBSScheduler()
    params = pbs.file_parameters(cluster("slurm", workers=4), Queue(name="q", exclusive=True), node="n2", pure=False)
    assert params["walltime"] == "01:00:00" and params["cores"] == 4
    assert params["job_extra_directives"] == ["-l host=n2", "-l place=excl"]
