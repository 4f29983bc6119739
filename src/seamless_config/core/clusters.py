"""Parse cluster definitions (``~/.seamless/clusters.yaml``, inline ``clusters``) into frozen values.

Every rule the reference enforced is enforced here (unknown keys, required
fields, ``port_start``/``port_end`` together, ``TEMPLATE`` order, ``exclusive``
versus ``job_cores``/``cores``), plus type checks and safe-name checks, each
with the file position of the offending value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from .fields import (
    CLUSTER,
    FRONTEND,
    QUEUE,
    SERVICE_SHAPES,
    Diagnostics,
    Field,
    Shape,
    check_fields,
    check_keys,
    check_required,
    check_value,
    fail,
)
from .hints import did_you_mean
from .model import (
    Cluster,
    ClusterRegistry,
    DatabaseSpec,
    DaskserverSpec,
    Frontend,
    HashserverSpec,
    JobserverSpec,
    Queue,
)
from .names import check_cluster_fields, check_name, check_queue_fields
from .yaml_io import Here

LOCAL_CLUSTER_KEY = "local_cluster"

@dataclasses.dataclass(frozen=True)
class ClusterSource:
    """One cluster's raw mapping and where it was written."""

    data: Any
    here: Here


def _mapping(value: Any, what: str, here: Here) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(f"{what} must be a mapping, not {type(value).__name__}", here)
    return value


def _ports(values: dict[str, Any], data: Mapping[str, Any], service: str, here: Here, diags: Diagnostics) -> None:
    """The cross-field port rule (each port's own range is a field constraint)."""
    start, end = data.get("port_start"), data.get("port_end")
    if (start is None) != (end is None):
        diags.add(fail(f"{service}: set both 'port_start' and 'port_end', or neither", here))
    elif "port_start" in values and "port_end" in values and values["port_start"] is not None:
        if values["port_start"] > values["port_end"]:
            diags.add(fail(
                f"{service}: port range {values['port_start']}-{values['port_end']} is invalid; "
                "use port_start <= port_end", here.at("port_end")))


def _service(raw: Any, shape: Shape, here: Here, diags: Diagnostics) -> Any:
    data = diags.guard(lambda: _mapping(raw, shape.name, here))
    if data is None:
        return None
    before = diags.count
    check_keys(data, shape, shape.name, here, diags)
    check_required(data, shape, shape.name, here, diags)
    values = check_fields(data, shape, here, diags)
    _ports(values, data, shape.name, here, diags)
    if diags.count > before:
        return None
    spec = _SPECS[shape.name]
    return spec(**{k: v for k, v in values.items()})


_SPECS: dict[str, Callable[..., Any]] = {
    "hashserver": HashserverSpec, "database": DatabaseSpec, "jobserver": JobserverSpec, "daskserver": DaskserverSpec,
}


def _frontend(raw: Any, cluster_type: str | None, here: Here, diags: Diagnostics) -> Frontend | None:
    data = diags.guard(lambda: _mapping(raw, "a frontend", here))
    if data is None:
        return None
    before = diags.count
    check_keys(data, FRONTEND, "frontend", here, diags)
    values = check_fields({k: v for k, v in data.items() if k != "hostname" or v is not None}, FRONTEND, here, diags)
    if data.get("hostname") is None:
        if cluster_type != "local" or "hostname" in data:
            diags.add(fail("frontend needs 'hostname' (only frontends of 'type: local' clusters may omit it)", here))
        values["hostname"] = "localhost"
    services = {
        name: _service(data[name], shape, here.at(name), diags)
        for name, shape in SERVICE_SHAPES.items() if name in data
    }
    if diags.count > before:
        return None
    return Frontend(hostname=values["hostname"], ssh_hostname=values.get("ssh_hostname"), **services)


def parse_frontend(raw: Any, cluster_type: str | None, here: Here) -> Frontend:
    diags = Diagnostics()
    frontend = _frontend(raw, cluster_type, here, diags)
    diags.raise_first()
    assert frontend is not None
    return frontend


