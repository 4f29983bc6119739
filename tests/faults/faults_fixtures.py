"""Fixtures shared by tests/faults and tests/soak (imported by their conftest.py files)."""

from __future__ import annotations

import fault_helpers  # noqa: F401  (puts the orchestrator and e2e helpers on sys.path)
from orch_fixtures import project_factory, sshd  # noqa: F401  (fixtures, defined once)
