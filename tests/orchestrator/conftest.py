"""Fixtures for the orchestrator integration tests: real services, a real sshd, no mocks.

Every test gets its own directory tree (``home/``, ``project/``, ``buffers/``,
``db/``; SSH tests also ``remote-home/``), its own port ranges, and a teardown
that closes the tunnels it opened and stops every service it started, by PID
(service PIDs from ``<home>/.remote-http-launcher/server/*.json``; tunnel PIDs
from ``seamless_config.remote.find_tunnel_pids`` on the ports of the client
records). Services only ever bind 127.0.0.1.

The machinery for stopping services is shared with the e2e tests
(``tests/e2e/local_cluster.py``); the sshd fixture with the remote-layer tests
(``tests/sshd.py``). The helpers of this directory are in ``orch_helpers.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
for _path in (str(HERE), str(TESTS), str(TESTS / "e2e")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

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
