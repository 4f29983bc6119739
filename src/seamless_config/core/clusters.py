"""Parse cluster definitions (``~/.seamless/clusters.yaml``, inline ``clusters``) into frozen values.

Every rule the reference enforced is enforced here (unknown keys, required
fields, ``port_start``/``port_end`` together, ``TEMPLATE`` order, ``exclusive``
versus ``job_cores``/``cores``), plus type checks and safe-name checks, each
with the file position of the offending value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..errors import ClusterDefinitionError
from .hints import did_you_mean
from .model import (
    CLUSTER_TYPES,
    Cluster,
    ClusterRegistry,
    DatabaseSpec,
    DaskserverSpec,
    Frontend,
    HashserverSpec,
    JobserverSpec,
    Queue,
)
from .names import check_host, check_name, check_path
from .yaml_io import Here, SexagesimalInt

LOCAL_CLUSTER_KEY = "local_cluster"

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class ClusterSource:
    """One cluster's raw mapping and where it was written."""

    data: Any
    here: Here


def _fail(message: str, here: Here) -> ClusterDefinitionError:
    return ClusterDefinitionError(message, here.location)


def _mapping(value: Any, what: str, here: Here) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"{what} must be a mapping, not {type(value).__name__}", here)
    return value


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], what: str, here: Here) -> None:
    for key in data:
        if key not in allowed:
            raise _fail(f"unknown key '{key}' in {what}{did_you_mean(key, allowed)}", here.at(key))


def _required(data: Mapping[str, Any], keys: tuple[str, ...], what: str, here: Here) -> None:
    for key in keys:
        if key not in data:
            raise _fail(f"{what} needs '{key}'", here)


def _int(value: Any, key: str, here: Here) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"'{key}' must be a whole number, not {value!r}", here.at(key))
    return int(value)


def _bool(value: Any, key: str, here: Here) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise _fail(f"'{key}' must be true or false, not {value!r}", here.at(key))


def _str(value: Any, key: str, here: Here) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _fail(f"'{key}' must be a string, not {value!r}; put it in quotes", here.at(key))


def _duration(value: Any, key: str, here: Here) -> str | int | None:
    if isinstance(value, SexagesimalInt):
        raise _fail(
            f"'{key}: {value.text}' is read by YAML 1.1 as the number {int(value)}, not a duration; "
            f'quote it: {key}: "{value.text}"',
            here.at(key),
        )
    if value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _fail(f"'{key}' must be a duration string such as \"01:00:00\" or \"10m\", not {value!r}", here.at(key))


def _str_list(value: Any, key: str, here: Here) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(f"'{key}' must be a list of strings, not {value!r}", here.at(key))
    return list(value)


def _dict(value: Any, key: str, here: Here) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail(f"'{key}' must be a mapping, not {value!r}", here.at(key))
    return dict(value)


def _optional(value: Any, check: Callable[[str, Any, Any], str], kind: str, here: Here) -> str | None:
    return None if value is None else check(kind, value, here.location)


def _conda(value: Any, here: Here) -> str | None:
    """A conda environment name; ``""`` means "no conda" (the reference required the key)."""
    return "" if value == "" else _optional(value, check_name, "conda", here)


def _ports(data: Mapping[str, Any], service: str, here: Here) -> tuple[int | None, int | None]:
    start = _int(data.get("port_start"), "port_start", here)
    end = _int(data.get("port_end"), "port_end", here)
    if (start is None) != (end is None):
        raise _fail(f"{service}: set both 'port_start' and 'port_end', or neither", here)
    if start is not None and end is not None:
        if not (0 < start <= end < 65536):
            raise _fail(f"{service}: port range {start}-{end} is invalid; use 1 <= port_start <= port_end <= 65535", here)
    return start, end


def _storage_fields(data: dict[str, Any], service: str, dir_key: str, here: Here) -> dict[str, Any]:
    allowed = (dir_key, "conda", "network_interface", "port_start", "port_end")
    _check_keys(data, allowed, service, here)
    _required(data, (dir_key,), service, here)
    start, end = _ports(data, service, here)
    return {
        dir_key: check_path(dir_key, data[dir_key], here.at(dir_key).location),
        "conda": _conda(data.get("conda"), here.at("conda")),
        "network_interface": _optional(
            data.get("network_interface"), check_host, "network_interface", here.at("network_interface")
        ),
        "port_start": start,
        "port_end": end,
    }


