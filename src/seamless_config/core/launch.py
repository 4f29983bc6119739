"""Build the launch dicts that remote-http-launcher takes, from a cluster and a storage scope.

Pure functions: the caller supplies everything (cluster, scope, queue, node,
record flag, forwarded clients). What differs between Dask schedulers (SLURM,
OAR, LocalCluster) lives in ``core/schedulers/``, one module each. The dicts equal what the reference produced
for the same inputs, plus a ``meta`` block that the launcher writes into the
server's state file (``seamless-service-ps`` reads it).
"""

from __future__ import annotations

import copy
import json
import logging
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from .model import Cluster, DatabaseSpec, Frontend, HashserverSpec, Queue
from .names import check_name, check_subproject
from .schedulers import Scheduler, scheduler_for
from .yaml_io import parse_yaml

logger = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Scope:
    """Which storage and which job-dispatch scope a service belongs to."""

    cluster: str
    project: str
    subproject: str | None = None
    stage: str | None = None
    substage: str | None = None

    def __post_init__(self) -> None:
        # Every part ends up in launcher templates (evaluated as f-strings): validate here,
        # whoever built the scope (selection, API overrides, CLI arguments).
        # An empty subproject/stage/substage means "none", as in the reference.
        for name in ("subproject", "stage", "substage"):
            if getattr(self, name) == "":
                object.__setattr__(self, name, None)
        check_name("cluster", self.cluster)
        check_name("project", self.project)
        if self.subproject is not None:
            check_subproject(self.subproject)
        if self.stage is not None:
            check_name("stage", self.stage)
        if self.substage is not None:
            check_name("substage", self.substage)

    @property
    def project_subdir(self) -> str:
        return "/" + self.project + ("/" + self.subproject if self.subproject else "")

    @property
    def stage_dir(self) -> str:
        return "/STAGE-" + self.stage if self.stage else ""

    @property
    def stage_subdir(self) -> str:
        if self.stage and self.substage:
            return self.stage_dir + "SUBSTAGE-" + self.substage
        return self.stage_dir

    def storage_path(self, base: str) -> str:
        """``<base>/<project>[/<subproject>][/STAGE-<stage>]``"""
        return base + self.project_subdir + self.stage_dir


@lru_cache(maxsize=1)
def tool_definitions() -> dict[str, Any]:
    """tools.yaml, parsed: from its parsed copy tools.json (scripts/gen_tools_json.py writes it) when
    that copy was made from this very text (a CRC-32 of it is stored), since parsing the YAML costs
    ~20 ms of every bring-up; else, and when the package is not on disk, the YAML itself."""
    from importlib import resources

    text = resources.files("seamless_config.core").joinpath("tools.yaml").read_text("utf-8")
    try:
        parsed_copy = json.loads(Path(__file__).with_name("tools.json").read_text("utf-8"))
    except (OSError, ValueError):  # not installed as files (a zip)
        parsed_copy = None
    if isinstance(parsed_copy, dict) and parsed_copy.get("source_crc32") == zlib.crc32(text.encode("utf-8")):
        data = parsed_copy.get("tools")
    else:
        if parsed_copy is not None:
            logger.warning("core/tools.json is older than tools.yaml: parsing the YAML "
                           "(run scripts/gen_tools_json.py)")
        data = parse_yaml(text, Path("seamless_config/core/tools.yaml")).data
    assert isinstance(data, dict)
    return data


def _fill(template: str, injected: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: injected[m.group()[1:]], template)


def _assemble(
    tool: str,
    added: dict[str, Any],
    injected: dict[str, str],
    *,
    is_local_cluster: bool,
    meta: LaunchMeta,
) -> dict[str, Any]:
    spec = tool_definitions()[tool]
    missing = [name for name in spec["inject"] if name not in injected]
    assert not missing, (tool, missing)
    result = copy.deepcopy(added)
    result.update(copy.deepcopy(spec["fixed"]))
    for field, template in spec["templates"].items():
        result[field] = _fill(template, injected)
    if is_local_cluster:
        # The machine's own cluster: the launcher runs the service here, no SSH.
        for key in ("hostname", "ssh_hostname", "tunnel"):
            result.pop(key, None)
    if not result.get("tunnel"):
        result.pop("tunnel", None)
    for key in spec["prune_none"]:
        if result.get(key) is None:
            result.pop(key, None)
    result["meta"] = LaunchMeta(meta)  # after deepcopy: keep the hashable type
    return result


