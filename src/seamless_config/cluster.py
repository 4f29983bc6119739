"""Cluster definitions (compatibility façade): ``get_cluster``, ``get_local_cluster``, ``define_clusters``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from .core.model import (
    Cluster,
    ClusterRegistry,
    DatabaseSpec,
    DaskserverSpec,
    Frontend,
    HashserverSpec,
    JobserverSpec,
    Queue,
)
from .state import STATE

# The reference's class names, for code that imports them.
ClusterFrontend = Frontend
ClusterFrontendHashserver = HashserverSpec
ClusterFrontendDatabase = DatabaseSpec
ClusterFrontendJobserver = JobserverSpec
ClusterFrontendDaskserver = DaskserverSpec
ClusterQueue = Queue

__all__ = [
    "Cluster", "ClusterRegistry", "Frontend", "Queue", "get_cluster", "get_local_cluster",
    "define_clusters", "list_clusters",
]


def get_cluster(cluster: str) -> Cluster:
    """The cluster called *cluster*; ``KeyError`` if it is not defined."""
    return STATE.registry.clusters[cluster]


def get_local_cluster() -> Optional[str]:
    return STATE.registry.local_cluster


def list_clusters() -> list[str]:
    return sorted(STATE.registry.clusters)


def define_clusters(clusters: dict[str, Any]) -> None:
    """Replace all cluster definitions (``local_cluster: <name>`` marks the machine's own)."""
    if not isinstance(clusters, Mapping):
        from .errors import ClusterDefinitionError

        raise ClusterDefinitionError(
            "define_clusters() expects a mapping of cluster names to cluster definitions "
            f"(as in ~/.seamless/clusters.yaml), not {type(clusters).__name__}"
        )
    STATE.define_clusters(dict(clusters))
