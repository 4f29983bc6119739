"""Questions answered from a selection and a registry (the reference's ``get_*`` semantics).

``ResolvedConfig`` is the frozen snapshot the orchestrator plans from.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigurationError
from .hints import did_you_mean
from .launch import Scope
from .model import Cluster, ClusterRegistry
from .selection import Selection


def current_queue(sel: Selection, registry: ClusterRegistry, cluster: str | None = None) -> str | None:
    """The selected queue, if it was selected on *cluster* and still exists there."""
    cluster = cluster if cluster is not None else sel.cluster
    if cluster is None or sel.queue is None or sel.queue_cluster != cluster:
        return None
    clus = registry.clusters.get(cluster)
    if clus is None or not clus.queues or sel.queue not in clus.queues:
        return None
    return sel.queue


def cluster_or_error(sel: Selection, registry: ClusterRegistry, name: str) -> Cluster:
    """The cluster called *name*; a ``ConfigurationError`` that says where it was selected if undefined."""
    clus = registry.clusters.get(name)
    if clus is not None:
        return clus
    origin = sel.origin("cluster") if name == sel.cluster else None
    where = f" (selected at {origin})" if origin is not None and origin.kind == "file" else ""
    hint = did_you_mean(name, registry.clusters) if registry.clusters else "; no clusters are defined"
    raise ConfigurationError(
        f"Unknown cluster '{name}'{where}{hint}. Define it in ~/.seamless/clusters.yaml "
        "or with a 'clusters:' command in seamless.profile.yaml"
    )


def remote_target(sel: Selection, registry: ClusterRegistry, cluster: str) -> str | None:
    """``jobserver`` or ``daskserver``: pinned by ``remote:``, else the only one the cluster has."""
    if sel.remote is not None:
        return sel.remote
    clus = cluster_or_error(sel, registry, cluster)
    pin = "in your seamless.profile.yaml, add 'remote: jobserver' or 'remote: daskserver'"
    for frontend in clus.frontends:
        if frontend.jobserver is not None and frontend.daskserver is not None:
            raise ConfigurationError(
                f"Cluster '{cluster}' frontend '{frontend.hostname}' has both a jobserver and a daskserver; {pin}"
            )
    has_jobserver = any(f.jobserver is not None for f in clus.frontends)
    has_daskserver = any(f.daskserver is not None for f in clus.frontends)
    if has_jobserver and has_daskserver:
        raise ConfigurationError(f"Cluster '{cluster}' has both a jobserver and a daskserver; {pin}")
    if has_jobserver:
        return "jobserver"
    if has_daskserver:
        return "daskserver"
    return None


def current_scope(
    sel: Selection,
    cluster: str | None = None,
    project: str | None = None,
    subproject: str | None = None,
    stage: str | None = None,
    substage: str | None = None,
) -> Scope:
    """The storage scope; arguments override the selection (``get_current`` semantics)."""
    cluster = cluster if cluster is not None else sel.cluster
    if cluster is None:
        raise ConfigurationError("No cluster defined: add 'cluster: <name>' to seamless.profile.yaml")
    project = project if project is not None else sel.project
    if project is None:
        raise ConfigurationError("No project defined: add 'project: <name>' to seamless.yaml")
    return Scope(
        cluster,
        project,
        subproject if subproject is not None else sel.subproject,
        stage if stage is not None else sel.stage,
        substage if substage is not None else sel.substage,
    )


@dataclass(frozen=True)
class ResolvedConfig:
    """A frozen, complete answer to "where does this run, against which storage?"."""

    selection: Selection
    registry: ClusterRegistry

    @property
    def cluster(self) -> Cluster | None:
        name = self.selection.cluster
        return self.registry.clusters.get(name) if name is not None else None

    @property
    def execution(self) -> str:
        return self.selection.effective_execution

    @property
    def persistent(self) -> bool:
        return self.selection.effective_persistent()

    @property
    def queue(self) -> str | None:
        return current_queue(self.selection, self.registry)

    @property
    def is_local_cluster(self) -> bool:
        return self.selection.cluster is not None and self.selection.cluster == self.registry.local_cluster

    def remote_target(self) -> str | None:
        if self.selection.cluster is None:
            return None
        return remote_target(self.selection, self.registry, self.selection.cluster)

    def scope(self) -> Scope:
        return current_scope(self.selection)


def check_requirements(sel: Selection) -> list[str]:
    """Warnings for an incomplete configuration; raises when it cannot work at all."""
    warnings: list[str] = []
    cluster = sel.cluster
    execution = sel.effective_execution
    if not sel["execution"].command_seen and not sel["execution"].explicit:
        if cluster is not None:
            warnings.append(
                f"No 'execution' command found; using 'remote' because cluster '{cluster}' is selected "
                "(add 'execution: remote' to seamless.profile.yaml to silence this)"
            )
        else:
            warnings.append(
                "No 'execution' command found; running transformations in this process "
                "(add 'execution: process' to seamless.profile.yaml to silence this)"
            )
    if cluster is None:
        if execution == "remote":
            raise ConfigurationError(
                "execution is 'remote' but no cluster is selected: add 'cluster: <name>' to seamless.profile.yaml"
            )
        explicit = sel["persistent"].explicit
        if explicit and sel.effective_persistent():
            raise ConfigurationError(
                "persistent is true but no cluster is selected: add 'cluster: <name>' "
                "(persistence needs the cluster's hashserver and database)"
            )
        if not (explicit and not sel.effective_persistent()):
            warnings.append(
                "No cluster selected; results are not stored persistently "
                "(select a cluster for persistence, or add 'persistent: false' to silence this)"
            )
    return warnings
