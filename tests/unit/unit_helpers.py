"""Shared helpers of the unit tests (cluster texts, a project directory)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seamless_config.state import STATE

ENV_VARS = (
    "SEAMLESS_CACHE",
    "SEAMLESS_REMOTE_CLIENTS",
    "SEAMLESS_DASK_SCHEDULER",
    "SEAMLESS_DASK_WORKERS",
    "REMOTE_HTTP_LAUNCHER_DIR",
)

# A complete local cluster (the spec's example), for tests that need "a cluster".
LOCAL_CLUSTER = """\
local:
  tunnel: false
  type: local
  workers: 3
  frontends:
    - hostname: localhost
      hashserver:
        bufferdir: /data/buffers
        conda: hashserver
        network_interface: 127.0.0.1
        port_start: 55100
        port_end: 55199
      database:
        database_dir: /data/db
        conda: seamless-database
        network_interface: 127.0.0.1
        port_start: 55200
        port_end: 55299
      jobserver:
        conda: seamless-jobserver
        network_interface: 127.0.0.1
        port_start: 55300
        port_end: 55399
"""

# A SLURM cluster with a daskserver and queues (the spec's example, abridged).
HPC_CLUSTER = """\
hpc:
  tunnel: true
  type: slurm
  workers: 4
  frontends:
    - hostname: login.hpc.example
      ssh_hostname: hpc-login
      hashserver:
        bufferdir: /scratch/seamless/buffers
        conda: hashserver
        network_interface: 0.0.0.0
        port_start: 60100
        port_end: 60199
      database:
        database_dir: /scratch/seamless/db
        conda: seamless-database
        network_interface: 0.0.0.0
        port_start: 60200
        port_end: 60299
      daskserver:
        network_interface: 0.0.0.0
        port_start: 60300
        port_end: 60399
  default_queue: default
  queues:
    default:
      conda: seamless-dask
      walltime: "01:00:00"
      cores: 16
      memory: 32000MB
      tmpdir: /tmp
      maximum_jobs: 20
      unknown_task_duration: 1m
      target_duration: 10m
      lifetime_stagger: 4m
    highmem:
      TEMPLATE: default
      cores: 4
      memory: 128000MB
"""


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def indent(text: str, n: int) -> str:
    return textwrap.indent(dedent(text), " " * n)


@dataclass
class Project:
    """A directory with configuration files, and helpers to load them."""

    root: Path
    home: Path

    def write(self, relpath: str, text: str) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text), encoding="utf-8")
        return path

    def yaml(self, text: str, sub: str = "") -> Path:
        return self.write(f"{sub}/seamless.yaml" if sub else "seamless.yaml", text)

    def profile(self, text: str, sub: str = "") -> Path:
        return self.write(f"{sub}/seamless.profile.yaml" if sub else "seamless.profile.yaml", text)

    def clusters_file(self, text: str, name: str | None = None) -> Path:
        base = self.home / ".seamless"
        path = base / "clusters.yaml" if name is None else base / "clusters" / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text), encoding="utf-8")
        return path

    def load(self, stage: str | None = None, substage: str | None = None, sub: str = "") -> Any:
        """Read the files as ``load_config_files()`` does; returns the selection."""
        from seamless_config.select import select_stage, select_substage

        STATE.set_workdir(str(self.root / sub) if sub else str(self.root))
        select_stage(stage)
        select_substage(substage)
        STATE.load_files()
        return STATE.selection
