"""The project fixtures of the integration suites (orchestrator, services, faults, soak), defined once.

Each conftest imports them; see ``tests/orchestrator/conftest.py`` for what a project is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from pathlib import Path

import pytest
from orch_helpers import OrchProject, make_project, teardown_project
from sshd import SSHD, sshd  # noqa: F401  (session fixture)


@pytest.fixture
def project_factory(tmp_path: Path) -> Iterator[Callable[..., OrchProject]]:
    """``make(**kwargs)`` -> an OrchProject under tmp_path (see ``orch_helpers.make_project``).

    Everything the projects started is stopped at teardown, and the test fails
    if a service or tunnel survives SIGKILL.
    """
    made: list[OrchProject] = []

    def make(name: str = "p", **kwargs: Any) -> OrchProject:
        proj = make_project(tmp_path / name, **kwargs)
        made.append(proj)
        return proj

    yield make

    survivors: list[int] = []
    for proj in made:
        survivors += teardown_project(proj)
    assert not survivors, f"processes still alive after SIGKILL: {survivors}"


@pytest.fixture
def project(project_factory: Callable[..., OrchProject]) -> OrchProject:
    """A project on a local cluster: hashserver, database, jobserver (workers: 2, execution: remote)."""
    return project_factory()


@pytest.fixture
def ssh_project(project_factory: Callable[..., OrchProject], sshd: SSHD) -> Iterator[OrchProject]:  # noqa: F811
    """A project whose cluster is reached over SSH (the test sshd) with ``tunnel: true``.

    The remote sessions get their own HOME (``remote-home/``): server state
    lives there, client records and tunnels in the local ``home/``.
    """
    proj = project_factory(ssh=sshd)
    sshd.set_remote_home(proj.remote_home)
    try:
        yield proj
    finally:
        sshd.set_remote_home(None)
