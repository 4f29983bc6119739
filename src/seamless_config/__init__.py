"""seamless-config: where a Seamless pipeline runs, and against which storage.

Scripts call ``init()``; notebooks ``await ainit()``. Both read
``seamless.yaml`` and ``seamless.profile.yaml`` (see the docs), bring up the
selected cluster's services and wire them into the Seamless runtime.

Importing this package is cheap: it loads no Seamless runtime, no asyncssh
and no aiohttp; those come when they are needed.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import TYPE_CHECKING, Any, Optional

from .errors import ConfigFileError, ConfigurationError, ServicesUnavailable
from .extern_clients import collect_remote_clients, set_remote_clients, set_remote_clients_from_env
from .environment import seamless_cache_dir

if TYPE_CHECKING:
    from .state import ConfigState


def _state() -> ConfigState:
    """The process's configuration state (imported on first use: keeps `import seamless_config` cheap)."""
    from .state import STATE

    return STATE

__version__ = "0.4.0"

__all__ = [
    "init",
    "ainit",
    "set_stage",
    "aset_stage",
    "set_substage",
    "aset_substage",
    "set_nparallel",
    "get_nparallel",
    "set_workdir",
    "select_record",
    "change_stage",
    "get_seamless_cache",
    "collect_remote_clients",
    "set_remote_clients",
    "set_remote_clients_from_env",
    "ConfigurationError",
    "ConfigFileError",
    "ServicesUnavailable",
]


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


def get_seamless_cache() -> Optional[str]:
    """The ``SEAMLESS_CACHE`` directory (absolute), or None."""
    return seamless_cache_dir()


def get_workdir() -> str:
    """The directory whose configuration files are read (default: the current directory)."""
    return _state().get_workdir()


def _caller_directory(depth: int) -> Optional[str]:
    """The directory of the script *depth* frames up, or None (interactive use)."""
    try:
        frame = sys._getframe(depth + 1)
    except ValueError:
        return None
    filename = frame.f_globals.get("__file__")
    del frame
    if not isinstance(filename, str) or not filename:
        return None
    return os.path.abspath(filename if os.path.isdir(filename) else os.path.dirname(filename))


def _apply_workdir(workdir: Any, depth: int) -> None:
    if workdir is not _UNSET:
        _state().set_workdir(None if workdir is None else os.fspath(workdir))
    elif not _state().workdir_set:
        _state().set_workdir(_caller_directory(depth + 1))


def set_workdir(workdir: Any = _UNSET) -> None:
    """Read configuration from *workdir*; without argument, from the calling script's directory."""
    _apply_workdir(workdir, 1)


def _is_seamless_worker() -> bool:
    module = sys.modules.get("seamless")
    is_worker = getattr(module, "is_worker", None)
    if not callable(is_worker):
        return False
    try:
        return bool(is_worker())
    except Exception:
        return False


def _configure(stage: Optional[str], substage: Optional[str], stacklevel: int = 3) -> bool:
    """Resolve the configuration for *stage*; True if the backends must be (re)activated."""
    from .select import select_stage, select_substage

    with _state().lock:
        if _state().remote_clients_set:
            raise RuntimeError("remote clients are already set (set_remote_clients); the stage cannot change")
        stage_changed = _state().selection.stage != stage or not _state().initialized
        select_stage(stage)
        select_substage(substage)
        _state().load_files()
        for message in _requirements():
            # stacklevel: point at the user's line (the caller of init/set_stage)
            warnings.warn(message, UserWarning, stacklevel=stacklevel)
        return stage_changed


def _requirements() -> list[str]:
    from .core.resolved import check_requirements

    return check_requirements(_state().selection)


def change_stage() -> None:
    """(Re)activate the Seamless backends for the current selection."""
    _activate(None)


def _connections(report: Any) -> dict[str, dict[str, Any]]:
    """What bring-up verified, per plan step (activation connects to exactly these)."""
    if report is None:
        return {}
    return {o.service: o.connection for o in report.outcomes if o.connection is not None}


def _activate(report: Any) -> None:
    from .activation import activate_backends, activate_backends_in_worker, must_leave_this_thread

    if must_leave_this_thread():  # a loop runs here: activate from a worker, which takes the lock itself
        activate_backends_in_worker(_state().snapshot(), _connections(report))
        with _state().lock:
            _state().initialized = True
        return
    with _state().lock:
        activate_backends(_state().snapshot(), _connections(report))
        _state().initialized = True


def set_stage(
    stage: Optional[str] = None, substage: Optional[str] = None, *, workdir: Any = _UNSET,
    timeout: Any = None, _called_from_init: bool = False,
) -> None:
    """Select *stage* (and *substage*), re-read all configuration and (re)activate the backends.

    *timeout*: one deadline for bringing the services up (seconds, or an
    ``orchestrator.deadline.Timeout``; default 180 s). When it passes,
    ``BringUpTimeout`` carries the report of what was up and what was not.
    """
    _apply_workdir(workdir, 1)
    if _configure(stage, substage, stacklevel=4 if _called_from_init else 3):
        _bring_up() if timeout is None else _bring_up(timeout)  # tests replace _bring_up with a 0-argument stub


def set_substage(substage: Optional[str] = None) -> None:
    """Select *substage* within the current stage."""
    set_stage(_state().selection.stage, substage, workdir=_state().workdir if _state().workdir_set else _UNSET)


def init(*, workdir: Any = _UNSET, timeout: Any = None) -> None:
    """Read the configuration and bring up its services; a no-op once initialised."""
    if _is_seamless_worker() or _state().initialized:
        return
    _apply_workdir(workdir, 1)
    set_stage(workdir=_UNSET, timeout=timeout, _called_from_init=True)


def _bring_up(timeout: Any = None) -> None:
    from .orchestrator.bringup import bring_up_sync

    _activate(bring_up_sync(_state().snapshot(), timeout=timeout))


async def ainit(*, workdir: Any = _UNSET, timeout: Any = None) -> None:
    """``init()`` for code already inside an event loop (Jupyter, asyncio programs)."""
    if _is_seamless_worker() or _state().initialized:
        return
    _apply_workdir(workdir, 1)
    await aset_stage(workdir=_UNSET, timeout=timeout)


async def aset_stage(
    stage: Optional[str] = None, substage: Optional[str] = None, *, workdir: Any = _UNSET, timeout: Any = None
) -> None:
    """``set_stage()`` for code inside an event loop."""
    _apply_workdir(workdir, 1)
    if _configure(stage, substage):
        from .orchestrator.bringup import bring_up

        report = await bring_up(_state().snapshot(), timeout=timeout)
        from .activation import aactivate_backends

        # In a worker thread: the seamless-remote activations and the Dask client block.
        await aactivate_backends(_state().snapshot(), _connections(report))
        with _state().lock:
            _state().initialized = True


async def aset_substage(substage: Optional[str] = None) -> None:
    await aset_stage(_state().selection.stage, substage, workdir=_state().workdir if _state().workdir_set else _UNSET)


def set_nparallel(nparallel: int) -> None:
    from .select import select_nparallel

    select_nparallel(nparallel)


def get_nparallel() -> int:
    from .select import get_nparallel as _get

    return _get()


def select_record(record: bool) -> None:
    """Capture full execution records (True) or minimal ones (False, the default)."""
    from .select import select_record as _select

    _select(record)


# The reference's private globals (``_initialized``, ``_workdir``, ...) as views of the state object.
from . import _compat_names  # noqa: E402

_compat_names.install(sys.modules[__name__], _compat_names.package_views())
