"""The typed, frozen values of a cluster definition.

Field names and meanings follow the cluster vocabulary users already write
(and that seamless-transformer reads through ``get_cluster``); see
``docs/clusters.md``. Parsing and validation live in ``clusters.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ClusterType = Literal["local", "slurm", "oar"]
CLUSTER_TYPES: tuple[str, ...] = ("local", "slurm", "oar")
SERVICES: tuple[str, ...] = ("hashserver", "database", "jobserver", "daskserver")


@dataclass(frozen=True)
class HashserverSpec:
    bufferdir: str
    conda: str | None = None
    network_interface: str | None = None
    port_start: int | None = None
    port_end: int | None = None


@dataclass(frozen=True)
class DatabaseSpec:
    database_dir: str
    conda: str | None = None
    network_interface: str | None = None
    port_start: int | None = None
    port_end: int | None = None


@dataclass(frozen=True)
class JobserverSpec:
    network_interface: str
    port_start: int
    port_end: int
    conda: str | None = None  # optional here (required by the reference): no conda on the host


@dataclass(frozen=True)
class DaskserverSpec:
    network_interface: str
    port_start: int
    port_end: int


@dataclass(frozen=True)
class Frontend:
    hostname: str
    ssh_hostname: str | None = None
    hashserver: HashserverSpec | None = None
    database: DatabaseSpec | None = None
    jobserver: JobserverSpec | None = None
    daskserver: DaskserverSpec | None = None


@dataclass(frozen=True)
class Queue:
    """A Dask job queue. Unset fields are ``None``, exactly as the reference stored them."""

    name: str
    conda: str | None = None
    walltime: str | int | None = None
    memory: str | int | None = None
    unknown_task_duration: str | int | None = None
    target_duration: str | int | None = None
    maximum_jobs: int | None = None
    lifetime_stagger: str | int | None = None
    interactive: bool | None = None
    exclusive: bool | None = None
    project: str | None = None
    partition: str | None = None
    tmpdir: str | None = None
    worker_threads: int | None = None
    processes: int | None = None
    lifetime: str | int | None = None
    extra_dask_config: Mapping[str, Any] | None = None
    job_extra_directives: list[str] | None = None
    job_script_prologue: list[str] | None = None
    dask_resources: Mapping[str, Any] | None = None
    cores: int | None = None
    job_cores: int | None = None


@dataclass(frozen=True)
class Cluster:
    name: str
    frontends: tuple[Frontend, ...]
    tunnel: bool = False
    type: ClusterType | None = None
    workers: int | None = None
    memory_per_core_property_name: str | None = None
    queues: Mapping[str, Queue] | None = None
    default_queue: str | None = None

    def frontend_for(self, service: str, frontend_name: str | None = None) -> Frontend | None:
        """The first frontend that hosts *service* (optionally: the one called *frontend_name*)."""
        for frontend in self.frontends:
            if frontend_name is not None and frontend.hostname != frontend_name:
                continue
            if getattr(frontend, service) is not None:
                return frontend
        return None


@dataclass(frozen=True)
class ClusterRegistry:
    """Every defined cluster, and which one is the machine's own (``local_cluster``)."""

    clusters: Mapping[str, Cluster] = field(default_factory=dict)
    local_cluster: str | None = None
    # cluster -> queue -> field -> the queue (itself or a TEMPLATE) that set it, for ``show``
    queue_origins: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)

    def get(self, name: str) -> Cluster:
        return self.clusters[name]
