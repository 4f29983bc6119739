"""``ensure_service``: the remote-http-launcher protocol, asynchronously.

Same files, same helpers and same client file as ``remote_http_launcher.run()``
(0.4.5), so each side reuses what the other launched. Differences: one SSH
connection per host instead of one ``ssh`` subprocess per step, state watched
every few tens of ms instead of every 1-2 s, a per-key lock so concurrent
launchers start a service once, and tunnels that ignore the user's
ControlMaster and are cleaned up when the service behind them died.
With the OpenSSH transport the tunnels are forwards on the frontend's one
master connection (the user's ControlMaster if they have one).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import anyio

from ..errors import ConnectionFailedError, ServiceError
from .client_file import ClientFile
from .health import HealthChecker, probe
from .hosts import CommandTimeout
from .host_scripts import ENSURE_SCRIPT
from .launch_config import DEFAULT_SERVER_DIR, LaunchConfig
from .local_launch import LaunchRequest
from .pool import ConnectionPool
from .server_side import LateParameters, LocalServerSide, ServerSide, SSHServerSide, WaitOutcome
from .tunnel import TunnelError, close_tunnels, open_tunnel

PhaseCallback = Callable[[str, str], None]
# on_address(connection): the connection a launched or found service will be recorded with, as soon
# as it is known (tunnel open), before the handshake through it: what a job backend waits for.
AddressCallback = Callable[[dict[str, Any]], None]

LOG_TAIL_LINES = 20
CLIENT_CHECK_TIMEOUT = 5.0  # one handshake against a recorded connection
REUSE_CHECK_WITHIN = 10.0  # a "running" service must answer within this
READY_WITHIN = 30.0  # after "running" is written, the port must answer within this
LOCK_TIMEOUT_CAP = 120.0
ONE_CALL_ENV = "SEAMLESS_SSH_ONE_CALL"  # "0": the step-by-step protocol (lock, inspect, launch, watch)
REMOTE_POLL_INTERVAL = 0.03


def _port_parameters(data: Mapping[str, Any]) -> dict[str, int]:
    """Top-level ``*_port`` / ``*-port`` integers of a state file (extra endpoints)."""
    result: dict[str, int] = {}
    for name, value in data.items():
        if not isinstance(name, str) or not name.endswith(("_port", "-port")):
            continue
        if isinstance(value, bool):
            continue
        try:
            port = int(value)
        except (TypeError, ValueError):
            continue
        if 1 <= port <= 65535:
            result[name] = port
    return result


def _tunnel_ports(record: Mapping[str, Any]) -> list[int]:
    """The local ports of a recorded (tunnelled) connection."""
    if "tunneled-port" not in record:
        return []
    ports = [record.get("port")]
    ports += [
        record.get(name[len("tunneled-") :])
        for name in record
        if name.startswith("tunneled-")
    ]
    return sorted({p for p in ports if isinstance(p, int) and not isinstance(p, bool)})


class _Run:
    """One ensure_service call."""

    def __init__(
        self,
        cfg: LaunchConfig,
        pool: ConnectionPool,
        health: HealthChecker,
        on_phase: PhaseCallback | None,
        deadline: float,
        late_parameters: LateParameters | None = None,
        on_address: AddressCallback | None = None,
    ) -> None:
        self.late_parameters = late_parameters
        self.on_address = on_address
        self.cfg = cfg
        self.pool = pool
        self.health = health
        self._on_phase = on_phase
        self.deadline = deadline
        self.client = ClientFile.for_key(cfg.key)
        self.server: ServerSide | None = None
        self.launched = False  # this run started the service's process
        self.waiting_on_other = False  # this run is waiting for another process's launch to finish

    # -- small utilities -------------------------------------------------

    def phase(self, name: str, result: str) -> None:
        if self._on_phase is not None:
            self._on_phase(name, result)

    def remaining(self, cap: float | None = None) -> float:
        left = max(0.0, self.deadline - anyio.current_time())
        return min(left, cap) if cap is not None else left

    def error(
        self, reason: str, *, log_path: str | None = None, log_tail: str | None = None
    ) -> ServiceError:
        message = f"{self.cfg.service_name} on {self.cfg.host_label}: {reason}"
        if log_path:
            message += f"\n  log: {log_path}"
        if log_tail:
            tail = "\n".join(
                "    " + line for line in log_tail.rstrip("\n").splitlines()
            )
            message += f"\n  last log lines:\n{tail}"
        return ServiceError(
            message,
            service=self.cfg.service_name,
            host=self.cfg.host_label,
            log_path=log_path,
            log_tail=log_tail,
            reason=reason,
        )

    async def failure(
        self, reason: str, data: Mapping[str, Any] | None
    ) -> ServiceError:
        """A ServiceError carrying the service log's path and last lines."""
        assert self.server is not None
        log_path = data.get("log") if data is not None else None
        if not isinstance(log_path, str):
            log_path = self.server.default_log_path(self.cfg.key)
        tail: str | None = None
        try:
            with anyio.move_on_after(max(self.remaining(10.0), 3.0)):
                tail = await self.server.log_tail(self.cfg.key, LOG_TAIL_LINES)
        except (ServiceError, CommandTimeout, OSError):
            tail = None
        return self.error(reason, log_path=log_path, log_tail=tail)

    def handshake_url(self, host: str, data: Mapping[str, Any]) -> str:
        assert self.cfg.handshake is not None
        return self.cfg.handshake.url(host, self.cfg.handshake.port_of(data))

    # -- the protocol ----------------------------------------------------------

    async def execute(self) -> dict[str, Any]:
        with anyio.fail_after(self.remaining()):
            async with self.client.lock(timeout=self.remaining(LOCK_TIMEOUT_CAP)):
                reused = await self.check_client_file()
                if reused is not None:
                    self.phase("done", "reused-local")
                    return reused
                self.server = await self.connect()
                data, outcome = await self.ensure_remote()
                payload = await self.write_client_file(data)
                self.phase("done", outcome)
                return payload

    async def check_client_file(self) -> dict[str, Any] | None:
        record = self.client.read()
        if record is None:
            self.phase("local_check", "missing")
            return None
        if record.get("status") == "stale":
            self.client.delete()
            self.phase("local_check", "stale")
            return None
        if self.cfg.handshake is None:
            self.phase("local_check", "reused")
            return record
        host = record.get("hostname")
        try:
            url = self.handshake_url(host if isinstance(host, str) else "", record)
        except (KeyError, ValueError, TypeError):
            url = None
        problem = (
            await probe(url, timeout=self.remaining(5.0))
            if url and isinstance(host, str)
            else "malformed"
        )
        if problem is None:
            self.phase("local_check", "reused")
            return record
        # Stale record: e.g. a live tunnel in front of a dead service. Close the
        # tunnel processes, forget the record, and look at the server.
        ports = _tunnel_ports(record)
        if ports:
            await close_tunnels(ports)
        self.client.delete()
        self.phase("local_check", "stale")
        return None

    async def connect(self) -> ServerSide:
        if self.cfg.is_local:
            server: ServerSide = LocalServerSide(self.pool.local, self.health)
        else:
            assert self.cfg.ssh_hostname is not None
            try:
                with anyio.fail_after(self.remaining()):
                    host = await self.pool.host(self.cfg.ssh_hostname)
            except ConnectionFailedError as exc:
                exc.service = self.cfg.service_name
                raise
            server = SSHServerSide(host, self.health)
        self.phase("connect", server.label)
        return server

    async def ensure_remote(self) -> tuple[dict[str, Any], str]:
        """Find or launch the service; returns its running state and the outcome."""
        assert self.server is not None
        server, key = self.server, self.cfg.key
        if isinstance(server, SSHServerSide) and not self.cfg.conda_env and os.environ.get(ONE_CALL_ENV) != "0":
            found = await self.ensure_remote_one_call(server)
            if found is not None:
                return found
        launched = False
        for _attempt in range(3):
            async with server.lock(
                key, timeout=self.remaining(LOCK_TIMEOUT_CAP)
            ) as server_dir:
                data = await server.read_state(key)
                if data is not None and data.get("dry_run"):
                    await server.remove_state(key)
                    data = None
                status = data.get("status") if data is not None else None
                self.phase(
                    "remote_check", f"found:{status}" if data is not None else "missing"
                )
                if data is not None and status == "running":
                    if await self.validate_running(data):
                        return data, "reused-remote"
                    data = None
                elif data is not None and (
                    status != "starting" or not isinstance(data.get("pid"), int)
                ):
                    await server.remove_state(key)
                    self.phase("stale_cleanup", "remove")
                    data = None
                if data is None:
                    if launched:
                        raise self.error("the service vanished right after launch")
                    await self.launch(server_dir)
                    launched = True
                    self.launched = True
            # "starting": wait outside the lock, so others can wait too.
            self.phase("wait_for_start", "waiting")
            pid = (
                data.get("pid") if data is not None else None
            )  # None: ours, just launched
            self.waiting_on_other = not launched
            outcome = await server.wait_for_start(
                key, pid if isinstance(pid, int) else None, within=self.remaining()
            )
            self.waiting_on_other = False
            if outcome.status == "running" and outcome.data is not None:
                if await self.validate_running(outcome.data, after_start=True):
                    return outcome.data, "launched" if launched else "reused-remote"
                raise await self.failure(
                    "the service says it is running but does not answer", outcome.data
                )
            reason = self.start_failure_reason(outcome)
            if launched:
                exc = await self.failure(reason, outcome.data or data)
                with anyio.CancelScope(shield=True):
                    await self.stop_failed_launch(outcome)
                    await server.remove_state(key)
                raise exc
            # Someone else's launch failed: clean up and launch it ourselves.
            if outcome.event == "timeout":
                # It has been "starting" for at least our whole budget: hung (seen with
                # seamless-jobserver 0.3.0 when its port is taken: it logs the error and never
                # leaves "starting"). Stop it, so the next run launches afresh instead of
                # waiting for it again and again.
                exc = await self.failure(
                    f"{reason} (started by another process; stopped it: run again)", outcome.data or data
                )
                with anyio.CancelScope(shield=True):
                    await self.stop_failed_launch(outcome)
                    await server.remove_state(key)
                raise exc
            await server.remove_state(key)
            self.phase("stale_cleanup", "remove")
        raise self.error("the service state kept changing; giving up")

    async def ensure_remote_one_call(self, server: SSHServerSide) -> tuple[dict[str, Any], str] | None:
        """``ensure_remote`` as one remote call per attempt (host_scripts.ENSURE_SCRIPT).

        None if the host cannot run it (no python3): the caller takes the step-by-step path.
        """
        cfg, key = self.cfg, self.cfg.key
        request = cfg.launch_request(DEFAULT_SERVER_DIR)
        if request.conda_env:
            return None
        for _attempt in range(3):
            spec: dict[str, Any] = {
                "key": key,
                "lock_timeout": round(self.remaining(LOCK_TIMEOUT_CAP), 3),
                "within": round(self.remaining(), 3),
                "interval": REMOTE_POLL_INTERVAL,
                "late": self.late_parameters is not None,
                "request": {
                    "workdir": request.workdir,
                    "service_argv": list(request.service_argv),
                    "network_interface": request.network_interface,
                    "parameters": request.parameters,
                    "meta": request.meta,
                },
            }
            self.phase("remote_check", "one-call")
            message: dict[str, Any] | None
            async with server.host.stream(["python3", "-c", ENSURE_SCRIPT, json.dumps(spec)]) as stream:
                with anyio.fail_after(self.remaining() + 10):
                    message = _message(await stream.readline())
                    if message is None:
                        return None  # no python3 there: the helpers alone
                    if message.get("event") == "spawned":
                        # The job backend imports while the storage services come up.
                        self.phase("launch", "started")
                        assert self.late_parameters is not None
                        parameters = await self.late_parameters()
                        await stream.send(json.dumps(parameters) + "\n")
                        message = _message(await stream.readline())
                        if message is None:
                            raise self.error("the launch script on the host ended unexpectedly")
            server_dir = message.get("server_dir")
            if isinstance(server_dir, str):
                server.remember_server_dir(server_dir)
            event = message.get("event")
            data = message.get("data") if isinstance(message.get("data"), dict) else None
            launched = bool(message.get("launched"))
            self.launched = self.launched or launched
            if event == "found" and data is not None:
                self.phase("remote_check", "found:running")
                if await self.validate_running(data):
                    return data, "reused-remote"
                continue
            if event == "lock-timeout":
                raise self.error(f"the launch lock for {key} was not acquired in time")
            if event == "launch-failed":
                raise self.error(f"cannot start the service: {message.get('error')}")
            if event == "abandoned":
                raise self.error("the launch was abandoned (its parameters never came)")
            if launched:
                self.phase("launch", "started")
            self.phase("wait_for_start", "waiting")
            outcome = WaitOutcome(event if event in ("state", "dead", "timeout") else "state", data)
            if outcome.status == "running" and outcome.data is not None:
                if await self.validate_running(outcome.data, after_start=True):
                    return outcome.data, "launched" if launched else "reused-remote"
            reason = self.start_failure_reason(outcome)
            if launched:
                exc = await self.failure(reason, outcome.data)
                with anyio.CancelScope(shield=True):
                    await self.stop_failed_launch(outcome)
                    await server.remove_state(key)
                raise exc
            if outcome.event == "timeout":
                raise await self.failure(reason, outcome.data)
            await server.remove_state(key)
            self.phase("stale_cleanup", "remove")
        raise self.error("the service state kept changing; giving up")

    async def stop_failed_launch(self, outcome: WaitOutcome) -> None:
        """Our launch failed (status "failed", a timeout) but its process still runs: stop it.

        Once its state file is removed nothing would find it again; it would
        hold its port and the next launch would start a second one.
        """
        assert self.server is not None
        pid = outcome.data.get("pid") if outcome.data is not None else None
        if outcome.event == "dead" or not isinstance(pid, int) or isinstance(pid, bool):
            return
        with anyio.move_on_after(15):
            if await self.server.pid_alive(pid):
                self.phase("stale_cleanup", "stop-failed-launch")
                await self.server.stop(self.cfg.key)

    async def stop_own_launch(self) -> None:
        """After a timeout: stop the process this run launched, and forget its state (bounded, shielded)."""
        assert self.server is not None
        with anyio.CancelScope(shield=True), anyio.move_on_after(15):
            data = await self.server.read_state(self.cfg.key)
            pid = data.get("pid") if data is not None else None
            if isinstance(pid, int) and not isinstance(pid, bool) and await self.server.pid_alive(pid):
                self.phase("stale_cleanup", "stop-own-launch")
                await self.server.stop(self.cfg.key)
                if await self.server.pid_alive(pid):
                    return  # not stopped (refused): keep it recorded, never leave it running unrecorded
            await self.server.remove_state(self.cfg.key)

    @staticmethod
    def start_failure_reason(outcome: WaitOutcome) -> str:
        if outcome.event == "timeout":
            return "the service did not finish starting in time"
        if outcome.event == "dead":
            return "the service process exited before it was ready"
        if outcome.data is None:
            return "the service's state file disappeared while it was starting"
        return f"the service reported status {outcome.status!r} while starting"

    async def validate_running(
        self, data: dict[str, Any], *, after_start: bool = False
    ) -> bool:
        """Check a "running" state: PID alive and port / healthcheck answering.

        Returns False after stopping and forgetting a dead or unresponsive service.
        """
        assert self.server is not None
        server, cfg = self.server, self.cfg
        port = data.get("port")
        pid = data.get("pid")
        if (
            not isinstance(port, int)
            or isinstance(port, bool)
            or not isinstance(pid, int)
        ):
            await server.remove_state(cfg.key)
            self.phase("remote_validate", "malformed")
            return False
        target = data.get("network_interface", cfg.network_interface)
        if not isinstance(target, str):
            target = cfg.network_interface
        within = self.remaining(READY_WITHIN if after_start else REUSE_CHECK_WITHIN)
        alive = True
        problem: str | None = None

        async def check_pid() -> None:
            nonlocal alive
            alive = await server.pid_alive(pid)

        async def check_port() -> None:
            nonlocal problem
            if cfg.handshake is None:
                problem = (
                    None if await server.verify_port(target, port) else "port closed"
                )
                return
            url = self.handshake_url(target, data)
            problem = f"no answer from {url}"
            with anyio.move_on_after(within):
                while True:
                    problem = await server.http_check(url)
                    if problem is None or not alive:
                        return
                    if not after_start and "refused" in problem.lower():
                        return  # an established service does not refuse connections
                    await anyio.sleep(0.03)

        if after_start:
            # It just reported "running" and we handshake it from here next (through
            # the tunnel, if any, which retries and reports the log on failure): a
            # host-side check first would only add two round trips.
            self.phase("remote_validate", "ok")
            return True
        async with anyio.create_task_group() as tg:
            tg.start_soon(check_pid)
            tg.start_soon(check_port)
        if alive and problem is None:
            self.phase("remote_validate", "ok")
            return True
        self.phase("remote_validate", "pid-dead" if not alive else "handshake-failed")
        if after_start:
            return False
        if alive:
            await server.stop(cfg.key)
        await server.remove_state(cfg.key)
        self.phase("stale_cleanup", "kill+remove" if alive else "remove")
        return False

    async def launch(self, server_dir: str | None) -> None:
        assert self.server is not None
        cfg = self.cfg
        if cfg.conda_env:
            await self.server.ensure_conda_env(cfg.conda_env, service=cfg.service_name)
            self.phase("conda_setup", "ok")
        request = cfg.launch_request(server_dir or self.server.command_server_dir())
        self.phase("launch", "started")
        if self.late_parameters is not None:
            await self.server.launch_with_late_parameters(request, self.late_parameters, service=cfg.service_name)
        else:
            await self.server.launch(request, service=cfg.service_name)

    async def write_client_file(self, data: dict[str, Any]) -> dict[str, Any]:
        """Record how to reach the service from here (tunnelling if asked) and handshake it."""
        cfg = self.cfg
        port = int(data["port"])
        payload: dict[str, Any]
        if cfg.tunnel:
            assert cfg.hostname is not None and cfg.ssh_hostname is not None
            local_ports: list[int] = []
            try:
                tunnel = await self.open_tunnel(port)
                local_ports.append(tunnel)
                self.phase(
                    "tunnel_setup", f"localhost:{tunnel} -> {cfg.hostname}:{port}"
                )
                payload = {
                    "hostname": "localhost",
                    "port": tunnel,
                    "tunneled-host": cfg.ssh_hostname,
                    "tunneled-port": port,
                    "tunneled-network-interface": data.get(
                        "network_interface", cfg.network_interface
                    ),
                }
                for name, remote_port in _port_parameters(data).items():
                    extra = await self.open_tunnel(remote_port)
                    local_ports.append(extra)
                    payload[name] = extra
                    payload[f"tunneled-{name}"] = remote_port
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await close_tunnels(local_ports)
                raise
        else:
            target = cfg.hostname or data.get(
                "network_interface", cfg.network_interface
            )
            payload = {"hostname": target, "port": port}
            payload.update(_port_parameters(data))
            if cfg.hostname and cfg.ssh_hostname and cfg.ssh_hostname != cfg.hostname:
                payload["ssh_hostname"] = cfg.ssh_hostname
        parameters = data.get("parameters")
        if isinstance(parameters, dict):
            payload["parameters"] = dict(parameters)
        if cfg.meta is not None:
            payload["meta"] = dict(cfg.meta)
        if self.on_address is not None:
            self.on_address(dict(payload))
        if cfg.handshake is not None:
            url = self.handshake_url(payload["hostname"], payload)
            problem = await self.health.wait_ok(
                url, within=self.remaining(READY_WITHIN)
            )
            if problem is not None:
                if cfg.tunnel:
                    await close_tunnels(_tunnel_ports(payload))
                error = await self.failure(f"health check failed: {problem}", data)
                if self.launched:  # ours, "running" but not answering: stop it rather than leave it
                    await self.stop_own_launch()
                raise error
        self.client.write(payload)
        self.phase("local_validate", "ok")
        return payload

    async def open_tunnel(self, remote_port: int) -> int:
        cfg = self.cfg
        assert cfg.hostname is not None and cfg.ssh_hostname is not None
        try:
            host = await self.pool.host(cfg.ssh_hostname)
            local_port = await host.forward(cfg.hostname, remote_port, within=self.remaining(30.0))
            if local_port is not None:  # on the frontend's one (OpenSSH master) connection
                return local_port
            tunnel = await open_tunnel(
                cfg.ssh_hostname,
                cfg.hostname,
                remote_port,
                within=self.remaining(30.0),
                ssh_command=self.pool.ssh_command,
                ssh_args=self.pool.ssh_args(),
            )
        except TunnelError as exc:
            raise self.error(str(exc)) from None
        return tunnel.local_port


