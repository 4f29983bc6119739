"""Fixtures for the end-to-end tests: a real local cluster per test, stopped by PID at teardown.

The machinery (project layout, isolated environment, ``stop_services``) is in
``local_cluster.py``. ``local_cluster_project`` gives one project with the
default layout; ``local_cluster_project_factory`` takes the keyword arguments
of :func:`local_cluster.write_local_cluster_project` (stages, extra commands,
other ports, ``root=`` for several projects).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from local_cluster import LocalClusterProject, stop_services, write_local_cluster_project  # noqa: E402


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def local_cluster_project_factory(tmp_path: Path) -> Iterator[Callable[..., LocalClusterProject]]:
    """``make(**kwargs)`` -> a LocalClusterProject under tmp_path (see write_local_cluster_project).

    Call it more than once with ``root=...`` for several projects; all their services are stopped at teardown.
    """
    made: list[LocalClusterProject] = []

    def make(root: Path | None = None, **kwargs: Any) -> LocalClusterProject:
        proj = write_local_cluster_project(root or tmp_path, **kwargs)
        made.append(proj)
        return proj

    yield make

    survivors: list[int] = []
    for proj in made:
        survivors += stop_services(proj.home, extra_pids=proj.extra_pids).survivors
    assert not survivors, f"services still alive after SIGKILL: {survivors}"


@pytest.fixture
def local_cluster_project(local_cluster_project_factory: Callable[..., LocalClusterProject]) -> LocalClusterProject:
    """One project on a local cluster with hashserver, database and jobserver (workers: 2, execution: remote)."""
    return local_cluster_project_factory()