def _queues(
    raw: Any, cluster_type: str | None, here: Here, diags: Diagnostics
) -> tuple[dict[str, Queue] | None, dict[str, dict[str, str]]]:
    """The queues (TEMPLATE chains merged) and, per queue, which queue each field came from."""
    queues_raw = diags.guard(lambda: _mapping(raw, "'queues'", here) if raw else {}, {})
    if not queues_raw:
        return None, {}
    queues: dict[str, Queue] = {}
    provenance: dict[str, dict[str, str]] = {}
    broken: set[Any] = set()
    for queue_name, queue_raw in queues_raw.items():
        qhere = here.at(queue_name)
        before = diags.count
        diags.guard(lambda: check_name("queue name", queue_name, qhere.location))
        raw_map = diags.guard(lambda: _mapping(queue_raw, f"queue '{queue_name}'", qhere))
        if raw_map is None:
            broken.add(queue_name)
            continue
        spelled = {str(k).replace("-", "_"): k for k in raw_map}
        data = {str(k).replace("-", "_"): v for k, v in raw_map.items()}
        check_keys(data, QUEUE, f"queue '{queue_name}'", qhere, diags, display=lambda k: str(spelled.get(k, k)))
        values = check_fields(data, QUEUE, qhere, diags)
        diags.guard(lambda: check_queue_fields(  # what reaches the job script (names.py)
            values, lambda key, *more: qhere.at(spelled.get(key) or key, *more).location,
            allow_shell=not _in_project_file(qhere)))
        template = diags.guard(lambda: check_value(Field("TEMPLATE", "string", ""), data.get("TEMPLATE"), qhere))
        origin = {k: str(queue_name) for k in values}
        if template is not None:
            if template in broken:
                broken.add(queue_name)
                continue
            if template not in queues:
                diags.add(fail(
                    f"queue '{queue_name}' uses TEMPLATE '{template}', which is not defined before it in this cluster"
                    + did_you_mean(template, queues) if queues else
                    f"queue '{queue_name}' uses TEMPLATE '{template}', but no queue is defined before it",
                    qhere.at("TEMPLATE"),
                ))
                broken.add(queue_name)
                continue
            origin = {**provenance[template], **origin}
            queue = dataclasses.replace(queues[template], name=queue_name, **values)
        else:
            queue = Queue(name=queue_name, **values)
        if diags.count > before:
            broken.add(queue_name)
            continue
        diags.guard(lambda: _check_queue_rules(queue, cluster_type, qhere))
        queues[queue_name] = queue
        provenance[queue_name] = origin
    return queues, provenance


def _in_project_file(here: Here) -> bool:
    """Inline ``clusters`` of a seamless.yaml / seamless.profile.yaml (not ~/.seamless, not the API)."""
    return here.doc is not None and here.doc.path.name in ("seamless.yaml", "seamless.profile.yaml")


def parse_queues(raw: Any, cluster_type: str | None, here: Here) -> dict[str, Queue] | None:
    diags = Diagnostics()
    queues, _ = _queues(raw, cluster_type, here, diags)
    diags.raise_first()
    return queues


def _check_queue_rules(queue: Queue, cluster_type: str | None, here: Here) -> None:
    if queue.exclusive:
        if queue.job_cores is not None:
            raise fail(f"queue '{queue.name}': remove 'job_cores'; it cannot be combined with 'exclusive: true'", here)
        if queue.cores is None and cluster_type == "local":
            raise fail(f"queue '{queue.name}': a local cluster's exclusive queue needs 'cores'", here)
    elif queue.cores is None and cluster_type != "local":
        raise fail(f"queue '{queue.name}': set 'cores' (or 'exclusive: true' to take whole nodes)", here)


