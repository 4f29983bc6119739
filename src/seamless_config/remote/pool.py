"""One asyncssh connection per SSH host per process, shared by all callers."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported on first SSH connection (it costs ~0.2 s)
    import asyncssh

import anyio

from ..errors import ConnectionFailedError
from .hosts import LocalHost, SSHHost, passwd_home

# sshd's default MaxSessions is 10: stay below it.
DEFAULT_MAX_CHANNELS = 6
DEFAULT_MAX_LONG_CHANNELS = 2


def default_ssh_config() -> list[str]:
    """``$SEAMLESS_SSH_CONFIG`` if set, else ``~/.ssh/config`` of the passwd home (as OpenSSH reads it)."""
    override = os.environ.get("SEAMLESS_SSH_CONFIG")
    if override:
        return [override]
    path = passwd_home() / ".ssh" / "config"
    return [str(path)] if path.is_file() else []


class ConnectionPool:
    """Opens and caches SSH connections; use as ``async with ConnectionPool() as pool``.

    ``ssh_config`` is the OpenSSH client config file(s) to honour (aliases,
    ``HostName``, ``Port``, ``User``, ``IdentityFile``, ``ProxyJump``,
    ``UserKnownHostsFile``...); by default ``~/.ssh/config`` of the passwd
    home. Host keys are checked against known_hosts unless ``known_hosts`` is
    given explicitly (``None`` disables the check, as in asyncssh).
    ``connections_opened`` counts the SSH connections this pool has opened.
    """

    def __init__(
        self,
        *,
        ssh_config: str | Path | Sequence[str | Path] | None = None,
        known_hosts: Any = (),
        connect_timeout: float = 20.0,
        keepalive_interval: float = 15.0,
        max_channels: int = DEFAULT_MAX_CHANNELS,
        max_long_channels: int = DEFAULT_MAX_LONG_CHANNELS,
        ssh_command: str = "ssh",
    ) -> None:
        if ssh_config is None:
            self.ssh_config: list[str] = default_ssh_config()
        elif isinstance(ssh_config, (str, Path)):
            self.ssh_config = [str(ssh_config)]
        else:
            self.ssh_config = [str(p) for p in ssh_config]
        # Tunnels are `ssh` subprocesses: they must read the same file as asyncssh.
        self.explicit_ssh_config = ssh_config is not None or bool(os.environ.get("SEAMLESS_SSH_CONFIG"))
        self._known_hosts = known_hosts
        self._connect_timeout = connect_timeout
        self._keepalive_interval = keepalive_interval
        self._max_channels = max_channels
        self._max_long_channels = max_long_channels
        self.ssh_command = ssh_command
        self.connections_opened = 0
        self._hosts: dict[str, SSHHost] = {}
        self._opening: dict[str, anyio.Lock] = {}
        self._local = LocalHost()
        self._closed = False

    @property
    def local(self) -> LocalHost:
        return self._local

    def ssh_args(self) -> list[str]:
        """Options for ``ssh`` subprocesses (tunnels) that match this pool's config."""
        if not self.explicit_ssh_config:
            return []
        args: list[str] = []
        for path in self.ssh_config[:1]:
            args += ["-F", path]
        return args

    async def host(self, alias: str) -> SSHHost:
        """The shared connection to ``alias`` (an ssh_config alias or host name)."""
        if self._closed:
            raise RuntimeError("ConnectionPool is closed")
        host = self._hosts.get(alias)
        if host is not None and not host.connection.is_closed():
            return host
        lock = self._opening.setdefault(alias, anyio.Lock())
        async with lock:
            host = self._hosts.get(alias)
            if host is not None and not host.connection.is_closed():
                return host
            connection = await self._connect(alias)
            host = SSHHost(
                alias,
                connection,
                channels=anyio.Semaphore(self._max_channels),
                long_channels=anyio.Semaphore(self._max_long_channels),
            )
            self._hosts[alias] = host
            return host

    async def _connect(self, alias: str) -> asyncssh.SSHClientConnection:
        options: dict[str, Any] = {
            "config": self.ssh_config,
            "keepalive_interval": self._keepalive_interval,
            "keepalive_count_max": 3,
            "connect_timeout": self._connect_timeout,
        }
        import asyncssh

        if self._known_hosts != ():
            options["known_hosts"] = self._known_hosts
        try:
            with anyio.fail_after(self._connect_timeout + 5):
                connection = await asyncssh.connect(alias, **options)
        except (TimeoutError, asyncio.TimeoutError):  # distinct classes before Python 3.11
            raise ConnectionFailedError(
                f"Cannot connect to {alias}: no answer within {self._connect_timeout:.0f}s. "
                f"Check that `ssh {alias} true` works.",
                host=alias,
            ) from None
        except (OSError, asyncssh.Error) as exc:
            raise ConnectionFailedError(
                f"Cannot connect to {alias}: {exc}. Check that `ssh {alias} true` works "
                "without a password prompt (keys, known_hosts, ~/.ssh/config).",
                host=alias,
            ) from exc
        self.connections_opened += 1
        return connection

    async def aclose(self) -> None:
        self._closed = True
        hosts, self._hosts = list(self._hosts.values()), {}
        with anyio.CancelScope(shield=True):
            for host in hosts:
                host.connection.close()
            for host in hosts:
                with anyio.move_on_after(5):
                    await host.connection.wait_closed()

    async def __aenter__(self) -> ConnectionPool:  # noqa: PYI034
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
