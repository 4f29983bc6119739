"""Launch dicts for remote-http-launcher (compatibility façade over ``core.launch``).

``configure_*`` return what ``remote_http_launcher.run()`` takes for the
current selection; keyword arguments override parts of it. seamless-remote
calls these when it first needs a service.
"""

from __future__ import annotations

from typing import Any, Optional

from .core import launch
from .core.launch import Scope
from .core.model import Cluster
from .core.resolved import cluster_or_error, current_queue, current_scope
from .errors import ConfigurationError
from .state import STATE

__all__ = [
    "configure_hashserver", "configure_database", "configure_jobserver",
    "configure_daskserver", "configure_pure_daskserver",
]


def _blank_to_none(value: Optional[str]) -> Optional[str]:
    return None if value == "" else value


def _context(
    cluster: Optional[str], project: Optional[str], subproject: Optional[str],
    stage: Optional[str], substage: Optional[str],
) -> tuple[Cluster, Scope, bool, Optional[str]]:
    snap = STATE.snapshot()
    scope = current_scope(snap.selection, cluster, project, subproject, stage, substage)
    scope = Scope(scope.cluster, scope.project, _blank_to_none(scope.subproject),
                  _blank_to_none(scope.stage), _blank_to_none(scope.substage))
    clus = cluster_or_error(snap.selection, snap.registry, scope.cluster)
    is_local = scope.cluster == snap.registry.local_cluster
    return clus, scope, is_local, current_queue(snap.selection, snap.registry, scope.cluster)


def configure_hashserver(
    mode: str, *, cluster: Optional[str] = None, project: Optional[str] = None,
    subproject: Optional[str] = None, stage: Optional[str] = None, frontend_name: Optional[str] = None,
) -> dict[str, Any]:
    clus, scope, is_local, queue = _context(cluster, project, subproject, stage, None)
    return launch.hashserver_launch(clus, scope, mode, is_local_cluster=is_local,
                                    frontend_name=frontend_name, queue=queue)


def configure_database(
    mode: str, *, cluster: Optional[str] = None, project: Optional[str] = None,
    subproject: Optional[str] = None, stage: Optional[str] = None, frontend_name: Optional[str] = None,
) -> dict[str, Any]:
    clus, scope, is_local, queue = _context(cluster, project, subproject, stage, None)
    return launch.database_launch(clus, scope, mode, is_local_cluster=is_local,
                                  frontend_name=frontend_name, queue=queue)


def configure_jobserver(
    *, cluster: Optional[str] = None, project: Optional[str] = None, subproject: Optional[str] = None,
    stage: Optional[str] = None, substage: Optional[str] = None, frontend_name: Optional[str] = None,
) -> dict[str, Any]:
    from .extern_clients import collect_remote_clients

    clus, scope, is_local, queue = _context(cluster, project, subproject, stage, substage)
    launch._frontend(clus, "jobserver", frontend_name)  # fail before touching seamless_remote
    clients: dict[str, Any] = dict(collect_remote_clients(clus.name))
    return launch.jobserver_launch(clus, scope, is_local_cluster=is_local, remote_clients=clients,
                                   record=STATE.selection.record, frontend_name=frontend_name, queue=queue)


def configure_daskserver(
    *, cluster: Optional[str] = None, project: Optional[str] = None, subproject: Optional[str] = None,
    stage: Optional[str] = None, substage: Optional[str] = None, frontend_name: Optional[str] = None,
) -> dict[str, Any]:
    clus, scope, is_local, queue = _context(cluster, project, subproject, stage, substage)
    return launch.daskserver_launch(clus, scope, is_local_cluster=is_local, queue_name=queue,
                                    node=STATE.selection.node, record=STATE.selection.record,
                                    frontend_name=frontend_name)


def configure_pure_daskserver(
    *, cluster: Optional[str] = None, queue: Optional[str] = None, frontend_name: Optional[str] = None,
) -> dict[str, Any]:
    snap = STATE.snapshot()
    cluster = cluster if cluster is not None else snap.selection.cluster
    if cluster is None:
        raise ConfigurationError("No cluster defined: add 'cluster: <name>' to seamless.profile.yaml")
    clus = cluster_or_error(snap.selection, snap.registry, cluster)
    queue_name = queue or current_queue(snap.selection, snap.registry, cluster)
    return launch.pure_daskserver_launch(clus, is_local_cluster=cluster == snap.registry.local_cluster,
                                         queue_name=queue_name, node=snap.selection.node,
                                         frontend_name=frontend_name)
