"""Fixtures for the orchestrator integration tests: real services, a real sshd, no mocks.

Every test gets its own directory tree (``home/``, ``project/``, ``buffers/``,
``db/``; SSH tests also ``remote-home/``), its own port ranges, and a teardown
that closes the tunnels it opened and stops every service it started, by PID
(service PIDs from ``<home>/.remote-http-launcher/server/*.json``; tunnel PIDs
from ``seamless_config.remote.find_tunnel_pids`` on the ports of the client
records). Services only ever bind 127.0.0.1.

The machinery for stopping services is shared with the e2e tests
(``tests/e2e/local_cluster.py``); the sshd fixture with the remote-layer tests
(``tests/sshd.py``). The helpers of this directory are in ``orch_helpers.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path


HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
for _path in (str(HERE), str(TESTS), str(TESTS / "e2e")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from orch_fixtures import project, project_factory, ssh_project, sshd  # noqa: E402,F401  (fixtures, defined once)
