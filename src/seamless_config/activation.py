"""Switch the Seamless runtime to the current selection (the reference's ``change_stage``).

Activation consumes what bring-up produced: ``connections`` maps a plan step
(``hashserver``, ``pure_daskserver``, ...) to the connection that the
orchestrator verified a moment ago. The seamless-remote backends find their
services through the client files bring-up wrote; pure Dask connects to the
scheduler in ``connections["pure_daskserver"]`` (no second launch).

This is the only module that imports the Seamless runtime packages, and only
when a backend must actually be (de)activated. Each backend honours its own
``DISABLED`` flag. Before the first transformation it applies the guarded
workarounds of :mod:`seamless_config.upstream_fixes`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any

from .core.resolved import ResolvedConfig
from .errors import ConfigurationError

logger = logging.getLogger("seamless_config.activation")

Connections = Mapping[str, Mapping[str, Any]]


def deactivate_job_backends(persistent: bool) -> None:
    from . import pure_daskserver

    pure_daskserver.deactivate()
    if persistent:
        try:
            import seamless_remote.daskserver_remote as daskserver_remote
        except ImportError:  # seamless-remote or seamless-dask not installed: nothing to deactivate
            return
        daskserver_remote.deactivate()
    else:
        module = sys.modules.get("seamless_remote.daskserver_remote")
        if module is not None:
            try:
                module.deactivate()
            except Exception:
                logger.warning("deactivating seamless_remote.daskserver_remote failed", exc_info=True)


def _activate_persistent(config: ResolvedConfig) -> None:
    try:
        import seamless_remote  # noqa: F401
    except ImportError:
        logger.debug("seamless-remote is not installed: no storage backends to activate")
        return
    import seamless_remote.buffer_remote as buffer_remote
    import seamless_remote.database_remote as database_remote
    import seamless_remote.jobserver_remote as jobserver_remote

    from .upstream_fixes import apply_all

    apply_all()  # before the first transformation can run
    remote = config.remote_target() if config.execution == "remote" else None
    buffer_remote.activate()
    database_remote.activate()
    if remote == "jobserver":
        jobserver_remote.activate()
    elif remote == "daskserver":
        import seamless_remote.daskserver_remote as daskserver_remote

        daskserver_remote.activate()


def _start_spawn_workers(config: ResolvedConfig) -> None:
    from seamless.transformer import spawn  # the runtime is needed from here on anyway

    local = config.registry.local_cluster
    if local is None:
        raise ConfigurationError(
            "execution: spawn needs the machine's own cluster: add 'local_cluster: <name>' "
            "to ~/.seamless/clusters.yaml or a 'clusters' command"
        )
    spawn(config.registry.clusters[local].workers)  # None: the runtime's default, as before


def activate_backends(config: ResolvedConfig, connections: Connections | None = None) -> None:
    """Activate storage (and job delegation in ``remote`` mode) for *config*; start spawn workers.

    *connections*: what bring-up returned for each plan step; without it
    (``change_stage()`` called on its own) pure Dask brings its scheduler up
    through the same orchestrator path.
    """
    persistent = config.persistent
    deactivate_job_backends(persistent)
    cluster = config.selection.cluster
    if cluster is not None:
        execution = config.execution
        if not persistent and execution == "remote":
            if config.remote_target() != "daskserver":
                raise ConfigurationError(
                    "Pure Dask mode (persistent: false, execution: remote) needs a daskserver: "
                    "add a 'daskserver:' frontend to the cluster and 'remote: daskserver'"
                )
            from . import pure_daskserver

            connection = (connections or {}).get("pure_daskserver")
            pure_daskserver.activate(connection=connection)
        elif persistent:
            _activate_persistent(config)
    if config.execution == "spawn":
        _start_spawn_workers(config)


def must_leave_this_thread() -> bool:
    """Is an event loop running in the calling thread (``init()`` in a notebook cell, inside
    ``asyncio.run``)? There seamless-remote 0.4.0's sync helpers deadlock:
    ``ensure_initialized_sync`` submits to the running loop of the calling thread and then
    blocks that very thread on the result. The sync façade then activates from a worker
    thread (:func:`activate_backends_in_worker`), as ``ainit()`` does."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def activate_backends_in_worker(config: ResolvedConfig, connections: Connections | None = None) -> None:
    """:func:`activate_backends` in a worker thread, waited for (each of its waits is bounded)."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="seamless-config-activate") as pool:
        pool.submit(activate_backends, config, connections).result()


async def aactivate_backends(config: ResolvedConfig, connections: Connections | None = None) -> None:
    """``activate_backends`` for ``ainit()``: runs in a worker thread, so the caller's loop keeps running.

    The seamless-remote activations and ``distributed.Client(...)`` block
    (client files, handshakes, the scheduler connection); each of those waits
    is bounded by its own timeout.
    """
    import anyio.to_thread

    await anyio.to_thread.run_sync(activate_backends, config, connections)


__all__ = ["activate_backends", "activate_backends_in_worker", "must_leave_this_thread", "aactivate_backends", "deactivate_job_backends", "Connections"]
