"""The soak's reduced form for CI: 20 cycles on a local cluster (``scripts/soak.py`` runs 200)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pytest
from orch_helpers import OrchProject
from soak_lib import run_soak

pytestmark = pytest.mark.slow

CYCLES = int(os.environ.get("SOAK_CYCLES", "20"))


def test_soak_init_kill_init_transform(project_factory: Callable[..., OrchProject]) -> None:
    proj = project_factory("soak")
    result = run_soak(proj, CYCLES, seed=20261201, say=print)
    summary = result.summary()
    print("SOAK", json.dumps(summary))
    assert result.cycles == CYCLES
    # A run that hangs (upload-race signature or not) fails the soak: no run may hang.
    assert result.clean, json.dumps(summary, indent=1)
