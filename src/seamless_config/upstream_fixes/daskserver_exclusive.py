"""``daskserver-exclusive-worker-count`` (seamless-remote 0.4.0 with seamless-dask 0.4).

``DaskserverLaunchedHandle`` registers seamless-dask's worker plugin with one
Seamless worker per queue ``cores``. For an exclusive queue, though,
seamless-dask 0.4's wrapper starts each Dask worker with exactly one thread
(one task at a time; the task uses the job's cores itself), and the plugin
refuses a worker with fewer threads than Seamless workers ("Dask worker
threads (1) must be at least Seamless worker count (N)"). With
``exclusive: true`` and ``cores: N > 1`` every worker then fails its setup,
and the transformation fails with a ``CacheMissError`` for an input buffer
(the worker never got the hashserver's address). The workaround sets that
handle's worker count to 1 when the launch dict's ``file_parameters`` say
``exclusive``, which is what the wrapper gives each worker; the launch dict is
unchanged.
"""

from __future__ import annotations

from typing import Any

from . import FixOutcome, Workaround
from .daskserver_handle import after_handle_config

NAME = "daskserver-exclusive-worker-count"
# The seamless-remote / seamless-dask versions whose worker count for an exclusive queue disagree.
AFFECTED = frozenset({"0.4.0"})
DASK_AFFECTED = frozenset({"0.4"})


def _one_seamless_worker_if_exclusive(handle: Any) -> None:
    launch_config = getattr(handle, "launch_config", None)
    file_parameters = launch_config.get("file_parameters") if isinstance(launch_config, dict) else None
    if isinstance(file_parameters, dict) and file_parameters.get("exclusive") is True:
        handle.cores = 1  # the wrapper's exclusive workers have one thread: one Seamless worker each


def apply(version: str) -> FixOutcome:
    return after_handle_config(
        NAME, _one_seamless_worker_if_exclusive,
        f"seamless-remote {version} / seamless-dask 0.4: an exclusive queue's workers get one Seamless worker each")


WORKAROUND = Workaround(NAME, "seamless-remote", AFFECTED, apply, also=(("seamless-dask", DASK_AFFECTED),))