def _server_fields(data: dict[str, Any], service: str, keys: tuple[str, ...], here: Here) -> dict[str, Any]:
    """Fields of a job server; all of *keys* are required, ``conda`` is optional for the jobserver."""
    _check_keys(data, keys + (("conda",) if service == "jobserver" else ()), service, here)
    _required(data, keys, service, here)
    start, end = _ports(data, service, here)
    fields: dict[str, Any] = {
        "network_interface": check_host("network_interface", data["network_interface"], here.at("network_interface").location),
        "port_start": start,
        "port_end": end,
    }
    if service == "jobserver":
        fields["conda"] = _conda(data.get("conda"), here.at("conda"))
    return fields


def parse_frontend(raw: Any, cluster_type: str | None, here: Here) -> Frontend:
    data = _mapping(raw, "a frontend", here)
    _check_keys(data, ("hostname", "ssh_hostname", "hashserver", "database", "jobserver", "daskserver"), "frontend", here)
    hostname = data.get("hostname")
    if hostname is None:
        if cluster_type != "local" or "hostname" in data:
            raise _fail("frontend needs 'hostname' (only frontends of 'type: local' clusters may omit it)", here)
        hostname = "localhost"
    services: dict[str, Any] = {}
    if "hashserver" in data:
        h = here.at("hashserver")
        services["hashserver"] = HashserverSpec(**_storage_fields(_mapping(data["hashserver"], "hashserver", h), "hashserver", "bufferdir", h))
    if "database" in data:
        h = here.at("database")
        services["database"] = DatabaseSpec(**_storage_fields(_mapping(data["database"], "database", h), "database", "database_dir", h))
    if "jobserver" in data:
        h = here.at("jobserver")
        keys: tuple[str, ...] = ("network_interface", "port_start", "port_end")
        services["jobserver"] = JobserverSpec(**_server_fields(_mapping(data["jobserver"], "jobserver", h), "jobserver", keys, h))
    if "daskserver" in data:
        h = here.at("daskserver")
        keys = ("network_interface", "port_start", "port_end")
        services["daskserver"] = DaskserverSpec(**_server_fields(_mapping(data["daskserver"], "daskserver", h), "daskserver", keys, h))
    return Frontend(
        hostname=check_host("hostname", hostname, here.at("hostname").location),
        ssh_hostname=_optional(data.get("ssh_hostname"), check_host, "ssh_hostname", here.at("ssh_hostname")),
        **services,
    )


_QUEUE_FIELDS = tuple(f.name for f in dataclasses.fields(Queue) if f.name != "name")
_QUEUE_KEYS = ("TEMPLATE", "name") + _QUEUE_FIELDS


def _queue_values(data: Mapping[str, Any], here: Here) -> dict[str, Any]:
    """Type-check the keys written for one queue (before template merging)."""
    checks: dict[str, Callable[[Any, str, Here], Any]] = {
        "conda": lambda v, k, h: _conda(v, h.at(k)),
        "walltime": _duration,
        "memory": lambda v, k, h: v if v is None or isinstance(v, str) else _int(v, k, h),
        "unknown_task_duration": _duration,
        "target_duration": _duration,
        "lifetime_stagger": _duration,
        "lifetime": _duration,
        "maximum_jobs": _int,
        "interactive": _bool,
        "exclusive": _bool,
        "project": _str,
        "partition": _str,
        "tmpdir": _str,
        "worker_threads": _int,
        "processes": _int,
        "cores": _int,
        "job_cores": _int,
        "extra_dask_config": _dict,
        "dask_resources": _dict,
        "job_extra_directives": _str_list,
        "job_script_prologue": _str_list,
    }
    return {key: checks[key](value, key, here) for key, value in data.items() if key in checks}


