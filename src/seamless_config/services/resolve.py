"""Seamless-level arguments → the service's launcher key and host, by the code path launching uses.

The directory's configuration files are read into a private ``ConfigState``
(the process's ``STATE`` is not touched), the arguments are applied as API
choices (validated by ``core.rules``, names by ``core.names``), and the launch
dict is built by ``core.launch`` exactly as bring-up builds it; its key is
evaluated by ``LaunchConfig`` as the launcher evaluates it. No I/O beyond
reading the configuration (and, for ``--project SEAMLESS_CACHE`` without
``$SEAMLESS_CACHE``, the local server state that records the cache directory).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..core import launch, rules
from ..core.model import Cluster, ClusterRegistry, DatabaseSpec, HashserverSpec
from ..core.resolve import SEAMLESS_CACHE_CLUSTER, resolve_seamless_cache
from ..core.resolved import cluster_or_error, current_queue, current_scope
from ..core.selection import PROJECT_TOPLEVEL, Origin, Selection
from ..environment import seamless_cache_dir
from ..errors import ConfigurationError
from ..remote.launch_config import DEFAULT_SERVER_DIR, LaunchConfig, helper_base_directory
from ..state import ConfigState
from .model import SEAMLESS_CACHE_PROJECT, SERVICES, ServiceQuery, ServiceTarget

_ORIGIN = Origin("api", detail="seamless-service argument")


def _cache_dir_from_state(query: ServiceQuery) -> str | None:
    """The SEAMLESS_CACHE directory recorded in a local state file (as the reference finds it)."""
    server = helper_base_directory() / "server"
    stage = f"--STAGE-{query.stage}" if query.stage else ""
    for service in (query.service or "hashserver", "hashserver", "database"):
        path = server / f"{service}-{SEAMLESS_CACHE_CLUSTER}-{query.mode}-{PROJECT_TOPLEVEL}{stage}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        workdir = data.get("workdir") if isinstance(data, dict) else None
        if isinstance(workdir, str) and workdir:
            p = Path(workdir).expanduser()
            if query.stage and p.name == f"STAGE-{query.stage}":
                p = p.parent
            if p.name == PROJECT_TOPLEVEL:
                p = p.parent
            return p.as_posix()
    return None


def configuration(query: ServiceQuery) -> tuple[Selection, ClusterRegistry]:
    """The selection and clusters that apply to *query* (files of its directory, then its arguments)."""
    if query.project == SEAMLESS_CACHE_PROJECT and query.cluster in (None, SEAMLESS_CACHE_CLUSTER):
        cache = seamless_cache_dir() or _cache_dir_from_state(query)
        if cache is None:
            raise ConfigurationError(
                "--project SEAMLESS_CACHE needs $SEAMLESS_CACHE set, or a SEAMLESS_CACHE service's state "
                "file on this machine"
            )
        result = resolve_seamless_cache(cache, Selection())
        sel, registry = result.selection, result.registry
        query_project: str | None = PROJECT_TOPLEVEL
    else:
        state = ConfigState()
        state.set_workdir(query.workdir or os.getcwd())
        state.load_files()
        sel, registry = state.selection, state.registry
        query_project = query.project
    if query.cluster is not None:
        if query.cluster not in registry.clusters:
            known = ", ".join(sorted(registry.clusters)) or "none"
            raise ConfigurationError(f"unknown cluster {query.cluster!r} (defined: {known})")
        sel = rules.choose_cluster(sel, query.cluster, _ORIGIN)
    if query_project is not None:
        sel = rules.choose_project(sel, query_project, _ORIGIN)
    if query.subproject is not None:
        sel = rules.choose_subproject(sel, query.subproject, _ORIGIN)
    if query.stage is not None:
        sel = rules.choose_stage(sel, query.stage, _ORIGIN)
    if query.substage is not None:
        sel = rules.choose_substage(sel, query.substage, _ORIGIN)
    if query.queue is not None:
        sel = rules.choose_queue(sel, query.queue, registry, _ORIGIN, "manual")
    return sel, registry


def _launch_dict(service: str, cluster: Cluster, sel: Selection, registry: ClusterRegistry,
                 query: ServiceQuery) -> tuple[dict[str, Any], launch.Scope]:
    scope = current_scope(sel)
    is_local = scope.cluster == registry.local_cluster
    queue = current_queue(sel, registry, scope.cluster)
    frontend_name = query.frontend_name
    if service == "hashserver":
        conf = launch.hashserver_launch(cluster, scope, query.mode, is_local_cluster=is_local,
                                        frontend_name=frontend_name, queue=queue)
    elif service == "database":
        conf = launch.database_launch(cluster, scope, query.mode, is_local_cluster=is_local,
                                      frontend_name=frontend_name, queue=queue)
    elif service == "jobserver":
        conf = launch.jobserver_launch(cluster, scope, is_local_cluster=is_local, remote_clients={},
                                       record=sel.record, frontend_name=frontend_name, queue=queue)
    elif service == "daskserver":
        conf = launch.daskserver_launch(cluster, scope, is_local_cluster=is_local, queue_name=queue,
                                        node=sel.node, record=sel.record, frontend_name=frontend_name)
    elif service == "pure-daskserver":
        conf = launch.pure_daskserver_launch(cluster, is_local_cluster=is_local, queue_name=queue, node=sel.node)
    else:
        raise ConfigurationError(f"unknown service {service!r} (one of: {', '.join(SERVICES)})")
    return conf, scope


def resolve_target(query: ServiceQuery) -> ServiceTarget:
    """The one service *query* names (``query.service`` is required)."""
    if query.service is None:
        raise ConfigurationError("--service is required (one of: " + ", ".join(SERVICES) + ")")
    sel, registry = configuration(query)
    return target_from(query, sel, registry)


def target_from(query: ServiceQuery, sel: Selection, registry: ClusterRegistry) -> ServiceTarget:
    service = query.service
    assert service is not None
    if sel.cluster is None:
        raise ConfigurationError("No cluster selected: pass --cluster or add 'cluster: <name>' to seamless.profile.yaml")
    cluster = cluster_or_error(sel, registry, sel.cluster)
    if service == "pure-daskserver":
        scope = None
        conf = launch.pure_daskserver_launch(cluster, is_local_cluster=sel.cluster == registry.local_cluster,
                                             queue_name=current_queue(sel, registry, sel.cluster), node=sel.node)
    else:
        conf, scope = _launch_dict(service, cluster, sel, registry, query)
    cfg = LaunchConfig.from_mapping(conf)  # the key, evaluated as the launcher evaluates it
    ssh_hostname = None if cfg.is_local else cfg.ssh_hostname
    if ssh_hostname is None:
        log_path = str(helper_base_directory() / "server" / f"{cfg.key}.log")
    else:
        log_path = f"{DEFAULT_SERVER_DIR}/{cfg.key}.log"
    meta: dict[str, Any] = {
        "service": service, "cluster": cluster.name, "mode": query.mode,
        "project": _display_project(scope.project if scope else None, cluster.name),
        "subproject": scope.subproject if scope else None, "stage": scope.stage if scope else None,
        "substage": scope.substage if scope else None, "queue": current_queue(sel, registry, cluster.name),
    }
    data_root = None
    if service in ("hashserver", "database"):
        frontend = cluster.frontend_for(service, query.frontend_name)
        spec = getattr(frontend, service, None)
        if isinstance(spec, HashserverSpec):
            data_root = spec.bufferdir
        elif isinstance(spec, DatabaseSpec):
            data_root = spec.database_dir
    return ServiceTarget(service=service, key=cfg.key, cluster=cluster.name, ssh_hostname=ssh_hostname,
                         workdir=cfg.workdir, log_path=log_path, meta=meta, data_root=data_root, tunnel=cfg.tunnel)


def _display_project(project: str | None, cluster: str) -> str | None:
    if project == PROJECT_TOPLEVEL and cluster == SEAMLESS_CACHE_CLUSTER:
        return SEAMLESS_CACHE_PROJECT
    return project


def cluster_hosts(cluster: Cluster, registry: ClusterRegistry, frontend_name: str | None = None) -> list[str | None]:
    """The hosts of a cluster's frontends (None: this machine). A frontend with only ``hostname:`` is that host."""
    if cluster.name == registry.local_cluster:
        return [None]
    hosts: list[str | None] = []
    for frontend in cluster.frontends:
        if frontend_name is not None and frontend.hostname != frontend_name:
            continue
        host = frontend.ssh_hostname or frontend.hostname
        if host not in hosts:
            hosts.append(host)
    return hosts


def current_targets(query: ServiceQuery) -> list[ServiceTarget]:
    """The services the directory's configuration (and *query*) would bring up, that can be resolved."""
    sel, registry = configuration(query)
    found = []
    for service in ("hashserver", "database", "jobserver", "daskserver"):
        try:
            found.append(target_from(query.with_service(service), sel, registry))
        except ConfigurationError:
            continue
    return found


def storage_roots(cluster: Cluster, registry: ClusterRegistry, frontend_name: str | None = None
                  ) -> list[tuple[str, str | None, str]]:
    """(service, host, data root) of a cluster's hashserver and database (host None: this machine)."""
    found = []
    for service in ("hashserver", "database"):
        frontend = cluster.frontend_for(service, frontend_name)
        if frontend is None:
            continue
        spec = getattr(frontend, service)
        root = spec.bufferdir if isinstance(spec, HashserverSpec) else spec.database_dir
        host = None if cluster.name == registry.local_cluster else (frontend.ssh_hostname or frontend.hostname)
        found.append((service, host, root))
    return found