def _message(line: str) -> dict[str, Any] | None:
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) and "event" in message else None


async def check_conda(conf: Mapping[str, Any], *, pool: ConnectionPool, timeout: float) -> None:
    """Raise ``ServiceError`` if *conf* names a conda environment its host lacks (checked before any launch)."""
    cfg = LaunchConfig.from_mapping(conf)
    if not cfg.conda_env:
        return
    async with HealthChecker() as health:
        run = _Run(cfg, pool, health, None, anyio.current_time() + timeout)
        with anyio.fail_after(timeout):
            server = await run.connect()
            await server.ensure_conda_env(cfg.conda_env, service=cfg.service_name)


async def ensure_service(
    conf: Mapping[str, Any],
    *,
    pool: ConnectionPool,
    on_phase: PhaseCallback | None = None,
    timeout: float,
    late_parameters: LateParameters | None = None,
    on_address: AddressCallback | None = None,
) -> dict[str, Any]:
    """Make sure the service of a launch dict runs and is reachable; return its connection.

    Behaves like ``remote_http_launcher.run(conf)``: reuse the client file
    after one handshake, else reuse a running service on the host, else launch
    it with ``rhl-launch-service``; then record ``{"hostname", "port", ...}``
    in the client file (tunnelling through a detached ``ssh -L`` when
    ``tunnel`` is true) and return it.

    ``on_phase(phase, result)`` is called with the reference's phase names
    (``local_check``, ``connect``, ``remote_check``, ``launch``,
    ``wait_for_start``, ``tunnel_setup``, ``local_validate``, ``done``...).
    ``late_parameters``, if given, supplies the ``file_parameters`` only when
    a launch is needed (awaited under the launch lock): a local service is
    started first and handed them when they arrive, so its start-up overlaps
    whatever produces them. A reused service never waits for them.
    ``on_address(connection)``, if given, receives the connection that will be
    recorded as soon as it is known (after the tunnel is open, before the
    handshake), so that whoever needs the address (a job backend's
    parameters) does not wait for the handshake; not called when the client
    record is reused as it is (the returned connection is all there is).

    Raises :class:`~seamless_config.errors.ServiceError` (with the log path and
    last log lines when the service itself failed) or
    :class:`~seamless_config.errors.ConnectionFailedError`.
    """
    cfg = LaunchConfig.from_mapping(conf)
    deadline = anyio.current_time() + timeout
    async with HealthChecker() as health:
        run = _Run(cfg, pool, health, on_phase, deadline, late_parameters, on_address)
        try:
            return await run.execute()
        except CommandTimeout as exc:  # before TimeoutError, of which it is a subclass
            raise run.error(str(exc)) from None
        except TimeoutError:
            if run.server is None:
                raise run.error(
                    f"timed out after {timeout:g}s before reaching the host"
                ) from None
            error = run.error(f"timed out after {timeout:g}s")
            with anyio.move_on_after(10):
                error = await run.failure(f"timed out after {timeout:g}s", None)
            if run.launched:  # ours and not ready in time: stop it rather than leave it half-started
                await run.stop_own_launch()
            elif run.waiting_on_other:  # someone else's, "starting" for our whole budget: hung
                await run.stop_own_launch()
                error = run.error(f"{error.reason} (started by another process; stopped it: run again)",
                                  log_path=error.log_path, log_tail=error.log_tail)
            raise error from None