def parse_queues(raw: Any, cluster_type: str | None, here: Here) -> dict[str, Queue] | None:
    queues_raw = _mapping(raw, "'queues'", here) if raw else {}
    if not queues_raw:
        return None
    queues: dict[str, Queue] = {}
    for queue_name, queue_raw in queues_raw.items():
        qhere = here.at(queue_name)
        check_name("queue name", queue_name, qhere.location)
        data = {str(k).replace("-", "_"): v for k, v in _mapping(queue_raw, f"queue '{queue_name}'", qhere).items()}
        for key in data:
            if key not in _QUEUE_KEYS:
                original = next((k for k in queue_raw if str(k).replace("-", "_") == key), key)
                raise _fail(f"unknown key '{original}' in queue '{queue_name}'{did_you_mean(key, _QUEUE_FIELDS)}", qhere.at(original))
        values = _queue_values(data, qhere)
        template = _str(data.get("TEMPLATE"), "TEMPLATE", qhere)
        if template is not None:
            if template not in queues:
                raise _fail(
                    f"queue '{queue_name}' uses TEMPLATE '{template}', which is not defined before it in this cluster"
                    + did_you_mean(template, queues) if queues else
                    f"queue '{queue_name}' uses TEMPLATE '{template}', but no queue is defined before it",
                    qhere.at("TEMPLATE"),
                )
            queue = dataclasses.replace(queues[template], name=queue_name, **values)
        else:
            queue = Queue(name=queue_name, **values)
        _check_queue_rules(queue, cluster_type, qhere)
        queues[queue_name] = queue
    return queues


def _check_queue_rules(queue: Queue, cluster_type: str | None, here: Here) -> None:
    if queue.exclusive:
        if queue.job_cores is not None:
            raise _fail(f"queue '{queue.name}': remove 'job_cores'; it cannot be combined with 'exclusive: true'", here)
        if queue.cores is None and cluster_type == "local":
            raise _fail(f"queue '{queue.name}': a local cluster's exclusive queue needs 'cores'", here)
    elif queue.cores is None and cluster_type != "local":
        raise _fail(f"queue '{queue.name}': set 'cores' (or 'exclusive: true' to take whole nodes)", here)


_CLUSTER_KEYS = ("frontends", "tunnel", "type", "workers", "memory_per_core_property_name", "queues", "default_queue")


def parse_cluster(name: str, source: ClusterSource) -> Cluster:
    here = source.here
    check_name("cluster name", name, here.location)
    data = _mapping(source.data, f"cluster '{name}'", here)
    _check_keys(data, _CLUSTER_KEYS, f"cluster '{name}'", here)
    cluster_type = data.get("type")
    if cluster_type is not None and cluster_type not in CLUSTER_TYPES:
        raise _fail(f"cluster '{name}': unknown type {cluster_type!r}{did_you_mean(cluster_type, CLUSTER_TYPES)}", here.at("type"))
    if "frontends" not in data:
        raise _fail(f"cluster '{name}' needs 'frontends' (a list of frontend hosts)", here)
    frontends_raw = data["frontends"]
    if not isinstance(frontends_raw, list):
        raise _fail(f"cluster '{name}': 'frontends' must be a list", here.at("frontends"))
    frontends = tuple(
        parse_frontend(f, cluster_type, here.at("frontends", i)) for i, f in enumerate(frontends_raw)
    )
    tunnel = _bool(data.get("tunnel", False), "tunnel", here)
    return Cluster(
        name=name,
        frontends=frontends,
        tunnel=bool(tunnel),
        type=cluster_type,
        workers=_int(data.get("workers"), "workers", here),
        memory_per_core_property_name=_str(data.get("memory_per_core_property_name"), "memory_per_core_property_name", here),
        queues=parse_queues(data.get("queues"), cluster_type, here.at("queues")),
        default_queue=_str(data.get("default_queue"), "default_queue", here),
    )


def build_registry(
    sources: Mapping[str, ClusterSource], previous_local_cluster: str | None = None
) -> ClusterRegistry:
    """All clusters from *sources*; ``local_cluster`` keeps its previous value when not given."""
    clusters: dict[str, Cluster] = {}
    local_cluster = previous_local_cluster
    local_source: ClusterSource | None = None
    for name, source in sources.items():
        if name == LOCAL_CLUSTER_KEY:
            local_source = source
            continue
        if not isinstance(name, str):
            raise _fail(f"cluster names must be strings, not {name!r}", source.here)
        clusters[name] = parse_cluster(name, source)
    if local_source is not None:
        value = local_source.data
        if not isinstance(value, str):
            raise _fail("'local_cluster' must name a cluster", local_source.here)
        if value not in clusters:
            raise _fail(f"'local_cluster: {value}' names no defined cluster{did_you_mean(value, clusters)}", local_source.here)
        local_cluster = value
    return ClusterRegistry(clusters=clusters, local_cluster=local_cluster)
