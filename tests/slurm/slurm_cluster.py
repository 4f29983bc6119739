"""The test SLURM as a value: its SLURM_CONF, its node, and the few client commands the tests use."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass


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
