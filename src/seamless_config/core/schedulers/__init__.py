"""One module per scheduler behind one interface (:class:`~.base.Scheduler`).

Adding a scheduler (PBS, say) is a new module with a ``Scheduler`` subclass and
one line in ``SCHEDULERS``; ``core/launch.py`` does not change. The cluster
``type`` vocabulary itself lives in ``core/model.py``.
"""

from __future__ import annotations

from ...errors import ConfigurationError
from .base import FromCluster, Scheduler, first_set
from .local import LocalScheduler
from .oar import OARScheduler
from .slurm import SLURMScheduler

SCHEDULERS: dict[str, Scheduler] = {s.type: s for s in (LocalScheduler(), SLURMScheduler(), OARScheduler())}


def scheduler_for(cluster_name: str, cluster_type: str | None) -> Scheduler:
    if cluster_type is None:
        raise ConfigurationError(
            f"Cluster '{cluster_name}' needs 'type' ({', '.join(SCHEDULERS)}) to run a Dask scheduler"
        )
    try:
        return SCHEDULERS[cluster_type]
    except KeyError:
        raise ConfigurationError(
            f"Cluster '{cluster_name}': no Dask scheduler for type '{cluster_type}' (known: {', '.join(SCHEDULERS)})"
        ) from None


__all__ = ["SCHEDULERS", "FromCluster", "LocalScheduler", "OARScheduler", "SLURMScheduler", "Scheduler",
           "first_set", "scheduler_for"]
