"""Switch the seamless_remote backends to the current selection (the reference's ``change_stage``).

This is the only module that imports the Seamless runtime packages, and only
when a backend must actually be (de)activated. Each backend honours its own
``DISABLED`` flag.
"""

from __future__ import annotations

import sys

from .core.resolved import ResolvedConfig
from .errors import ConfigurationError


def deactivate_job_backends(persistent: bool) -> None:
    from . import pure_daskserver

    pure_daskserver.deactivate()
    if persistent:
        try:
            import seamless_remote.daskserver_remote as daskserver_remote

            daskserver_remote.deactivate()
        except ImportError:  # seamless-remote or seamless-dask not installed: nothing to deactivate
            return
    else:
        module = sys.modules.get("seamless_remote.daskserver_remote")
        if module is not None:
            try:
                module.deactivate()
            except Exception:
                pass


def activate_backends(config: ResolvedConfig) -> None:
    """Activate storage (and job delegation in ``remote`` mode) for *config*; start spawn workers."""
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

            pure_daskserver.activate()
        elif persistent:
            try:
                import seamless_remote  # noqa: F401
            except ImportError:
                pass
            else:
                import seamless_remote.buffer_remote as buffer_remote
                import seamless_remote.daskserver_remote as daskserver_remote
                import seamless_remote.database_remote as database_remote
                import seamless_remote.jobserver_remote as jobserver_remote

                remote = config.remote_target() if execution == "remote" else None
                buffer_remote.activate()
                database_remote.activate()
                if remote == "jobserver":
                    jobserver_remote.activate()
                elif remote == "daskserver":
                    daskserver_remote.activate()
    if config.execution == "spawn":
        from seamless.transformer import spawn  # the runtime is needed from here on anyway

        local = config.registry.local_cluster
        if local is None:
            raise ConfigurationError(
                "execution: spawn needs the machine's own cluster: add 'local_cluster: <name>' "
                "to ~/.seamless/clusters.yaml or a 'clusters' command"
            )
        spawn(config.registry.clusters[local].workers)  # None: the runtime's default, as before
