"""SSH tunnels that outlive this process: forwards on an OpenSSH master (see
:mod:`.openssh`), or with the asyncssh transport detached ``ssh -N -L`` subprocesses.

A tunnel is recorded only in the client file (``hostname: localhost``,
``port: <local port>``, ``tunneled-*``), exactly like the reference, so that a
later process -- ours or ``remote_http_launcher.run()`` -- reuses it. We never
attach to the user's ControlMaster: a multiplexed tunnel would die with the
master, and a master started by us would hold our pipes open.
"""

from __future__ import annotations

from ..errors import TunnelError as TunnelError

import os
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread

from .processes import pid_alive

TUNNEL_SSH_OPTIONS = (
    "-o", "ExitOnForwardFailure=yes",
    "-o", "ControlMaster=no",
    "-o", "ControlPath=none",
    "-o", "BatchMode=yes",
    "-o", "ServerAliveInterval=30",
    "-o", "ServerAliveCountMax=3",
)  # fmt: skip
READY_POLL_INTERVAL = 0.02

# Popen objects of detached tunnels: kept so they are not reported as leaked.
_DETACHED: list[subprocess.Popen[bytes]] = []


# TunnelError lives in the package's error tree (seamless_config.errors); re-exported here.


@dataclass(frozen=True)
class Tunnel:
    local_port: int
    pid: int


def allocate_local_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tunnel_argv(
    ssh_host: str,
    remote_host: str,
    remote_port: int,
    local_port: int,
    *,
    ssh_command: str = "ssh",
    ssh_args: Sequence[str] = (),
) -> list[str]:
    return [
        ssh_command,
        *ssh_args,
        "-N",
        *TUNNEL_SSH_OPTIONS,
        "-L",
        f"{local_port}:[{remote_host}]:{remote_port}" if ":" in remote_host else f"{local_port}:{remote_host}:{remote_port}",
        ssh_host,
    ]


def _spawn_detached(argv: list[str], stderr: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
        close_fds=True,
    )


async def _port_accepts(port: int) -> bool:
    try:
        with anyio.fail_after(1):
            stream = await anyio.connect_tcp("127.0.0.1", port)
    except (OSError, TimeoutError):
        return False
    await stream.aclose()
    return True


async def open_tunnel(
    ssh_host: str,
    remote_host: str,
    remote_port: int,
    *,
    within: float,
    ssh_command: str = "ssh",
    ssh_args: Sequence[str] = (),
    attempts: int = 3,
) -> Tunnel:
    """Start a detached tunnel ``localhost:<free port> -> remote_host:remote_port``.

    Returns once the local end accepts connections. Retries with another port
    if the chosen one was taken in the meantime.
    """
    last_error = "no attempt made"
    with anyio.move_on_after(within):
        for _ in range(attempts):
            local_port = allocate_local_port()
            argv = tunnel_argv(
                ssh_host,
                remote_host,
                remote_port,
                local_port,
                ssh_command=ssh_command,
                ssh_args=ssh_args,
            )
            with tempfile.TemporaryFile() as errors:
                try:
                    process = await anyio.to_thread.run_sync(
                        _spawn_detached, argv, errors.fileno()
                    )
                except OSError as exc:
                    raise TunnelError(f"cannot run {ssh_command}: {exc}") from None
                try:
                    while process.poll() is None:
                        if await _port_accepts(local_port):
                            _DETACHED.append(process)
                            return Tunnel(local_port, process.pid)
                        await anyio.sleep(READY_POLL_INTERVAL)
                except BaseException:
                    with anyio.CancelScope(shield=True):
                        await _terminate(process)
                    raise
                errors.seek(0)
                last_error = errors.read().decode(errors="replace").strip() or (
                    f"ssh exited with code {process.returncode}"
                )
                if "Address already in use" not in last_error:
                    break
    raise TunnelError(
        f"cannot open tunnel localhost -> {remote_host}:{remote_port} via {ssh_host}: {last_error}"
    )


async def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        with anyio.move_on_after(2):
            while process.poll() is None:
                await anyio.sleep(0.02)
        if process.poll() is None:
            process.kill()


# ------------------------------------------------------------------ cleanup


def _processes() -> Iterator[tuple[int, list[str]]]:
    """(pid, argv) of this user's processes (Linux /proc; else ``ps``)."""
    proc = Path("/proc")
    uid = os.getuid()
    if proc.is_dir():
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if entry.stat().st_uid != uid:
                    continue
                raw = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if raw:
                yield (
                    int(entry.name),
                    raw.rstrip(b"\0").decode(errors="replace").split("\0"),
                )
        return
    try:
        output = subprocess.run(
            ["ps", "-U", str(uid), "-o", "pid=,command="],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].isdigit():
            yield int(fields[0]), fields[1:]


def _tunnel_kind(argv: list[str], local_port: int) -> str | None:
    """What serves ``local_port``: "ssh" (``ssh -L <port>:...``), "monitor"
    (the reference launcher's tunnel monitor), or None."""
    prefix = f"{local_port}:"
    if Path(argv[0]).name == "ssh":
        for i, arg in enumerate(argv):
            if arg == "-L" and i + 1 < len(argv) and argv[i + 1].startswith(prefix):
                return "ssh"
            if arg.startswith("-L" + prefix):
                return "ssh"
        return None
    # The reference launcher's tunnel monitor (python -c ... --local-port N).
    if "--ssh-host" in argv and "--local-port" in argv:
        i = argv.index("--local-port")
        if i + 1 < len(argv) and argv[i + 1] == str(local_port):
            return "monitor"
    return None


def _find_tunnel_processes(local_port: int) -> list[tuple[int, str]]:
    own = os.getpid()
    found = []
    for pid, argv in _processes():
        kind = _tunnel_kind(argv, local_port) if pid != own else None
        if kind is not None:
            found.append((pid, kind))
    return found


def find_tunnel_pids(local_port: int) -> list[int]:
    """PIDs of tunnel processes (ours or the reference's) serving ``local_port``.

    For a forward on an OpenSSH master, the master's PID (shared by the frontend's tunnels).
    """
    from .openssh import Forward

    forward = Forward.load_live(local_port)
    if forward is not None and forward.master_pid is not None:
        return [forward.master_pid]
    return [pid for pid, _ in _find_tunnel_processes(local_port)]


async def close_tunnels(
    local_ports: Sequence[int], *, within: float = 5.0
) -> list[int]:
    """Terminate the tunnel processes of ``local_ports``; returns the PIDs signalled."""
    from .openssh import Forward, cancel_forward

    found: list[tuple[int, str]] = []
    for port in local_ports:
        forward = Forward.load_live(port)
        if forward is not None:  # a forward on a live OpenSSH master: cancel it, keep the master
            with anyio.move_on_after(within + 10):
                await cancel_forward(forward)
            continue
        found.extend(await anyio.to_thread.run_sync(_find_tunnel_processes, port))
    pids = [pid for pid, _ in found]
    for pid, kind in found:
        # The reference's monitor sleeps 20 s between checks, SIGTERM or not.
        try:
            os.kill(pid, signal.SIGKILL if kind == "monitor" else signal.SIGTERM)
        except ProcessLookupError:
            pass
    with anyio.move_on_after(within):
        while True:
            alive = [pid for pid in pids if pid_alive(pid)]
            if not alive:
                break
            await anyio.sleep(0.02)
    for pid in pids:
        if pid_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for process in list(_DETACHED):
        if process.poll() is not None:
            _DETACHED.remove(process)
    return pids
