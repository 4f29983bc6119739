"""``type: local``: ``distributed.LocalCluster`` on the frontend (or on the client)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from .base import Default, FromCluster, Scheduler


class LocalScheduler(Scheduler):
    type = "local"
    cluster_string = "distributed::LocalCluster"
    # On one machine the worker count is the cluster's 'workers'.
    defaults: ClassVar[Mapping[str, Default]] = {"cores": FromCluster("workers")}
    pure_defaults: ClassVar[Mapping[str, Default]] = {"worker_threads": 2, "maximum_jobs": FromCluster("workers")}
