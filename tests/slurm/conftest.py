"""Daskserver projects on the real single-node SLURM (the session fixture ``slurm``, slurm_cluster.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from dask_helpers import make_dask_project  # noqa: E402
from slurm_cluster import Slurm, slurm  # noqa: E402,F401  (session fixture)
from orch_helpers import OrchProject, teardown_project  # noqa: E402


@pytest.fixture
def slurm_project_factory(tmp_path: Path, slurm: Slurm) -> Iterator[Callable[..., OrchProject]]:
    """``make(name, queues=..., default_queue=..., commands=...)`` -> a project on the test SLURM.

    Teardown stops the services by PID (the daskserver cancels its jobs as it
    exits), then cancels, by job ID, any job that appeared during the test.
    """
    made: list[OrchProject] = []
    jobs_before = slurm.job_ids()

    def make(name: str = "p", **kwargs: Any) -> OrchProject:
        proj = make_dask_project(tmp_path / name, cluster_type="slurm", env=slurm.env, **kwargs)
        made.append(proj)
        return proj

    yield make

    survivors: list[int] = []
    for proj in made:
        survivors += teardown_project(proj)
    slurm.cancel(slurm.job_ids() - jobs_before)
    assert not survivors, f"processes still alive after SIGKILL: {survivors}"
