"""How each choice changes a ``Selection`` — shared by file commands and API calls.

Each function takes the current selection and returns the next one, or raises
``ConfigFileError`` (a ``ValueError``, as in the reference) with the location
of the offending value when there is one.
"""

from __future__ import annotations

import re

from ..errors import ConfigFileError, ConfigurationError
from .hints import did_you_mean
from .model import ClusterRegistry
from .names import check_name, check_subproject
from .selection import EXECUTION_MODES, REMOTE_TARGETS, Origin, Selection, Source


_NODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.,\[\]-]*")


def _err(message: str, origin: Origin) -> ConfigFileError:
    return ConfigFileError(message, origin.location)


def choose_cluster(sel: Selection, cluster: object, origin: Origin) -> Selection:
    if cluster is not None:
        cluster = check_name("cluster", cluster, origin.location)
    changed = cluster != sel.cluster
    sel = sel.set("cluster", cluster, origin)
    return sel.unset("queue") if changed else sel


def choose_project(sel: Selection, project: object, origin: Origin) -> Selection:
    return sel.set("project", check_name("project", project, origin.location), origin)


def choose_subproject(sel: Selection, subproject: object, origin: Origin) -> Selection:
    if subproject is not None:
        subproject = check_subproject(subproject, origin.location)
    return sel.set("subproject", subproject, origin)


def choose_stage(sel: Selection, stage: object, origin: Origin) -> Selection:
    if stage is not None:
        stage = check_name("stage", stage, origin.location)
    return sel.set("stage", stage, origin)


def choose_substage(sel: Selection, substage: object, origin: Origin) -> Selection:
    if substage is not None:
        substage = check_name("substage", substage, origin.location)
    return sel.set("substage", substage, origin)


def choose_execution(sel: Selection, execution: object, origin: Origin, source: Source) -> Selection:
    if not isinstance(execution, str) or execution not in EXECUTION_MODES:
        raise _err(f"execution must be one of {', '.join(EXECUTION_MODES)}, not {execution!r}"
                   + (did_you_mean(execution, EXECUTION_MODES) if isinstance(execution, str) else ""), origin)
    return sel.set("execution", execution, origin, source)


def choose_persistent(sel: Selection, persistent: object, origin: Origin, source: Source) -> Selection:
    if not isinstance(persistent, bool):
        raise _err(f"persistent must be true or false, not {persistent!r}", origin)
    return sel.set("persistent", persistent, origin, source)


def choose_record(sel: Selection, record: object, origin: Origin, source: Source) -> Selection:
    if not isinstance(record, bool):
        raise _err(f"record must be true or false, not {record!r}", origin)
    return sel.set("record", record, origin, source)


def choose_queue(
    sel: Selection, queue: object, registry: ClusterRegistry, origin: Origin, source: Source
) -> Selection:
    if not isinstance(queue, str):
        raise _err(f"queue must be a string, not {queue!r}", origin)
    cluster = sel.cluster
    if cluster is None:
        raise _err("select a cluster before selecting a queue (put 'cluster: ...' first)", origin)
    if cluster not in registry.clusters:
        raise _err(f"unknown cluster '{cluster}'{did_you_mean(cluster, registry.clusters)}", origin)
    queues = registry.clusters[cluster].queues
    if not queues:
        raise _err(f"cluster '{cluster}' defines no queues", origin)
    if queue not in queues:
        raise _err(f"cluster '{cluster}' has no queue '{queue}'{did_you_mean(queue, queues)}", origin)
    return sel.set("queue", queue, origin, source, for_cluster=cluster)


def choose_remote(sel: Selection, remote: object, origin: Origin, source: Source) -> Selection:
    if remote is not None and (not isinstance(remote, str) or remote not in REMOTE_TARGETS):
        hint = did_you_mean(remote, REMOTE_TARGETS) if isinstance(remote, str) else ""
        raise _err(f"remote must be null, jobserver or daskserver, not {remote!r}{hint}", origin)
    return sel.set("remote", remote, origin, source)


def choose_node(sel: Selection, node: object, origin: Origin, source: Source) -> Selection:
    if node is not None:
        if not isinstance(node, str) or not node.strip():
            raise _err(f"node must be a non-empty string or null, not {node!r}", origin)
        if not _NODE.fullmatch(node):
            raise _err(f"node {node!r} is not allowed: use a node name or SLURM node list "
                       "(letters, digits, '_', '.', '-', ',', '[', ']')", origin)
    return sel.set("node", node, origin, source)


def choose_nparallel(sel: Selection, nparallel: object, origin: Origin) -> Selection:
    if isinstance(nparallel, bool) or not isinstance(nparallel, int) or nparallel < 1:
        raise _err(f"nparallel must be a positive whole number, not {nparallel!r}", origin)
    return sel.set("nparallel", int(nparallel), origin)


def nparallel_or_error(sel: Selection) -> int:
    if sel.nparallel is None:
        raise ConfigurationError(
            "nparallel is not set: add 'nparallel: <N>' to seamless.profile.yaml "
            "or call seamless_config.set_nparallel(N)"
        )
    return sel.nparallel
