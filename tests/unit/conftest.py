"""Fixtures for the unit tests: an isolated HOME, a fresh state, no launching.

Every test gets its own ``$HOME`` (so ``~/.seamless/clusters.yaml`` is the
test's own), a reset ``seamless_config.state.STATE`` and no ``SEAMLESS_*``
environment variables. ``no_launch`` additionally sets the ``DISABLED`` flags
of every backend so that ``init()`` / ``set_stage()`` never start a service.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from unit_helpers import ENV_VARS, Project  # noqa: E402

from seamless_config.state import STATE  # noqa: E402


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private HOME, no SEAMLESS_* variables, a fresh STATE before and after."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    STATE.reset()
    yield home
    STATE.reset()


@pytest.fixture
def home(isolated: Path) -> Path:
    return isolated


@pytest.fixture
def no_launch(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Backends are activated but never launch anything; spawn() calls are recorded, not run."""
    import seamless_remote.buffer_remote
    import seamless_remote.daskserver_remote
    import seamless_remote.database_remote
    import seamless_remote.jobserver_remote

    import seamless_config.pure_daskserver

    for module in (
        seamless_remote.buffer_remote,
        seamless_remote.database_remote,
        seamless_remote.jobserver_remote,
        seamless_remote.daskserver_remote,
        seamless_config.pure_daskserver,
    ):
        monkeypatch.setattr(module, "DISABLED", True)
    spawned: list[object] = []
    import seamless.transformer

    monkeypatch.setattr(seamless.transformer, "spawn", lambda workers=None: spawned.append(workers))
    return spawned


@pytest.fixture
def project(tmp_path: Path, home: Path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    return Project(root, home)
