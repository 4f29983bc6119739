"""The daskserver on an SSH frontend: the real test sshd (tests/sshd.py), tunnels, real services.

The frontend is ``hostname: localhost`` reached as ``ssh_hostname: rhl-test``
(an alias of the test sshd) with ``tunnel: true``; it is not the
local_cluster, so every service is launched over SSH and its sessions have
their own HOME (``remote-home/``): server state there, client records and
tunnels in the local ``home/``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
for _path in (str(HERE.parent / "slurm"), str(HERE.parent)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from dask_helpers import make_dask_project  # noqa: E402
from orch_helpers import OrchProject, teardown_project  # noqa: E402
from sshd import SSHD, sshd  # noqa: E402,F401  (session fixture)


@pytest.fixture
def ssh_dask_project_factory(tmp_path: Path, sshd: SSHD) -> Iterator[Callable[..., OrchProject]]:  # noqa: F811
    made: list[OrchProject] = []

    def make(name: str = "p", **kwargs: Any) -> OrchProject:
        proj = make_dask_project(tmp_path / name, cluster_type="local", ssh=sshd, **kwargs)
        assert proj.remote_home is not None
        sshd.set_remote_home(proj.remote_home)
        made.append(proj)
        return proj

    try:
        yield make
    finally:
        sshd.set_remote_home(None)
        survivors: list[int] = []
        for proj in made:
            survivors += teardown_project(proj)
        assert not survivors, f"processes still alive after SIGKILL: {survivors}"
