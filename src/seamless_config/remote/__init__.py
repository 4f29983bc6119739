"""Async SSH transport and the remote-http-launcher protocol.

Imported lazily by the orchestrator. Names are loaded on first use (PEP 562),
so that ``seamless_config.remote.quick`` can serve seamless-init's warm path
without importing anyio, asyncssh or aiohttp.

    async with ConnectionPool() as pool:
        conn = await ensure_service(launch_dict, pool=pool, timeout=120)
        # conn == {"hostname": ..., "port": ..., ...}, as remote_http_launcher.run() returns
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client_file import ClientFile
    from .health import HealthChecker
    from .hosts import CommandResult
    from .hosts import CommandTimeout
    from .hosts import Host
    from .hosts import LocalHost
    from .hosts import SSHHost
    from .hosts import remote_command
    from .launch_config import Handshake
    from .launch_config import LaunchConfig
    from .launch_config import client_directory
    from .launcher import PhaseCallback
    from .launcher import ensure_service
    from .launcher import stop_service
    from .pool import ConnectionPool
    from .server_side import LocalServerSide
    from .server_side import ServerSide
    from .server_side import SSHServerSide
    from .server_side import WaitOutcome
    from .state_store import StateStore
    from .tunnel import Tunnel
    from .tunnel import TunnelError
    from .tunnel import close_tunnels
    from .tunnel import find_tunnel_pids
    from .tunnel import open_tunnel

_WHERE = {
    "ClientFile": "client_file",
    "HealthChecker": "health",
    "CommandResult": "hosts",
    "CommandTimeout": "hosts",
    "Host": "hosts",
    "LocalHost": "hosts",
    "SSHHost": "hosts",
    "remote_command": "hosts",
    "Handshake": "launch_config",
    "LaunchConfig": "launch_config",
    "client_directory": "launch_config",
    "PhaseCallback": "launcher",
    "ensure_service": "launcher",
    "stop_service": "launcher",
    "ConnectionPool": "pool",
    "LocalServerSide": "server_side",
    "ServerSide": "server_side",
    "SSHServerSide": "server_side",
    "WaitOutcome": "server_side",
    "StateStore": "state_store",
    "Tunnel": "tunnel",
    "TunnelError": "tunnel",
    "close_tunnels": "tunnel",
    "find_tunnel_pids": "tunnel",
    "open_tunnel": "tunnel",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = [
    "ClientFile",
    "CommandResult",
    "CommandTimeout",
    "ConnectionPool",
    "Handshake",
    "HealthChecker",
    "Host",
    "LaunchConfig",
    "LocalHost",
    "LocalServerSide",
    "PhaseCallback",
    "SSHHost",
    "SSHServerSide",
    "ServerSide",
    "StateStore",
    "Tunnel",
    "TunnelError",
    "WaitOutcome",
    "client_directory",
    "close_tunnels",
    "ensure_service",
    "find_tunnel_pids",
    "open_tunnel",
    "remote_command",
    "stop_service",
]
