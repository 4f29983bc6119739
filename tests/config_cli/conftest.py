"""Fixtures for the seamless-config CLI tests: an isolated HOME and a fresh state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seamless_config.state import STATE

ENV_VARS = ("SEAMLESS_CACHE", "SEAMLESS_REMOTE_CLIENTS", "SEAMLESS_DASK_SCHEDULER", "SEAMLESS_DASK_WORKERS",
            "REMOTE_HTTP_LAUNCHER_DIR")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    STATE.reset()
    yield home
    STATE.reset()
