"""Selection API (compatibility façade): ``select_*`` to choose, ``get_*`` to ask.

Names, arguments and meanings are those the Seamless packages import; each
function delegates to the single state object ``seamless_config.state.STATE``.
"""

from __future__ import annotations

import sys
from typing import Optional

from .core import rules
from .core.resolved import current_queue, current_scope, remote_target
from .core.selection import API, EXECUTION_MODES, PROJECT_TOPLEVEL, Origin, Source
from .state import STATE

REMOTE_TARGETS = (None, "daskserver", "jobserver")

__all__ = [
    "PROJECT_TOPLEVEL", "EXECUTION_MODES", "REMOTE_TARGETS",
    "select_cluster", "select_project", "select_subproject", "select_stage", "select_substage",
    "select_execution", "select_persistent", "select_record", "select_queue", "select_remote",
    "select_node", "select_nparallel",
    "get_selected_cluster", "get_selected_project", "get_subproject", "get_stage", "get_substage",
    "get_execution", "get_persistent", "get_record", "get_queue", "get_remote", "get_node",
    "get_nparallel", "get_current", "check_remote_redundancy",
    "execution_was_set_explicitly", "execution_command_seen", "persistent_was_set_explicitly",
]


def _origin(source: Source, function: str) -> Origin:
    return API if source == "manual" else Origin("api", detail=function)


def select_cluster(cluster: Optional[str]) -> None:
    STATE.update(lambda s: rules.choose_cluster(s, cluster, Origin("api", detail="select_cluster")))


def select_project(project: str) -> None:
    STATE.update(lambda s: rules.choose_project(s, project, Origin("api", detail="select_project")))


def select_subproject(subproject: Optional[str]) -> None:
    STATE.update(lambda s: rules.choose_subproject(s, subproject, Origin("api", detail="select_subproject")))


def select_stage(stage: Optional[str]) -> None:
    STATE.update(lambda s: rules.choose_stage(s, stage, Origin("api", detail="select_stage")))


def select_substage(substage: Optional[str]) -> None:
    STATE.update(lambda s: rules.choose_substage(s, substage, Origin("api", detail="select_substage")))


def select_execution(execution: str, *, source: Source = "manual") -> None:
    STATE.update(lambda s: rules.choose_execution(s, execution, _origin(source, "select_execution"), source))


def select_persistent(persistent: bool, *, source: Source = "manual") -> None:
    STATE.update(lambda s: rules.choose_persistent(s, persistent, _origin(source, "select_persistent"), source))


def _invalidate_record_cache() -> None:
    # seamless-transformer caches the record mode; only a loaded module can hold a stale cache.
    module = sys.modules.get("seamless_transformer.record_runtime")
    invalidate = getattr(module, "invalidate_record_mode_cache", None)
    if callable(invalidate):
        try:
            invalidate()
        except Exception:
            import logging

            logging.getLogger("seamless_config").warning("could not invalidate seamless-transformer's record cache", exc_info=True)


def select_record(record: bool, *, source: Source = "manual") -> None:
    STATE.update(lambda s: rules.choose_record(s, record, _origin(source, "select_record"), source))
    _invalidate_record_cache()


def select_queue(queue: str, *, source: Source = "manual") -> None:
    with STATE.lock:
        registry = STATE.registry
        STATE.update(lambda s: rules.choose_queue(s, queue, registry, _origin(source, "select_queue"), source))


def select_remote(remote: Optional[str], *, source: Source = "manual") -> None:
    STATE.update(lambda s: rules.choose_remote(s, remote, _origin(source, "select_remote"), source))


def select_node(node: Optional[str], *, source: Source = "manual") -> None:
    STATE.update(lambda s: rules.choose_node(s, node, _origin(source, "select_node"), source))


def select_nparallel(nparallel: int) -> None:
    STATE.update(lambda s: rules.choose_nparallel(s, nparallel, Origin("api", detail="set_nparallel")))


def get_selected_cluster() -> Optional[str]:
    return STATE.selection.cluster


def get_selected_project() -> Optional[str]:
    return STATE.selection.project


def get_subproject() -> Optional[str]:
    return STATE.selection.subproject


def get_stage() -> Optional[str]:
    return STATE.selection.stage


def get_substage() -> Optional[str]:
    return STATE.selection.substage


def get_execution() -> str:
    return STATE.selection.effective_execution


def execution_was_set_explicitly() -> bool:
    return STATE.selection["execution"].explicit


def execution_command_seen() -> bool:
    return STATE.selection["execution"].command_seen


def persistent_was_set_explicitly() -> bool:
    return STATE.selection["persistent"].explicit


def get_persistent(cluster: Optional[str] = None) -> bool:
    return STATE.selection.effective_persistent(cluster)


def get_record() -> bool:
    return STATE.selection.record


def get_queue(cluster: Optional[str] = None) -> Optional[str]:
    snap = STATE.snapshot()
    return current_queue(snap.selection, snap.registry, cluster)


def get_remote() -> Optional[str]:
    return STATE.selection.remote


def get_node() -> Optional[str]:
    return STATE.selection.node


def get_nparallel() -> int:
    return rules.nparallel_or_error(STATE.selection)


def check_remote_redundancy(cluster: str) -> Optional[str]:
    """The job backend of *cluster*; raises if it has both and ``remote:`` does not pin one."""
    snap = STATE.snapshot()
    return remote_target(snap.selection, snap.registry, cluster)


def get_current(
    cluster: Optional[str] = None,
    project: Optional[str] = None,
    subproject: Optional[str] = None,
    stage: Optional[str] = None,
    substage: Optional[str] = None,
) -> tuple[str, str, Optional[str], Optional[str], Optional[str]]:
    """``(cluster, project, subproject, stage, substage)``; arguments override the selection."""
    scope = current_scope(STATE.selection, cluster, project, subproject, stage, substage)
    return scope.cluster, scope.project, scope.subproject, scope.stage, scope.substage


# The reference exposed these; loading now resets through the state object.
def _reset_before_load() -> None:
    STATE.update(lambda s: s.before_reload())


reset_execution_before_load = reset_queue_before_load = reset_remote_before_load = _reset_before_load
reset_persistent_before_load = reset_record_before_load = reset_node_before_load = _reset_before_load


# The reference's private globals (``_current_cluster``, ``_execution_source``, ...) as views of the state.
from . import _compat_names  # noqa: E402

_compat_names.install(sys.modules[__name__], _compat_names.select_views())
