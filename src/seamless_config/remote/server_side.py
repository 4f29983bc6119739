"""The starter: the launching side of the launcher protocol on one host (launch, wait for start, conda).

It sits on the host's state store (``state_store.StateStore``: list, read,
remove, logs, identity-checked stop), which the service commands use alone.
State lives in ``<base>/server/<key>.json`` (written by ``rhl-launch-service``
and then by the service itself) with the log next to it. ``LocalServerSide``
reads those files in-process and runs the helpers as subprocesses;
``SSHServerSide`` runs the ``rhl-*`` helpers (and two tiny watcher/lock
programs) over the pooled SSH connection.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import os
import shlex
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
import logging

import anyio
import anyio.to_thread

from ..errors import ServiceError
from .file_lock import file_lock
from .health import HealthChecker
from .local_launch import LaunchRequest, launch_locally, spawn_service, write_state_or_stop
from .host_scripts import LOCK_SCRIPT, WATCH_SCRIPT
from .hosts import CommandResult, Host, LocalHost, SSHHost, local_env
from .launch_config import CONFIG_DIR_ENV, DEFAULT_SERVER_DIR, helper_base_directory
from .processes import command_matches, pid_alive, settled_process_info, signal_guarded
from .state_store import StateStore

logger = logging.getLogger("seamless_config.remote.server_side")

STATE_POLL_INTERVAL = 0.02
REMOTE_STATE_POLL_INTERVAL = 0.03
COMMAND_TIMEOUT = 30.0
FAILED_EXIT_GRACE = 2.0

WaitEvent = Literal["state", "dead", "timeout"]


@dataclass(frozen=True)
class WaitOutcome:
    """How waiting for a "starting" service ended."""

    event: WaitEvent  # "state": status left "starting" (or file vanished)
    data: dict[str, Any] | None

    @property
    def status(self) -> str | None:
        if self.data is None:
            return None
        status = self.data.get("status")
        return status if isinstance(status, str) else None


LateParameters = Callable[[], Awaitable[dict[str, Any]]]


def _terminate(pid: int, argv: Sequence[str]) -> None:
    """SIGTERM our own just-spawned service, if the PID still runs it."""
    info = settled_process_info(pid)  # it may still be in exec
    if info is not None and command_matches(shlex.join(argv), info.argv):
        signal_guarded(info, signal.SIGTERM)


class ServerSide(ABC):
    """Launcher state and helpers on one host."""

    host: Host

    def __init__(self, health: HealthChecker) -> None:
        self.health = health
        self._store: StateStore | None = None

    @property
    def label(self) -> str:
        return self.host.label

    @property
    def store(self) -> StateStore:
        """The host's state store (what the service commands use)."""
        if self._store is None:
            self._store = StateStore(self.host)
        return self._store

    # -- primitives --------------------------------------------------------

    @abstractmethod
    def lock(
        self, key: str, *, timeout: float
    ) -> AbstractAsyncContextManager[str | None]:
        """Exclusive per-key lock on the host; yields the host's server dir if known."""

    @abstractmethod
    async def read_state(self, key: str) -> dict[str, Any] | None:
        """The state JSON of ``key``, or None."""

    @abstractmethod
    async def wait_for_start(
        self, key: str, pid: int | None, *, within: float
    ) -> WaitOutcome:
        """Wait while the state says "starting" and ``pid`` lives.

        ``pid=None``: the PID recorded in the state file (right after our launch).
        """

    @abstractmethod
    async def pid_alive(self, pid: int) -> bool: ...

    @abstractmethod
    async def http_check(self, url: str) -> str | None:
        """A GET from the host's point of view; None if 2xx, else the reason."""

    @abstractmethod
    async def remove_state(self, key: str) -> None: ...

    @abstractmethod
    async def log_tail(self, key: str, lines: int) -> str | None: ...

    @abstractmethod
    def default_log_path(self, key: str) -> str: ...

    @abstractmethod
    def command_server_dir(self) -> str:
        """The server directory to put in the service's ``--status-file``."""

    # -- helper-based operations shared by both sides ------------------------

    async def helper(
        self, argv: Sequence[str], *, timeout: float = COMMAND_TIMEOUT
    ) -> CommandResult:
        result = await self.host.run(argv, timeout=timeout)
        if result.not_found:
            raise ServiceError(
                f"{self.label}: `{argv[0]}` is not installed. Install remote-http-launcher "
                f"(pip install remote-http-launcher) in the environment that {self.label} "
                "uses for non-interactive commands.",
                host=self.label,
            )
        return result

    async def poll_for_start(
        self, key: str, pid: int | None, *, within: float, interval: float
    ) -> WaitOutcome:
        """Poll the state file until the service with *pid* (None: whichever starts) leaves "starting"."""
        data: dict[str, Any] | None = None
        with anyio.move_on_after(within):
            while True:
                data = await self.read_state(key)
                if pid is None and data is not None and isinstance(data.get("pid"), int):
                    pid = data["pid"]
                if pid is None or data is None or data.get("status") != "starting" or data.get("pid") != pid:
                    if pid is not None and data is not None and data.get("status") == "failed":
                        # It prints its traceback while exiting: let it finish (log tail).
                        with anyio.move_on_after(FAILED_EXIT_GRACE):
                            while await self.pid_alive(pid):
                                await anyio.sleep(interval)
                    return WaitOutcome("state", data)
                if not await self.pid_alive(pid):
                    data = await self.read_state(key)
                    if data is not None and data.get("status") == "starting":
                        return WaitOutcome("dead", data)
                    return WaitOutcome("state", data)
                await anyio.sleep(interval)
        return WaitOutcome("timeout", await self.read_state(key))

    async def launch_with_late_parameters(
        self, request: LaunchRequest, late: LateParameters, *, service: str
    ) -> None:
        """Launch once *late* has supplied the ``file_parameters`` (see LocalServerSide)."""
        await self.launch(dataclasses.replace(request, parameters=await late()), service=service)

    async def launch(self, request: LaunchRequest, *, service: str) -> None:
        """Run ``rhl-launch-service`` for *request* on the host (the argv is made here, where it runs)."""
        result = await self.helper(request.helper_argv())
        if not result.ok:
            raise ServiceError(
                f"{service} on {self.label}: rhl-launch-service refused to launch "
                f"`{shlex.join(request.service_argv)}`: "
                f"{result.stderr.strip() or result.stdout.strip()}",
                service=service,
                host=self.label,
            )

    async def stop(self, key: str) -> None:
        """Stop the service of ``key`` (SIGINT, SIGTERM, SIGKILL), only if its PID is still that service."""
        for outcome in await self.store.stop([key]):
            if outcome.get("outcome") == "pid reused":
                logger.warning("%s: %s: %s; left alone", self.label, key, outcome.get("detail"))

    async def verify_port(self, host: str, port: int) -> bool:
        result = await self.helper(["rhl-verify-port", host, str(port)])
        return result.ok

    async def conda_info(self) -> dict[str, Any] | None:
        result = await self.helper(["rhl-conda-info"])
        if not result.ok:
            return None
        try:
            data = json.loads(result.stdout.strip())
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    async def ensure_conda_env(self, env: str, *, service: str) -> None:
        """Check that conda and ``env`` exist on the host, refreshing the cache once."""
        info = await self.conda_info()
        refreshed = False
        if info is None:
            await self.helper(["rhl-cache-conda"], timeout=120)
            refreshed = True
            info = await self.conda_info()
        if info is None or not info.get("conda_base"):
            raise ServiceError(
                f"{service}: conda environment {env!r} was requested but conda is not "
                f"available on {self.label}. Install conda there or remove `conda:`.",
                service=service,
                host=self.label,
            )

        def listed(data: dict[str, Any]) -> bool:
            envs = data.get("envs", [])
            return isinstance(envs, list) and any(
                isinstance(p, str) and p.rstrip("/").endswith("/" + env) for p in envs
            )

        if listed(info):
            return
        if not refreshed:
            await self.helper(["rhl-cache-conda"], timeout=120)
            info = await self.conda_info()
            if info is not None and listed(info):
                return
        raise ServiceError(
            f"{service}: conda environment {env!r} does not exist on {self.label}. "
            f"Create it there (conda create -n {env} ...) or fix `conda:`.",
            service=service,
            host=self.label,
        )