def check_cluster(name: str, source: ClusterSource, diags: Diagnostics) -> tuple[Cluster | None, dict[str, dict[str, str]]]:
    """Parse one cluster, recording every problem in *diags*; ``None`` if there was one."""
    here = source.here
    before = diags.count
    diags.guard(lambda: check_name("cluster name", name, here.location))
    data = diags.guard(lambda: _mapping(source.data, f"cluster '{name}'", here))
    if data is None:
        return None, {}
    check_keys(data, CLUSTER, f"cluster '{name}'", here, diags)
    values = check_fields(data, CLUSTER, here, diags)
    diags.guard(lambda: check_cluster_fields(values, lambda key: here.at(key).location))
    cluster_type = values.get("type")
    frontends: list[Frontend | None] = []
    if "frontends" not in data:
        diags.add(fail(f"cluster '{name}' needs 'frontends' (a list of frontend hosts)", here))
    elif not isinstance(data["frontends"], list):
        diags.add(fail(f"cluster '{name}': 'frontends' must be a list", here.at("frontends")))
    else:
        frontends = [_frontend(f, cluster_type, here.at("frontends", i), diags) for i, f in enumerate(data["frontends"])]
    queues, provenance = _queues(data.get("queues"), cluster_type, here.at("queues"), diags)
    default_queue = values.get("default_queue")
    if default_queue is not None and "default_queue" in values and default_queue not in (queues or {}):
        written = data.get("queues") if isinstance(data.get("queues"), dict) else {}
        if default_queue not in written:  # a queue with its own problem was reported already
            hint = did_you_mean(default_queue, written) if written else "; the cluster defines no queues"
            diags.add(fail(f"'default_queue: {default_queue}' names no queue of cluster '{name}'{hint}",
                           here.at("default_queue")))
    if diags.count > before:
        return None, {}
    cluster = Cluster(
        name=name,
        frontends=tuple(f for f in frontends if f is not None),
        tunnel=bool(values.get("tunnel", False)),
        type=cluster_type,
        workers=values.get("workers"),
        memory_per_core_property_name=values.get("memory_per_core_property_name"),
        queues=queues,
        default_queue=default_queue,
    )
    return cluster, provenance


def parse_cluster(name: str, source: ClusterSource) -> Cluster:
    diags = Diagnostics()
    cluster, _ = check_cluster(name, source, diags)
    diags.raise_first()
    assert cluster is not None
    return cluster


def check_registry(
    sources: Mapping[str, ClusterSource], diags: Diagnostics, previous_local_cluster: str | None = None
) -> ClusterRegistry:
    """All clusters from *sources* that are valid; every problem goes to *diags*."""
    clusters: dict[str, Cluster] = {}
    provenance: dict[str, dict[str, dict[str, str]]] = {}
    local_cluster = previous_local_cluster
    local_source: ClusterSource | None = None
    for name, source in sources.items():
        if name == LOCAL_CLUSTER_KEY:
            local_source = source
            continue
        if not isinstance(name, str):
            diags.add(fail(f"cluster names must be strings, not {name!r}", source.here))
            continue
        cluster, queue_origins = check_cluster(name, source, diags)
        if cluster is not None:
            clusters[name] = cluster
            provenance[name] = queue_origins
    if local_source is not None:
        value = local_source.data
        if not isinstance(value, str):
            diags.add(fail("'local_cluster' must name a cluster", local_source.here))
        elif value not in clusters:
            if value not in sources:
                diags.add(fail(f"'local_cluster: {value}' names no defined cluster{did_you_mean(value, clusters)}",
                               local_source.here))
        else:
            local_cluster = value
    return ClusterRegistry(clusters=clusters, local_cluster=local_cluster, queue_origins=provenance)


def build_registry(
    sources: Mapping[str, ClusterSource], previous_local_cluster: str | None = None
) -> ClusterRegistry:
    """All clusters from *sources*; ``local_cluster`` keeps its previous value when not given.

    Raises the first problem (``init()`` fails fast); ``validate`` calls ``check_registry`` for all of them.
    """
    diags = Diagnostics()
    registry = check_registry(sources, diags, previous_local_cluster)
    diags.raise_first()
    return registry
