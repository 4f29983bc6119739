"""Fault scenarios with real processes: real services, the real sshd, faults injected by PID.

Each test gets its own project (isolated HOME, its own port ranges); see
``fault_helpers.py`` for the faults and the process census.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

from faults_fixtures import project_factory, sshd  # noqa: E402,F401
