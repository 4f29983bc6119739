"""Fixtures shared by tests/faults and tests/soak (imported by their conftest.py files)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fault_helpers  # noqa: F401  (puts the orchestrator and e2e helpers on sys.path)
import pytest
from orch_helpers import OrchProject, make_project, teardown_project
from sshd import sshd  # noqa: F401  (session fixture)


@pytest.fixture
def project_factory(tmp_path: Path) -> Iterator[Callable[..., OrchProject]]:
    """``make(name, **kwargs)`` -> an OrchProject; all its services and tunnels stopped by PID at teardown."""
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
