"""Fixtures for the service-command tests: real services (local and behind the test sshd), no mocks.

Projects come from ``tests/orchestrator/orch_helpers.py`` (own HOME, own port
ranges); teardown stops what they started by PID and fails the test if
anything survives.
"""

from __future__ import annotations

import sys
from pathlib import Path


HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
for _path in (str(HERE), str(TESTS), str(TESTS / "e2e"), str(TESTS / "orchestrator")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from orch_fixtures import project, project_factory, ssh_project, sshd  # noqa: E402,F401  (fixtures, defined once)
