"""The interface every scheduler module implements, and the parameter precedence they share.

A scheduler turns a queue (and the selected node) into the ``file_parameters``
that ``seamless-dask-wrapper`` reads, for one Dask cluster class. Each one is a
small class whose differences from the others are *data* (class attributes):
which Dask cluster class runs the workers, which queue fields default to which
cluster field, how one node is selected, how a whole node is requested. The
values themselves are never turned into shell text here: they travel as JSON
values to the wrapper, which hands them to dask-jobqueue as keyword arguments.

Precedence for every parameter: an explicit argument (``overrides``) beats the
queue's value in the cluster file, which beats the scheduler's default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ...errors import ConfigurationError, UnsafeNameError
from ..model import Cluster, Queue

# The alphabet of a node selection (a node name or a SLURM node list), as checked when it is
# selected; checked again here because these functions can be called directly.
_NODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.,\[\]-]*")


@dataclass(frozen=True)
class FromCluster:
    """A default taken from a field of the cluster definition (e.g. ``workers``)."""

    field: str

    def value(self, cluster: Cluster) -> Any:
        return getattr(cluster, self.field)


Default = Any  # a constant, or FromCluster(...)

# Queue field -> wrapper parameter name, in the order the wrapper documents them.
# (The wrapper spells the Dask durations with '-'.)
QUEUE_PARAMETERS: tuple[tuple[str, str], ...] = (
    ("walltime", "walltime"),
    ("cores", "cores"),
    ("job_cores", "job_cores"),
    ("memory", "memory"),
    ("tmpdir", "tmpdir"),
    ("partition", "partition"),
    ("project", "project"),
    ("job_script_prologue", "job_script_prologue"),
    ("processes", "processes"),
    ("unknown_task_duration", "unknown-task-duration"),
    ("target_duration", "target-duration"),
    ("lifetime_stagger", "lifetime-stagger"),
    ("lifetime", "lifetime"),
    ("dask_resources", "dask-resources"),
    ("interactive", "interactive"),
    ("maximum_jobs", "maximum_jobs"),
    ("extra_dask_config", "extra_dask_config"),
)


def first_set(*values: Any) -> Any:
    """The first value that is not ``None`` (argument > file > default)."""
    for value in values:
        if value is not None:
            return value
    return None


def check_node(node: object) -> str:
    if not isinstance(node, str) or not _NODE.fullmatch(node):
        raise UnsafeNameError(
            f"node {node!r} is not allowed: use a node name or SLURM node list "
            "(letters, digits, '_', '.', '-', ',', '[', ']')"
        )
    return node


class Scheduler:
    """One Dask cluster class (``distributed.LocalCluster``, a dask-jobqueue cluster...).

    Subclasses set the class attributes; most need no code of their own.
    """

    #: the cluster ``type`` this scheduler serves
    type: ClassVar[str]
    #: ``MODULE::CLASS`` for ``seamless-dask-wrapper``
    cluster_string: ClassVar[str]
    #: queue field -> default (argument > file > this), for every daskserver
    defaults: ClassVar[Mapping[str, Default]] = {}
    #: extra defaults of the pure daskserver (``persistent: false``)
    pure_defaults: ClassVar[Mapping[str, Default]] = {"worker_threads": 2}
    #: how ``exclusive: true`` without ``cores`` asks for a whole node: a job directive ...
    whole_node_directive: ClassVar[str | None] = None
    #: ... or a resource specification (``resource_spec``)
    whole_node_resource_spec: ClassVar[str | None] = None
    #: whether the pure daskserver asks for the whole-node directive too (0.3.2 did not, on SLURM)
    pure_whole_node_directive: ClassVar[bool] = False
    #: whether a node directive already in the queue's ``job_extra_directives`` is left out
    dedupe_node_directives: ClassVar[bool] = True

    # -- what differs per scheduler (override when data is not enough) -------------

    def node_directives(self, node: str) -> list[str]:
        """The job directives that put the workers on *node*."""
        raise ConfigurationError(
            f"Node selection is not supported for cluster type '{self.type}': "
            "remove the 'node' command, or select a cluster of type slurm or oar"
        )

    # -- shared ------------------------------------------------------------------------

    def default(self, name: str, cluster: Cluster, *, pure: bool) -> Any:
        table = {**self.defaults, **self.pure_defaults} if pure else self.defaults
        value = table.get(name)
        return value.value(cluster) if isinstance(value, FromCluster) else value

    def parameter(self, name: str, cluster: Cluster, queue: Queue, overrides: Mapping[str, Any],
                  *, pure: bool) -> Any:
        return first_set(overrides.get(name), getattr(queue, name, None), self.default(name, cluster, pure=pure))

    def directives(self, queue: Queue, node: str | None, overrides: Mapping[str, Any]) -> list[str]:
        """``job_extra_directives``: the queue's, then the node selection (no duplicates)."""
        directives = list(first_set(overrides.get("job_extra_directives"), queue.job_extra_directives) or [])
        if node is not None:
            for directive in self.node_directives(check_node(node)):
                if not (self.dedupe_node_directives and directive in directives):
                    directives.append(directive)
        return directives

    def file_parameters(
        self, cluster: Cluster, queue: Queue, *, node: str | None, pure: bool, record: bool = False,
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """What ``seamless-dask-wrapper`` reads from the state file's ``parameters``; unset ones left out."""
        overrides = dict(overrides or {})
        unknown = set(overrides) - {q for q, _ in QUEUE_PARAMETERS} - {"exclusive", "worker_threads",
                                                                        "job_extra_directives"}
        if unknown:
            raise ConfigurationError(f"unknown queue parameter(s) {sorted(unknown)}")

        def get(name: str) -> Any:
            return self.parameter(name, cluster, queue, overrides, pure=pure)

        params: dict[str, Any] = {wrapper: get(field) for field, wrapper in QUEUE_PARAMETERS}
        params["memory_per_core_property_name"] = cluster.memory_per_core_property_name
        exclusive = get("exclusive")
        directives = self.directives(queue, node, overrides)
        if not pure:
            params["exclusive"] = exclusive
        params["worker_threads"] = get("worker_threads")
        if exclusive:
            cores = first_set(overrides.get("cores"), queue.cores)  # the queue's own, not a default
            if cores is not None:
                # Fixed cores per task: 'cores' is the job's size, one task at a time per job.
                # seamless-dask 0.4's wrapper derives the job's cores from 'cores' in exclusive mode
                # and refuses 'job_cores' there, so none is sent (0.3.2 sent job_cores = cores,
                # which made the daskserver fail at start-up; docs/clusters.md#exclusive-queues).
                if not pure and params.get("job_cores") is not None:
                    raise ConfigurationError(
                        f"queue '{queue.name}': 'job_cores' cannot be combined with 'exclusive: true'; "
                        "remove 'job_cores' (the job asks for 'cores')"
                    )
            else:
                if self.whole_node_directive is not None and (not pure or self.pure_whole_node_directive):
                    if self.whole_node_directive not in directives:
                        directives.append(self.whole_node_directive)
                if self.whole_node_resource_spec is not None:
                    params["resource_spec"] = self.whole_node_resource_spec
        params["job_extra_directives"] = directives or None
        if pure:
            params["pure_dask"] = True
        else:
            params["record"] = record
        return {k: v for k, v in params.items() if v is not None}
