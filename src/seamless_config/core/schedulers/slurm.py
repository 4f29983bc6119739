"""``type: slurm``: ``dask_jobqueue.SLURMCluster`` (``sbatch``)."""

from __future__ import annotations

from .base import Scheduler


class SLURMScheduler(Scheduler):
    type = "slurm"
    cluster_string = "dask_jobqueue::SLURMCluster"
    whole_node_directive = "--exclusive"

    def node_directives(self, node: str) -> list[str]:
        return [f"--nodelist={node}"]  # one directive: '#SBATCH --nodelist=<node>'