class LocalServerSide(ServerSide):
    """This machine: files read in-process, helpers run as subprocesses."""

    def __init__(self, host: LocalHost, health: HealthChecker) -> None:
        super().__init__(health)
        self.host = host

    @property
    def base(self) -> Path:
        return helper_base_directory()

    @property
    def server_dir(self) -> Path:
        return self.base / "server"

    def command_server_dir(self) -> str:
        """The server dir as written into the command (the reference's spelling if default)."""
        if os.environ.get(CONFIG_DIR_ENV):
            return str(self.server_dir)
        return DEFAULT_SERVER_DIR

    async def launch_with_late_parameters(
        self, request: LaunchRequest, late: LateParameters, *, service: str
    ) -> None:
        """Start the service now, give it its parameters when *late* has them.

        Services such as the jobserver import for a second before they read
        their state file (they wait for it to appear): starting the process
        first and writing the state file once the storage services are up
        overlaps that second with the storage start-up. If *late* fails, the
        waiting process is stopped.
        """
        if request.conda_env:
            await self.launch(dataclasses.replace(request, parameters=await late()), service=service)
            return
        try:
            spawned = spawn_service(request, self.server_dir, local_env())
        except OSError as exc:
            raise ServiceError(
                f"{service} on {self.label}: cannot start `{shlex.join(request.service_argv)}`: {exc}",
                service=service, host=self.label, reason=f"cannot start {request.service_argv[0]}: {exc}",
            ) from None
        try:
            parameters = await late()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_terminate, spawned.pid, spawned.argv)  # waits while it execs
            raise
        if not pid_alive(spawned.pid):  # it gave up waiting: start it the usual way
            launch_locally(dataclasses.replace(request, parameters=parameters), self.server_dir, local_env())
            return
        try:
            write_state_or_stop(dataclasses.replace(request, parameters=parameters), self.server_dir, spawned)
        except OSError as exc:
            raise ServiceError(
                f"{service} on {self.label}: cannot record the state of `{shlex.join(request.service_argv)}`: {exc}",
                service=service, host=self.label, reason=f"cannot record {request.service_argv[0]}'s state: {exc}",
            ) from None

    async def launch(self, request: LaunchRequest, *, service: str) -> None:
        """Like the helper, but in-process unless a conda environment must be activated."""
        if request.conda_env:
            await super().launch(request, service=service)
            return
        try:
            launch_locally(request, self.server_dir, local_env())
        except OSError as exc:
            raise ServiceError(
                f"{service} on {self.label}: cannot start `{shlex.join(request.service_argv)}`: {exc}",
                service=service, host=self.label, reason=f"cannot start {request.service_argv[0]}: {exc}",
            ) from None

    @asynccontextmanager
    async def _lock(self, key: str, timeout: float) -> AsyncIterator[str | None]:
        async with file_lock(self.base / "locks" / f"{key}.lock", timeout=timeout):
            yield self.command_server_dir()

    def lock(
        self, key: str, *, timeout: float
    ) -> AbstractAsyncContextManager[str | None]:
        return self._lock(key, timeout)

    def _read(self, key: str) -> dict[str, Any] | None:
        try:
            data = json.loads(
                (self.server_dir / f"{key}.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    async def read_state(self, key: str) -> dict[str, Any] | None:
        return self._read(key)

    async def wait_for_start(
        self, key: str, pid: int | None, *, within: float
    ) -> WaitOutcome:
        return await self.poll_for_start(key, pid, within=within, interval=STATE_POLL_INTERVAL)

    async def pid_alive(self, pid: int) -> bool:
        return pid_alive(pid)

    async def http_check(self, url: str) -> str | None:
        return await self.health.check(url)

    async def verify_port(self, host: str, port: int) -> bool:
        try:
            with anyio.fail_after(2):
                stream = await anyio.connect_tcp(host, port)
        except (OSError, TimeoutError):
            return False
        await stream.aclose()
        return True

    async def remove_state(self, key: str) -> None:
        await self.store.remove([key], force=True)

    def default_log_path(self, key: str) -> str:
        return str(self.server_dir / f"{key}.log")

    async def log_tail(self, key: str, lines: int) -> str | None:
        try:
            data = Path(self.default_log_path(key)).read_bytes()
        except OSError:
            return None
        text = b"".join(data.splitlines(keepends=True)[-lines:]).decode(
            errors="replace"
        )
        return text or None


class SSHServerSide(ServerSide):
    """An SSH frontend: everything through the ``rhl-*`` helpers on the shared connection."""

    def __init__(self, host: SSHHost, health: HealthChecker) -> None:
        super().__init__(health)
        self.host = host
        self._server_dir: str | None = None

    @asynccontextmanager
    async def _lock(self, key: str, timeout: float) -> AsyncIterator[str | None]:
        argv = ["python3", "-c", LOCK_SCRIPT, key, f"{timeout:.3f}"]
        async with self.host.stream(argv) as stream:
            with anyio.fail_after(timeout + 10):
                line = await stream.readline()
            if line == "timeout":
                raise TimeoutError(
                    f"{self.label}: lock for {key} not acquired in {timeout:.0f}s"
                )
            if line.startswith("locked "):
                self._server_dir = line[len("locked ") :]
            # Otherwise python3 is unavailable (e.g. a guarded key): go on unlocked.
            try:
                yield self._server_dir
            finally:
                with anyio.CancelScope(shield=True):
                    await stream.close_input()

    def lock(
        self, key: str, *, timeout: float
    ) -> AbstractAsyncContextManager[str | None]:
        return self._lock(key, timeout)

    async def read_state(self, key: str) -> dict[str, Any] | None:
        result = await self.helper(["rhl-inspect", key])
        if not result.ok:
            return None
        try:
            data = json.loads(result.stdout)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    async def wait_for_start(
        self, key: str, pid: int | None, *, within: float
    ) -> WaitOutcome:
        argv = [
            "python3",
            "-c",
            WATCH_SCRIPT,
            key,
            "-" if pid is None else str(pid),
            f"{within:.3f}",
            str(REMOTE_STATE_POLL_INTERVAL),
        ]
        with anyio.move_on_after(within + 10):
            async with self.host.stream(argv) as stream:
                line = await stream.readline()
            try:
                report = json.loads(line)
            except ValueError:
                report = None
            if isinstance(report, dict) and report.get("event") in (
                "state",
                "dead",
                "timeout",
            ):
                data = report.get("data")
                return WaitOutcome(
                    report["event"], data if isinstance(data, dict) else None
                )
            # No python3 watcher on this host: poll the helpers instead.
            return await self.poll_for_start(key, pid, within=within, interval=REMOTE_STATE_POLL_INTERVAL)
        return WaitOutcome("timeout", None)

    async def pid_alive(self, pid: int) -> bool:
        result = await self.helper(["rhl-pid-alive", str(pid)])
        return result.ok

    async def http_check(self, url: str) -> str | None:
        result = await self.helper(["rhl-handshake", url])
        if result.ok:
            return None
        return result.stderr.strip() or f"rhl-handshake exit code {result.returncode}"

    async def remove_state(self, key: str) -> None:
        await self.store.remove([key], force=True)

    def default_log_path(self, key: str) -> str:
        server_dir = self._server_dir or DEFAULT_SERVER_DIR
        return f"{server_dir}/{key}.log"

    async def log_tail(self, key: str, lines: int) -> str | None:
        result = await self.helper(["rhl-logs", key, "--tail", str(lines)])
        if not result.ok:
            return None
        return result.stdout or None

    def command_server_dir(self) -> str:
        return self._server_dir or DEFAULT_SERVER_DIR

    def remember_server_dir(self, server_dir: str) -> None:
        """The server dir as a host script reported it (the lock script's side effect, explicitly)."""
        self._server_dir = server_dir
