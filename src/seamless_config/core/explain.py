"""``seamless-config show``: the resolved configuration with the provenance resolution recorded.

``explain()`` resolves exactly as ``init()`` does (same discovery, same fold),
but into a fresh value instead of the process state, and reports what the
resolution used: each setting's ``Setting`` (value and origin), the files read
in order, the selected cluster with its queues and, per queue field, the
queue or TEMPLATE that set it. Nothing is launched or contacted.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .clusters import ClusterSource
from .discovery import cluster_files, discover_config_files, load_cluster_file
from .model import Cluster
from .names import check_name
from .resolve import Resolution, resolve, resolve_seamless_cache
from .resolved import ResolvedConfig, check_requirements
from .selection import SETTINGS, Origin, Selection


@dataclass(frozen=True)
class Explanation:
    files: tuple[str, ...]
    resolution: Resolution
    warnings: tuple[str, ...]

    @property
    def config(self) -> ResolvedConfig:
        return ResolvedConfig(self.resolution.selection, self.resolution.registry)


def explain(workdir: str | Path, home: str | Path, stage: str | None = None, substage: str | None = None,
            seamless_cache: str | None = None) -> Explanation:
    """Resolve the configuration of *workdir* for *stage* (as ``set_stage(stage, substage)`` would)."""
    cli = Origin("api", detail="seamless-config show --stage")
    start = Selection()
    if stage is not None:  # checked as set_stage() and seamless-init check it
        start = start.set("stage", check_name("stage", stage), cli)
    if substage is not None:
        start = start.set("substage", check_name("substage", substage), cli)
    if seamless_cache is not None:
        result = resolve_seamless_cache(seamless_cache, start)
        files: tuple[str, ...] = ()
    else:
        found = discover_config_files(workdir)
        paths = cluster_files(home)
        docs = [load_cluster_file(p) for p in paths]
        result = resolve(found, docs, start)
        files = tuple(str(f.path) for f in found) + tuple(str(p) for p in paths)
    return Explanation(files, result, tuple(check_requirements(result.selection)))


def _origin_json(origin: Origin) -> dict[str, Any]:
    return origin.as_json()


def settings_json(selection: Selection) -> list[dict[str, Any]]:
    rows = []
    for name in SETTINGS:
        setting = selection[name]
        rows.append({"name": name, "value": setting.value, "origin": _origin_json(setting.origin),
                     "origin_text": str(setting.origin), "kept_on_reload": setting.source != "command"})
    return rows


def effective_json(config: ResolvedConfig) -> dict[str, Any]:
    """The derived values ``get_*`` answer (execution without a command, persistence, the queue used)."""
    sel = config.selection
    result: dict[str, Any] = {"execution": sel.effective_execution, "persistent": sel.effective_persistent()}
    cluster = config.cluster
    queue = config.queue
    queue_from = "selection" if queue is not None else None
    if queue is None and cluster is not None and cluster.default_queue is not None:
        queue, queue_from = cluster.default_queue, "default_queue"
    result["queue"] = queue
    result["queue_from"] = queue_from
    return result


def _source_location(source: ClusterSource | None) -> str | None:
    if source is None:
        return None
    loc = source.here.location
    return str(loc) if loc is not None else "define_clusters() / SEAMLESS_CACHE"


def cluster_json(expl: Explanation) -> dict[str, Any] | None:
    config = expl.config
    cluster: Cluster | None = config.cluster
    if cluster is None:
        return None
    sources = expl.resolution.cluster_sources
    queue_origins = expl.resolution.registry.queue_origins.get(cluster.name, {})
    queues = {}
    for name, queue in (cluster.queues or {}).items():
        fields = {}
        for f in dataclasses.fields(queue):
            if f.name == "name":
                continue
            value = getattr(queue, f.name)
            if value is None:
                continue
            fields[f.name] = {"value": value, "from": queue_origins.get(name, {}).get(f.name, name)}
        queues[name] = fields
    frontends = []
    for fe in cluster.frontends:
        entry: dict[str, Any] = {"hostname": fe.hostname, "ssh_hostname": fe.ssh_hostname}
        for service in ("hashserver", "database", "jobserver", "daskserver"):
            spec = getattr(fe, service)
            if spec is not None:
                entry[service] = dataclasses.asdict(spec)
        frontends.append(entry)
    return {
        "name": cluster.name,
        "defined_at": _source_location(sources.get(cluster.name)),
        "type": cluster.type,
        "tunnel": cluster.tunnel,
        "workers": cluster.workers,
        "default_queue": cluster.default_queue,
        "is_local_cluster": config.is_local_cluster,
        "frontends": frontends,
        "queues": queues,
    }
