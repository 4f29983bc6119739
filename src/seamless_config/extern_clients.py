"""Forward the active buffer/database clients to worker processes (and restore them there).

``collect_remote_clients`` describes the clients this process uses;
``set_remote_clients`` defines the same clients in a worker, *instead of*
reading configuration files. ``SEAMLESS_REMOTE_CLIENTS`` carries the JSON.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any

from .environment import seamless_cache_dir

if TYPE_CHECKING:
    from .state import ConfigState


def _state() -> ConfigState:
    """The process's configuration state (imported on first use: keeps `import seamless_config` cheap)."""
    from .state import STATE

    return STATE

__all__ = ["collect_remote_clients", "set_remote_clients", "set_remote_clients_from_env"]

ENV_VAR = "SEAMLESS_REMOTE_CLIENTS"
_LOG = logging.getLogger("seamless_config.extern_clients")
_MAX_ENV_LENGTH = 1024 * 1024
_FORWARDED_FIELDS = ("directory", "url", "remote_url", "remote_directory")


def _describe(info: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"readonly": info["readonly"]}
    entry.update({k: info[k] for k in _FORWARDED_FIELDS if info.get(k) is not None})
    return entry


def collect_remote_clients(cluster: str) -> dict[str, list[dict[str, Any]]]:
    """``{"database": [...], "buffer": [...]}``: extern clients plus those launched on *cluster*."""
    from seamless_remote import buffer_remote, database_remote

    result: dict[str, list[dict[str, Any]]] = {}
    for kind, module in (("database", database_remote), ("buffer", buffer_remote)):
        entries = [_describe(info) for info in module.inspect_extern_clients()]
        entries += [
            _describe(info) for info in module.inspect_launched_clients() if info.get("cluster") == cluster
        ]
        result[kind] = entries
    return {"database": result["database"], "buffer": result["buffer"]}


def set_remote_clients(clients: dict[str, list[dict[str, Any]]], in_remote: bool = False) -> None:
    """Use *clients* (from ``collect_remote_clients``); must come before ``init()``.

    With ``in_remote=True`` the worker runs inside the cluster and uses the
    services' cluster-internal addresses (``remote_url``/``remote_directory``).
    """
    from seamless_remote import buffer_remote, database_remote

    from .upstream_fixes import apply_all

    apply_all()  # a worker with forwarded clients runs transformations too
    with _state().lock:
        if _state().initialized:
            raise RuntimeError("set_remote_clients() must be called before init()")
        _state().remote_clients_set = True

    database_names = []
    for index, entry in enumerate(clients.get("database", [])):
        url = entry.get("remote_url" if in_remote else "url")
        if url is None:
            raise ValueError(f"database client {index} has no {'remote_url' if in_remote else 'url'}")
        name = f"extern-db-{index}"
        database_remote.define_extern_client(name, "database", url=url, readonly=entry.get("readonly", True))
        database_names.append(name)
    database_remote.activate(no_main=True, extern_clients=database_names)

    buffer_names = []
    for index, entry in enumerate(clients.get("buffer", [])):
        readonly = entry.get("readonly", True)
        url = entry.get("remote_url" if in_remote else "url")
        directory = entry.get("remote_directory" if in_remote else "directory")
        if directory is not None and in_remote:
            directory = os.path.expanduser(directory)
        if directory is None and url is None:
            raise ValueError(f"buffer client {index} needs a url or a directory")
        both = directory is not None and url is not None
        if directory is not None:
            name = f"extern-buffer-{index}-folder" if both else f"extern-buffer-{index}"
            buffer_remote.define_extern_client(name, "bufferfolder", directory=directory, readonly=True)
            buffer_names.append(name)
        if url is not None:
            name = f"extern-buffer-{index}-server" if both else f"extern-buffer-{index}"
            buffer_remote.define_extern_client(name, "hashserver", url=url, readonly=readonly)
            buffer_names.append(name)
    buffer_remote.activate(no_main=True, extern_clients=buffer_names)


def set_remote_clients_from_env(include_dask: bool) -> bool:
    """Adopt ``$SEAMLESS_REMOTE_CLIENTS`` if set (and no ``SEAMLESS_CACHE``); True if it was set."""
    if seamless_cache_dir() is not None:
        return False
    raw = os.environ.get(ENV_VAR)
    if raw is None:
        return False
    clients, problem = parse_env_clients(raw)
    if clients is None:
        # A worker must still start; it then runs without forwarded clients, but says so.
        _warn(f"${ENV_VAR} is malformed ({problem}); running without forwarded buffer/database clients")
        return True
    try:
        set_remote_clients(clients, in_remote=True)
        if include_dask:
            _dask_client_from_env()
    except Exception as exc:
        _warn(f"${ENV_VAR} could not be used ({type(exc).__name__}: {exc}); "
              "running without forwarded buffer/database clients")
    return True


def _warn(message: str) -> None:
    # Through logging only: shown on stderr even when the application configured no logging.
    _LOG.warning("%s", message)


def parse_env_clients(raw: str) -> tuple[dict[str, list[dict[str, Any]]] | None, str]:
    """``$SEAMLESS_REMOTE_CLIENTS`` as ``collect_remote_clients`` made it, or ``(None, what is wrong)``."""
    if len(raw) > _MAX_ENV_LENGTH:
        return None, f"{len(raw)} characters, more than the {_MAX_ENV_LENGTH} a client list needs"
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return None, f"not JSON: {exc}"
    except RecursionError:
        return None, "not JSON: nested too deeply"
    if not isinstance(data, dict):
        return None, f"expected a JSON object with 'database' and 'buffer' lists, not {type(data).__name__}"
    for key, entries in data.items():
        if key not in ("database", "buffer"):
            return None, f"unknown key {key!r}; expected 'database' and 'buffer'"
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            return None, f"'{key}' must be a list of objects"
        for index, entry in enumerate(entries):
            for field_name in _FORWARDED_FIELDS:
                value = entry.get(field_name)
                if value is not None and not isinstance(value, str):
                    return None, f"{key}[{index}].{field_name} must be a string"
            if not isinstance(entry.get("readonly", True), bool):
                return None, f"{key}[{index}].readonly must be true or false"
    return data, ""


def _dask_client_from_env() -> None:
    """Connect to ``$SEAMLESS_DASK_SCHEDULER`` when this process is a Dask-side client."""
    try:
        from seamless import is_worker

        if is_worker():
            return
        address = os.environ.get("SEAMLESS_DASK_SCHEDULER")
        if not address:
            return
        from seamless_dask.transformer_client import get_seamless_dask_client, set_seamless_dask_client

        if get_seamless_dask_client() is not None:
            return
        from distributed import Client
        from seamless_dask.client import SeamlessDaskClient

        try:
            workers = int(os.environ.get("SEAMLESS_DASK_WORKERS", "1") or 1)
        except ValueError:
            workers = 1
        client = Client(address, timeout="10s", set_as_default=False)
        set_seamless_dask_client(SeamlessDaskClient(client, worker_plugin_workers=workers))
    except Exception:
        _LOG.warning("could not connect to $SEAMLESS_DASK_SCHEDULER", exc_info=True)
