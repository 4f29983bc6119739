"""A real single-node SLURM for the tests (scripts/slurm.sh), as a value and a session fixture.

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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SLURM_SH = REPO / "scripts" / "slurm.sh"
START_TIMEOUT = 180.0  # includes an apt-get install on a fresh machine


@dataclass(frozen=True)
class Slurm:
    conf: str  # SLURM_CONF
    node: str  # the one node's name

    @property
    def env(self) -> dict[str, str]:
        return {"SLURM_CONF": self.conf}

    def run(self, *argv: str, timeout: float = 30.0) -> str:
        done = subprocess.run(argv, env={**os.environ, **self.env}, capture_output=True, text=True,
                              timeout=timeout, check=True)
        return done.stdout

    def job_ids(self) -> set[str]:
        return set(self.run("squeue", "-h", "-o", "%i").split())

    def cancel(self, job_ids: set[str]) -> None:
        if job_ids:
            subprocess.run(["scancel", *sorted(job_ids)], env={**os.environ, **self.env},
                           capture_output=True, timeout=30)


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
