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

NAME = "daskserver-exclusive-worker-count"
# The seamless-remote / seamless-dask versions whose worker count for an exclusive queue disagree.
AFFECTED = frozenset({"0.4.0"})
DASK_AFFECTED = frozenset({"0.4"})


def apply(version: str) -> FixOutcome:
    try:
        from seamless_remote import daskserver_remote
    except ImportError as exc:  # seamless-dask's dependencies are optional
        return FixOutcome(NAME, False, f"cannot import seamless_remote.daskserver_remote: {exc}")
    handle_class: Any = getattr(daskserver_remote, "DaskserverLaunchedHandle", None)
    original: Any = getattr(handle_class, "config", None)
    if original is None:
        return FixOutcome(NAME, False, "DaskserverLaunchedHandle.config not found")
    if getattr(original, "_seamless_config_exclusive_fix", False):
        return FixOutcome(NAME, True, "already applied")

    def config(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        launch_config = getattr(self, "launch_config", None)
        file_parameters = launch_config.get("file_parameters") if isinstance(launch_config, dict) else None
        if isinstance(file_parameters, dict) and file_parameters.get("exclusive") is True:
            self.cores = 1  # the wrapper's exclusive workers have one thread: one Seamless worker each

    config._seamless_config_exclusive_fix = True  # type: ignore[attr-defined]
    # keep the marker of the wrapped fix, so that applying both again wraps neither twice
    config._seamless_config_fix = getattr(original, "_seamless_config_fix", False)  # type: ignore[attr-defined]
    handle_class.config = config
    return FixOutcome(NAME, True, f"seamless-remote {version} / seamless-dask 0.4: "
                                  "an exclusive queue's workers get one Seamless worker each")


WORKAROUND = Workaround(NAME, "seamless-remote", AFFECTED, apply, also=(("seamless-dask", DASK_AFFECTED),))