async def stop_service(conf: Mapping[str, Any], *, pool: ConnectionPool, timeout: float) -> None:
    """Stop the service of a launch dict and forget it: its tunnels, client record and server state.

    For a running service that must be replaced (a jobserver whose storage
    addresses are out of date). Takes the same locks as ``ensure_service``;
    the process is stopped by the host's ``stop`` (the PID of its state file).
    """
    cfg = LaunchConfig.from_mapping(conf)
    deadline = anyio.current_time() + timeout
    async with HealthChecker() as health:
        run = _Run(cfg, pool, health, None, deadline)
        try:
            with anyio.fail_after(run.remaining()):
                async with run.client.lock(timeout=run.remaining(LOCK_TIMEOUT_CAP)):
                    record = run.client.read()
                    if record is not None:
                        ports = _tunnel_ports(record)
                        if ports:
                            await close_tunnels(ports)
                        run.client.delete()
                    server = await run.connect()
                    async with server.lock(cfg.key, timeout=run.remaining(LOCK_TIMEOUT_CAP)):
                        await server.stop(cfg.key)
                        await server.remove_state(cfg.key)
        except CommandTimeout as exc:
            raise run.error(str(exc)) from None
        except TimeoutError:
            raise run.error(f"could not stop it within {timeout:g}s") from None
