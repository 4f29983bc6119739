"""Fixtures for the service-command tests: real services (local and behind the test sshd), no mocks.

Projects come from ``tests/orchestrator/orch_helpers.py`` (own HOME, own port
ranges); teardown stops what they started by PID and fails the test if
anything survives.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
for _path in (str(HERE), str(TESTS), str(TESTS / "e2e"), str(TESTS / "orchestrator")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from orch_helpers import OrchProject, make_project, teardown_project  # noqa: E402
from sshd import SSHD, sshd  # noqa: E402,F401  (session fixture)


@pytest.fixture
def project_factory(tmp_path: Path) -> Iterator[Callable[..., OrchProject]]:
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
    return project_factory()


@pytest.fixture
def ssh_project(project_factory: Callable[..., OrchProject], sshd: SSHD) -> Iterator[OrchProject]:  # noqa: F811
    proj = project_factory(ssh=sshd)
    sshd.set_remote_home(proj.remote_home)
    try:
        yield proj
    finally:
        sshd.set_remote_home(None)
