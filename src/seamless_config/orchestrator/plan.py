"""Which services a resolved configuration needs, and in which order (pure).

Storage (hashserver, database) starts first and in parallel; the job backend
(jobserver, daskserver) starts after them, because its launch parameters carry
their addresses. Pure Dask mode has a single step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core import launch
from ..core.resolved import ResolvedConfig, cluster_or_error
from ..errors import ConfigurationError

# A step's launch dict may depend on the connections of the steps it waits for.
LaunchBuilder = Callable[[Mapping[str, Mapping[str, Any]]], dict[str, Any]]


@dataclass(frozen=True)
class Step:
    name: str  # hashserver, database, jobserver, daskserver, pure_daskserver
    build: LaunchBuilder = field(compare=False)
    after: tuple[str, ...] = ()
    host: str = "localhost"  # for progress and reports
    # The dependencies only fill in ``file_parameters``: the step may start at
    # once and receive them when they are known (see remote.ensure_service).
    parameters_from_after: bool = False


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]

    def __bool__(self) -> bool:
        return bool(self.steps)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.steps)

    def validate(self) -> None:
        """Build every launch dict once, so configuration errors surface before anything starts."""
        for step in self.steps:
            step.build({})


# Which module's DISABLED flag stops which service (tests set them).
_DISABLING_MODULE = {
    "hashserver": "seamless_remote.buffer_remote",
    "database": "seamless_remote.database_remote",
    "jobserver": "seamless_remote.jobserver_remote",
    "daskserver": "seamless_remote.daskserver_remote",
    "pure_daskserver": "seamless_config.pure_daskserver",
}


def without_disabled(plan: Plan) -> Plan:
    """Drop the steps whose seamless_remote module has ``DISABLED = True`` (and what needs them)."""
    import sys

    steps = []
    for step in plan.steps:
        module = sys.modules.get(_DISABLING_MODULE[step.name])
        if not getattr(module, "DISABLED", False):
            steps.append(step)
    kept = {s.name for s in steps}
    return Plan(tuple(s for s in steps if all(d in kept for d in s.after)))


def _host(config: ResolvedConfig, service: str) -> str:
    cluster = config.cluster
    if cluster is None or config.is_local_cluster:
        return "localhost"
    frontend = cluster.frontend_for(service)
    if frontend is None:
        return "?"
    return frontend.ssh_hostname or frontend.hostname


def forwarded_clients(
    connections: Mapping[str, Mapping[str, Any]], launch_dicts: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """The ``collect_remote_clients`` description of the storage services just brought up.

    Same shape as seamless-remote reports for its launched clients: the
    client-side URL, the cluster-side URL, and (for a local hashserver) the
    buffer directory.
    """
    result: dict[str, list[dict[str, Any]]] = {"database": [], "buffer": []}
    for service, kind in (("database", "database"), ("hashserver", "buffer")):
        conn = connections.get(service)
        conf = launch_dicts.get(service)
        if conn is None or conf is None:
            continue
        entry: dict[str, Any] = {"readonly": False, "url": f"http://{conn['hostname']}:{int(conn['port'])}"}
        port = conn.get("tunneled-port", conn["port"])
        entry["remote_url"] = f"http://{conf.get('hostname', conn['hostname'])}:{int(port)}"
        if kind == "buffer":
            import os

            if "hostname" not in conf:
                entry["directory"] = os.path.expanduser(conf["workdir"])
            entry["remote_directory"] = conf["workdir"]
        result[kind].append(entry)
    return result


def make_plan(config: ResolvedConfig, *, storage_mode: str = "rw") -> Plan:
    """The services *config* needs; an empty plan when no cluster is selected."""
    if config.selection.cluster is None:
        return Plan(())
    cluster = cluster_or_error(config.selection, config.registry, config.selection.cluster)
    local = config.is_local_cluster
    execution = config.execution
    sel = config.selection
    if not config.persistent:
        if execution != "remote":
            return Plan(())
        queue = config.queue

        def build_pure(_: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
            return launch.pure_daskserver_launch(cluster, is_local_cluster=local, queue_name=queue, node=sel.node)

        return Plan((Step("pure_daskserver", build_pure, host=_host(config, "daskserver")),))

    # Scopes are computed on demand too: "no project" matters only if a service is needed.
    def scope() -> launch.Scope:
        return config.scope()

    def storage_scope() -> launch.Scope:
        s = config.scope()
        return launch.Scope(s.cluster, s.project, s.subproject, s.stage)

    queue = config.queue
    # Built on demand, so that a disabled service's configuration is never required.
    storage_builders: dict[str, Callable[[], dict[str, Any]]] = {
        "hashserver": lambda: launch.hashserver_launch(
            cluster, storage_scope(), storage_mode, is_local_cluster=local, queue=queue),
        "database": lambda: launch.database_launch(
            cluster, storage_scope(), storage_mode, is_local_cluster=local, queue=queue),
    }

    def storage_dicts() -> dict[str, dict[str, Any]]:
        result = {}
        for name, build in storage_builders.items():
            try:
                result[name] = build()
            except ConfigurationError:
                pass  # that service is not part of the plan (or its own step reports the error)
        return result

    def ignoring_connections(build: Callable[[], dict[str, Any]]) -> LaunchBuilder:
        return lambda _connections: build()

    steps = [
        Step(name, ignoring_connections(build), host=_host(config, name))
        for name, build in storage_builders.items()
    ]
    if execution == "remote":
        target = config.remote_target()
        if target == "jobserver":

            def build_jobserver(conns: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
                clients = forwarded_clients(conns, storage_dicts())
                return launch.jobserver_launch(cluster, scope(), is_local_cluster=local, remote_clients=clients,
                                               record=sel.record, queue=queue)

            steps.append(Step("jobserver", build_jobserver, after=("hashserver", "database"),
                              host=_host(config, "jobserver"), parameters_from_after=True))
        elif target == "daskserver":

            def build_daskserver(_: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
                return launch.daskserver_launch(cluster, scope(), is_local_cluster=local, queue_name=queue,
                                                node=sel.node, record=sel.record)

            steps.append(Step("daskserver", build_daskserver, after=("hashserver", "database"),
                              host=_host(config, "daskserver")))
    return Plan(tuple(steps))