def _frontend(cluster: Cluster, service: str, frontend_name: str | None) -> Frontend:
    frontend = cluster.frontend_for(service, frontend_name)
    if frontend is None:
        where = f" named '{frontend_name}'" if frontend_name is not None else ""
        raise ConfigurationError(
            f"No frontend{where} of cluster '{cluster.name}' can host a {service}: "
            f"add a '{service}:' section to one of its frontends"
        )
    return frontend


def _host_fields(cluster: Cluster, frontend: Frontend) -> dict[str, Any]:
    fields: dict[str, Any] = {"tunnel": cluster.tunnel, "hostname": frontend.hostname}
    if frontend.ssh_hostname is not None:
        fields["ssh_hostname"] = frontend.ssh_hostname
    return fields


class LaunchMeta(dict[str, Any]):
    """The ``meta`` block: a JSON-serialisable dict that is also hashable.

    seamless-remote caches launch dicts with ``frozendict(conf)``, which hashes
    every value; a plain dict here would make that raise ``TypeError``.
    """

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted((k, str(v)) for k, v in self.items())))


def _meta(service: str, scope: Scope, mode: str | None, queue: str | None) -> LaunchMeta:
    return LaunchMeta({
        "service": service,
        "cluster": scope.cluster,
        "mode": mode,
        "project": scope.project,
        "subproject": scope.subproject,
        "stage": scope.stage,
        "substage": scope.substage,
        "queue": queue,
    })


def _injected(scope: Scope, mode: str) -> dict[str, str]:
    return {
        "CLUSTER": scope.cluster,
        "MODE": mode,
        "PROJECTSUBDIR": scope.project_subdir,
        "STAGEDIR": scope.stage_dir,
        "STAGESUBDIR": scope.stage_subdir,
    }


def _check_mode(mode: str) -> None:
    if mode not in ("ro", "rw"):
        raise ValueError(f"mode must be 'ro' or 'rw', not {mode!r}")


def _storage_launch(
    service: str, cluster: Cluster, scope: Scope, mode: str, *, is_local_cluster: bool,
    frontend_name: str | None, queue: str | None,
) -> dict[str, Any]:
    """hashserver or database: storage is per stage, never per substage."""
    _check_mode(mode)
    scope = Scope(scope.cluster, scope.project, scope.subproject, scope.stage, None)
    frontend = _frontend(cluster, service, frontend_name)
    spec: HashserverSpec | DatabaseSpec | None = getattr(frontend, service)
    assert spec is not None
    added = _host_fields(cluster, frontend)
    added.update(network_interface=spec.network_interface, conda=spec.conda,
                 port_start=spec.port_start, port_end=spec.port_end)
    directory = {"BUFFERDIR": spec.bufferdir} if isinstance(spec, HashserverSpec) else {"DATABASE_DIR": spec.database_dir}
    return _assemble(service, added, _injected(scope, mode) | directory, is_local_cluster=is_local_cluster,
                     meta=_meta(service, scope, mode, queue))


def hashserver_launch(
    cluster: Cluster, scope: Scope, mode: str, *, is_local_cluster: bool,
    frontend_name: str | None = None, queue: str | None = None,
) -> dict[str, Any]:
    return _storage_launch("hashserver", cluster, scope, mode, is_local_cluster=is_local_cluster,
                           frontend_name=frontend_name, queue=queue)


def database_launch(
    cluster: Cluster, scope: Scope, mode: str, *, is_local_cluster: bool,
    frontend_name: str | None = None, queue: str | None = None,
) -> dict[str, Any]:
    return _storage_launch("database", cluster, scope, mode, is_local_cluster=is_local_cluster,
                           frontend_name=frontend_name, queue=queue)


