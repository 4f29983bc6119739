"""A real single-node SLURM for the tests (scripts/slurm.sh), and daskserver projects on it.

The session fixture ``slurm`` starts SLURM with ``scripts/slurm.sh start`` (which
installs it first when missing and we are root on Debian), and stops it at the
end if it started it. Where it cannot be installed (not root, no apt-get) the
tests are skipped; where it could and still does not start, or under ``CI``,
they fail. SLURM is system-wide: only these tests use it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from dask_helpers import make_dask_project  # noqa: E402
from slurm_cluster import Slurm  # noqa: E402
from orch_helpers import OrchProject, teardown_project  # noqa: E402

REPO = HERE.parents[1]
SLURM_SH = REPO / "scripts" / "slurm.sh"
START_TIMEOUT = 180.0  # includes an apt-get install on a fresh machine


def _can_install() -> bool:
    return os.getuid() == 0 and shutil.which("apt-get") is not None


def _unavailable(reason: str) -> None:
    """Fail where scripts/slurm.sh can install SLURM (root + apt-get, as in CI) or under CI; else skip."""
    if os.environ.get("CI") or _can_install():
        pytest.fail(f"the single-node SLURM did not start: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def slurm() -> Iterator[Slurm]:
    if not SLURM_SH.exists():
        _unavailable(f"{SLURM_SH} missing")
    status = subprocess.run(["bash", str(SLURM_SH), "status"], capture_output=True, timeout=30)
    was_running = status.returncode == 0
    try:
        done = subprocess.run(["bash", str(SLURM_SH), "start"], capture_output=True, text=True,
                              timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        _unavailable(f"scripts/slurm.sh start did not finish within {START_TIMEOUT:g}s")
    if done.returncode != 0:
        _unavailable(f"scripts/slurm.sh start failed:\n{done.stderr[-2000:]}")
    conf = done.stdout.strip().splitlines()[-1].removeprefix("SLURM_CONF=")
    node = subprocess.run(["hostname", "-s"], capture_output=True, text=True, check=True).stdout.strip()
    try:
        yield Slurm(conf=conf, node=node)
    finally:
        if not was_running:
            subprocess.run(["bash", str(SLURM_SH), "stop"], capture_output=True, timeout=120)


@pytest.fixture
def slurm_project_factory(tmp_path: Path, slurm: Slurm) -> Iterator[Callable[..., OrchProject]]:
    """``make(name, queues=..., default_queue=..., commands=...)`` -> a project on the test SLURM.

    Teardown stops the services by PID (the daskserver cancels its jobs as it
    exits), then cancels, by job ID, any job that appeared during the test.
    """
    made: list[OrchProject] = []
    jobs_before = slurm.job_ids()

    def make(name: str = "p", **kwargs: Any) -> OrchProject:
        proj = make_dask_project(tmp_path / name, cluster_type="slurm", env=slurm.env, **kwargs)
        made.append(proj)
        return proj

    yield make

    survivors: list[int] = []
    for proj in made:
        survivors += teardown_project(proj)
    slurm.cancel(slurm.job_ids() - jobs_before)
    assert not survivors, f"processes still alive after SIGKILL: {survivors}"
