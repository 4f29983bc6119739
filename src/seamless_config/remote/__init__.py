"""Async SSH transport and the remote-http-launcher protocol.

Imported lazily by the orchestrator (it pulls in asyncssh and aiohttp).

    async with ConnectionPool() as pool:
        conn = await ensure_service(launch_dict, pool=pool, timeout=120)
        # conn == {"hostname": ..., "port": ..., ...}, as remote_http_launcher.run() returns
"""

from __future__ import annotations

from .client_file import ClientFile
from .health import HealthChecker
from .hosts import (
    CommandResult,
    CommandTimeout,
    Host,
    LocalHost,
    SSHHost,
    remote_command,
)
from .launch_config import Handshake, LaunchConfig, client_directory
from .launcher import PhaseCallback, ensure_service
from .pool import ConnectionPool
from .server_side import LocalServerSide, ServerSide, SSHServerSide, WaitOutcome
from .tunnel import Tunnel, TunnelError, close_tunnels, find_tunnel_pids, open_tunnel

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
    "Tunnel",
    "TunnelError",
    "WaitOutcome",
    "client_directory",
    "close_tunnels",
    "ensure_service",
    "find_tunnel_pids",
    "open_tunnel",
    "remote_command",
]