def jobserver_launch(
    cluster: Cluster, scope: Scope, *, is_local_cluster: bool, remote_clients: dict[str, Any],
    record: bool, frontend_name: str | None = None, queue: str | None = None,
) -> dict[str, Any]:
    frontend = _frontend(cluster, "jobserver", frontend_name)
    spec = frontend.jobserver
    assert spec is not None
    if cluster.workers is None:
        raise ConfigurationError(
            f"Cluster '{cluster.name}' has a jobserver but no 'workers': add 'workers: <N>' to its definition"
        )
    added: dict[str, Any] = {"workers": cluster.workers}
    added.update(_host_fields(cluster, frontend))
    added.update(network_interface=spec.network_interface, conda=spec.conda,
                 port_start=spec.port_start, port_end=spec.port_end)
    added["file_parameters"] = dict(remote_clients) | {"record": record}
    return _assemble("jobserver", added, _injected(scope, "rw"), is_local_cluster=is_local_cluster,
                     meta=_meta("jobserver", scope, None, queue))


def _queue(cluster: Cluster, queue_name: str | None) -> Queue:
    name = queue_name or cluster.default_queue
    queues = cluster.queues or {}
    if name is None:
        raise ConfigurationError(
            f"No queue selected and cluster '{cluster.name}' has no default queue: "
            "add 'queue: <name>' to seamless.profile.yaml or 'default_queue' to the cluster"
        )
    if name not in queues:
        raise ConfigurationError(f"Cluster '{cluster.name}' has no queue '{name}'")
    return queues[name]


def _scheduler(cluster: Cluster) -> Scheduler:
    return scheduler_for(cluster.name, cluster.type)


def _dask_added(cluster: Cluster, frontend: Frontend, queue: Queue) -> dict[str, Any]:
    spec = frontend.daskserver
    assert spec is not None
    added: dict[str, Any] = {"cluster_string": _scheduler(cluster).cluster_string}
    added.update(_host_fields(cluster, frontend))
    added.update(network_interface=spec.network_interface, conda=queue.conda,
                 port_start=spec.port_start, port_end=spec.port_end)
    return added


def daskserver_launch(
    cluster: Cluster, scope: Scope, *, is_local_cluster: bool, queue_name: str | None,
    node: str | None, record: bool, frontend_name: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The Seamless daskserver; *overrides* (queue field -> value) beat the queue's own values."""
    frontend = _frontend(cluster, "daskserver", frontend_name)
    scheduler = _scheduler(cluster)
    queue = _queue(cluster, queue_name)
    added = _dask_added(cluster, frontend, queue)
    added["file_parameters"] = scheduler.file_parameters(cluster, queue, node=node, pure=False, record=record,
                                                         overrides=overrides)
    return _assemble("daskserver", added, _injected(scope, "rw"), is_local_cluster=is_local_cluster,
                     meta=_meta("daskserver", scope, None, queue.name))


def pure_daskserver_launch(
    cluster: Cluster, *, is_local_cluster: bool, queue_name: str | None, node: str | None,
    frontend_name: str | None = None, overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The pure daskserver (``persistent: false``): one per cluster and queue, no Seamless storage."""
    frontend = _frontend(cluster, "daskserver", frontend_name)
    scheduler = _scheduler(cluster)
    queue = _queue(cluster, queue_name)
    added = _dask_added(cluster, frontend, queue)
    added["file_parameters"] = scheduler.file_parameters(cluster, queue, node=node, pure=True, overrides=overrides)
    meta = LaunchMeta(service="pure_daskserver", cluster=cluster.name, mode=None, project=None,
                      subproject=None, stage=None, substage=None, queue=queue.name)
    return _assemble("pure_daskserver", added, {"CLUSTER": cluster.name, "QUEUE": queue.name},
                     is_local_cluster=is_local_cluster, meta=meta)
