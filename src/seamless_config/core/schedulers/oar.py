"""``type: oar``: ``dask_jobqueue.OARCluster`` (``oarsub``)."""

from __future__ import annotations

from .base import Scheduler


class OARScheduler(Scheduler):
    type = "oar"
    cluster_string = "dask_jobqueue::OARCluster"
    whole_node_resource_spec = "/nodes=1"
    dedupe_node_directives = False  # '-p' may legitimately repeat

    def node_directives(self, node: str) -> list[str]:
        # As 0.3.2 wrote it (two directives); see docs/clusters.md#oar for what dask-jobqueue makes of it.
        return ["-p", f"host='{node}'"]
