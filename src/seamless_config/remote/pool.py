"""One SSH connection per frontend, shared by all callers (and, with OpenSSH, by later processes).

Transports (``transport=`` or ``$SEAMLESS_SSH_TRANSPORT``):

- ``"openssh"`` (the default where an ``ssh`` client is installed): an OpenSSH
  ControlMaster per frontend -- the user's own when ``ssh -G HOST`` shows
  ``ControlMaster``/``ControlPath``, else one of ours -- carrying commands and
  tunnels; it outlives the process (see :mod:`.openssh`).
- ``"asyncssh"``: one asyncssh connection per frontend and process; tunnels
  are detached ``ssh -N -L`` processes.

A failed connection is reported once per host and operation: callers that
asked for the same host while it was being tried (the other services of the
frontend) get the same error instead of trying again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported on first SSH connection (it costs ~0.2 s)
    import asyncssh

import anyio

from ..errors import ConnectionFailedError, SSHError
from .file_lock import file_lock
from .hosts import AsyncSSHHost, LocalHost, SSHHost, passwd_home

logger = logging.getLogger("seamless_config.remote.pool")

# sshd's default MaxSessions is 10: stay below it. Long channels: one per service being
# brought up (the one-call launch script holds its session until the service runs).
DEFAULT_MAX_CHANNELS = 4
DEFAULT_MAX_LONG_CHANNELS = 4
FAILURE_STANDS_FOR = 10.0  # seconds a connection failure is reused for the same host
TRANSPORT_ENV = "SEAMLESS_SSH_TRANSPORT"


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
        transport: str | None = None,
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
        chosen = (transport or os.environ.get(TRANSPORT_ENV) or "auto").lower()
        if chosen == "auto":
            # An explicit known_hosts object is an asyncssh option OpenSSH cannot take.
            chosen = "openssh" if known_hosts == () and shutil.which(ssh_command) else "asyncssh"
        if chosen not in ("openssh", "asyncssh"):
            raise ValueError(f"{TRANSPORT_ENV}={chosen!r}: use 'openssh' or 'asyncssh'")
        self.transport = chosen
        self._failures: dict[str, tuple[float, SSHError]] = {}
        self._started_masters: list[SSHHost] = []
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
        if host is not None and not host.is_closed():
            return host
        lock = self._opening.setdefault(alias, anyio.Lock())
        async with lock:
            host = self._hosts.get(alias)
            if host is not None and not host.is_closed():
                return host
            failed = self._failures.get(alias)
            if failed is not None and time.monotonic() - failed[0] < FAILURE_STANDS_FOR:
                raise failed[1]
            try:
                if self.transport == "openssh":
                    host = await self._open_master(alias)
                else:
                    host = AsyncSSHHost(
                        alias,
                        await self._connect(alias),
                        channels=anyio.Semaphore(self._max_channels),
                        long_channels=anyio.Semaphore(self._max_long_channels),
                    )
            except SSHError as exc:
                self._failures[alias] = (time.monotonic(), exc)
                raise
            self._failures.pop(alias, None)
            self._hosts[alias] = host
            return host

    async def _open_master(self, alias: str) -> SSHHost:
        from . import openssh

        args = self.ssh_args()
        settings = await openssh.effective_settings(self.ssh_command, args, alias)
        if settings.uses_control_master:
            control_path = settings.control_path  # the user's own master (e.g. behind 2FA)
        else:
            control_path = openssh.own_control_path(alias, args)
        lock = openssh.runtime_dir() / (os.path.basename(control_path)[-40:] + ".lock")
        async with file_lock(lock, timeout=self._connect_timeout + 120):
            pid = await openssh.master_pid(self.ssh_command, args, control_path, alias)
            started = pid is None
            if pid is None:
                # A socket without a master (one killed -9, a reboot) would make the new one run
                # unmultiplexed ("ControlSocket already exists").
                if os.path.exists(control_path):
                    logger.info("removing the stale SSH control socket %s", control_path)
                    os.unlink(control_path)
                pid = await openssh.start_master(
                    alias, settings, control_path, ssh_command=self.ssh_command, ssh_args=args,
                    connect_timeout=self._connect_timeout,
                )
                self.connections_opened += 1
        host = openssh.OpenSSHHost(
            alias, settings=settings, control_path=control_path, ssh_command=self.ssh_command,
            ssh_args=args, channels=anyio.Semaphore(self._max_channels),
            long_channels=anyio.Semaphore(self._max_long_channels), master=pid,
        )
        if started:
            self._started_masters.append(host)
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
            raise await self._asyncssh_error(alias, "timed out") from None
        except (OSError, asyncssh.Error) as exc:
            raise await self._asyncssh_error(alias, exc) from exc
        self.connections_opened += 1
        return connection

    async def _asyncssh_error(self, alias: str, exc: BaseException | str) -> SSHError:
        """The same errors as the OpenSSH transport, from what asyncssh raised."""
        import asyncssh

        from . import openssh

        settings = None
        if shutil.which(self.ssh_command):
            try:
                settings = await openssh.effective_settings(self.ssh_command, self.ssh_args(), alias)
            except SSHError:
                settings = None
        text = str(exc)
        if isinstance(exc, asyncssh.HostKeyNotVerifiable):
            where = await _known_hosts_line(settings) if settings is not None else None
            if where is not None:
                return openssh.host_key_changed(alias, settings, where, text)
            return openssh.classify_ssh_stderr(alias, settings, "Host key verification failed. " + text, self._connect_timeout)
        if isinstance(exc, asyncssh.PermissionDenied):
            return openssh.auth_refused(alias, settings, text)
        if exc == "timed out" or isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
            return openssh.unreachable(alias, settings, "no answer (timed out)", self._connect_timeout, None)
        if isinstance(exc, ConnectionRefusedError):
            return openssh.unreachable(alias, settings, "connection refused (no SSH server on that port)",
                                       self._connect_timeout, text)
        if isinstance(exc, OSError):
            return openssh.unreachable(alias, settings, text, self._connect_timeout, text)
        return openssh.classify_ssh_stderr(alias, settings, text, self._connect_timeout)

    async def aclose(self) -> None:
        self._closed = True
        hosts, self._hosts = list(self._hosts.values()), {}
        started, self._started_masters = self._started_masters, []
        with anyio.CancelScope(shield=True):
            for host in hosts:
                if isinstance(host, AsyncSSHHost):
                    host.connection.close()
            for host in hosts:
                if isinstance(host, AsyncSSHHost):
                    with anyio.move_on_after(5):
                        await host.connection.wait_closed()
            for host in started:
                await _exit_master_without_tunnels(host)

    async def __aenter__(self) -> ConnectionPool:  # noqa: PYI034
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def _exit_master_without_tunnels(host: SSHHost) -> None:
    """A master this pool started that carries no tunnel ends with the pool."""
    from . import openssh

    if not isinstance(host, openssh.OpenSSHHost):
        return
    with anyio.move_on_after(openssh.CONTROL_TIMEOUT):
        await openssh.exit_master_if_unused(
            openssh.Forward(0, "", host.alias, host.control_path, host.ssh_command, host.ssh_args, host.master_pid)
        )


async def _known_hosts_line(settings: Any) -> str | None:
    """``file:line`` of the known_hosts entry for the host (``ssh-keygen -F``), if any."""
    from . import openssh

    name = openssh.known_hosts_name(settings)
    for path in settings.known_hosts_files:
        expanded = os.path.expanduser(path)
        if not os.path.isfile(expanded):
            continue
        try:
            with anyio.fail_after(10):
                done = await anyio.run_process(["ssh-keygen", "-F", name, "-f", expanded], check=False)
        except (OSError, TimeoutError):
            return None
        for line in done.stdout.decode(errors="replace").splitlines():
            if line.startswith("# Host") and "found: line" in line:
                return f"{path}:{line.strip().rsplit(' ', 1)[-1]}"
    return None
