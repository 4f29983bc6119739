"""Fixtures for the execution-mode tests: one real local cluster per test, stopped by PID at teardown."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from modes_cluster import LocalClusterProject, stop_services, write_modes_project  # noqa: E402


@pytest.fixture
def modes_project(tmp_path: Path) -> Iterator[Callable[..., LocalClusterProject]]:
    """``make(**kwargs)`` -> a project (see ``write_modes_project``); its services are stopped at teardown."""
    made: list[LocalClusterProject] = []

    def make(root: Path | None = None, **kwargs: Any) -> LocalClusterProject:
        proj = write_modes_project(root or tmp_path, **kwargs)
        made.append(proj)
        return proj

    yield make
    survivors: list[int] = []
    for proj in made:
        survivors += stop_services(proj.home, extra_pids=proj.extra_pids).survivors
    assert not survivors, f"services still alive after SIGKILL: {survivors}"
