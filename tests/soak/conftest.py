"""The soak's fixtures: the fault suite's (a project per test, everything stopped by PID at teardown)."""

from __future__ import annotations

import sys
from pathlib import Path

_FAULTS = Path(__file__).resolve().parent.parent / "faults"
if str(_FAULTS) not in sys.path:
    sys.path.insert(0, str(_FAULTS))

from faults_fixtures import project_factory, sshd  # noqa: E402,F401
