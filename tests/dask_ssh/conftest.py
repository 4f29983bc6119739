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
from slurm_cluster import Slurm, slurm  # noqa: E402,F401  (session fixture)
from sshd import SSHD, sshd  # noqa: E402,F401  (session fixture)


def _remote_environment(server: SSHD, **variables: str) -> None:
    """Like ``SSHD.set_remote_home``, with more variables for the sshd sessions (authorized_keys options)."""
    options = ",".join(f'environment="{name}={value}"' for name, value in variables.items())
    tmp = server.authorized_keys.with_suffix(".tmp")
    tmp.write_text(f"{options} {server.public_key}\n")
    tmp.chmod(0o600)
    tmp.replace(server.authorized_keys)


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


@pytest.fixture
def ssh_slurm_project(tmp_path: Path, sshd: SSHD, slurm: Slurm) -> Iterator[OrchProject]:  # noqa: F811
    """A ``type: slurm`` cluster whose login node is reached over SSH: the wrapper runs there and submits
    with ``sbatch`` (the sessions get SLURM_CONF); its ports come back through tunnels."""
    jobs_before = slurm.job_ids()
    proj = make_dask_project(tmp_path / "sl", cluster_type="slurm", ssh=sshd, queues=_SLURM_QUEUES,
                             default_queue="q", env=slurm.env)
    assert proj.remote_home is not None
    _remote_environment(sshd, HOME=str(proj.remote_home), SLURM_CONF=slurm.conf)
    try:
        yield proj
    finally:
        sshd.set_remote_home(None)
        survivors = teardown_project(proj)
        slurm.cancel(slurm.job_ids() - jobs_before)
        assert not survivors, f"processes still alive after SIGKILL: {survivors}"


# interactive: one worker job from the start (no wait for seamless-dask's 30 s adaptive tick)
_SLURM_QUEUES = {"q": {"conda": "", "walltime": "00:20:00", "cores": 1, "memory": "1000MB", "maximum_jobs": 1,
                       "interactive": True}}
