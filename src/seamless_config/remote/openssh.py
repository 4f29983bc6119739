"""The OpenSSH transport: one ``ssh`` ControlMaster per frontend carries every command and tunnel.

Why: asyncssh cannot use an OpenSSH ``ControlMaster`` (a 2FA user's login), and
an asyncssh connection dies with the process. A master does neither:

- If ``ssh -G HOST`` shows a ``ControlPath`` with ``ControlMaster`` not ``no``,
  the user's own master (their socket) is used; else a master with a socket of
  ours (``$XDG_RUNTIME_DIR/seamless-ssh`` or ``/tmp/seamless-ssh-<uid>``, one per
  HOME, ssh config and alias).
- A master that is not up is started once (``ssh -M -N -f``; a 2FA prompt, if
  any, appears on the terminal), under a file lock, so concurrent processes
  share it. It is started with ``ControlPersist=yes``: its tunnels must not die
  when it is idle.
- Commands are sessions on it (``ssh -o ControlMaster=no -S PATH HOST -- CMD``);
  tunnels are added to it (``ssh -O forward -L 127.0.0.1:LOCAL:HOST:PORT``) and
  recorded in ``<that directory>/forwards/<local port>.json`` so that any later
  process can find and cancel them.
- A master seamless started ends when the last tunnel recorded on it is
  cancelled, or, if it carries none, when the pool that started it closes. A
  master the user started is never stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shlex
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.abc

from ..errors import (
    AuthenticationRefusedError,
    HostKeyChangedError,
    HostUnreachableError,
    SSHError,
)
from .hosts import CommandResult, CommandTimeout, LineStream, _LocalLineStream, remote_command
from .processes import pid_alive

logger = logging.getLogger("seamless_config.remote.openssh")

SESSION_OPTIONS = ("-T", "-o", "ControlMaster=no", "-o", "BatchMode=yes")
MASTER_OPTIONS = ("-M", "-N", "-f", "-o", "ControlPersist=yes", "-o", "ServerAliveInterval=30",
                  "-o", "ServerAliveCountMax=3", "-o", "ExitOnForwardFailure=yes")  # fmt: skip
CONTROL_TIMEOUT = 15.0


# ------------------------------------------------------------------ effective config


@dataclass(frozen=True)
class SSHSettings:
    """What ``ssh -G ALIAS`` says (the effective OpenSSH client configuration)."""

    alias: str
    hostname: str
    port: int
    user: str
    identity_files: tuple[str, ...]
    known_hosts_files: tuple[str, ...]
    control_master: str
    control_path: str
    control_persist: str
    connect_timeout: str

    @property
    def target(self) -> str:
        return f"{self.user}@{self.hostname}:{self.port}"

    @property
    def uses_control_master(self) -> bool:
        return self.control_path not in ("", "none") and self.control_master != "no"

    @classmethod
    def parse(cls, alias: str, text: str) -> SSHSettings:
        values: dict[str, list[str]] = {}
        for line in text.splitlines():
            key, _, value = line.strip().partition(" ")
            if key:
                values.setdefault(key.lower(), []).append(value.strip())

        def one(name: str, default: str = "") -> str:
            found = values.get(name)
            return found[0] if found else default

        known: list[str] = []
        for entry in values.get("userknownhostsfile", []):
            known += entry.split()
        port = one("port", "22")
        return cls(
            alias=alias,
            hostname=one("hostname", alias),
            port=int(port) if port.isdigit() else 22,
            user=one("user"),
            identity_files=tuple(values.get("identityfile", [])),
            known_hosts_files=tuple(known),
            control_master=one("controlmaster", "no").lower(),
            control_path=one("controlpath", "none"),
            control_persist=one("controlpersist", "no").lower(),
            connect_timeout=one("connecttimeout", "none").lower(),
        )


async def effective_settings(ssh_command: str, ssh_args: Sequence[str], alias: str) -> SSHSettings:
    """``ssh -G``: resolves aliases, Match blocks and tokens exactly as ``ssh`` will."""
    try:
        with anyio.fail_after(CONTROL_TIMEOUT):
            done = await anyio.run_process([ssh_command, *ssh_args, "-G", alias], check=False, stdin=subprocess.DEVNULL)
    except (OSError, TimeoutError) as exc:
        raise SSHError(
            f"Cannot read the SSH configuration of {alias}: {exc}", host=alias,
            hint=f"Check that `{ssh_command} -G {alias}` works.",
        ) from None
    if done.returncode != 0:
        stderr = done.stderr.decode(errors="replace").strip()
        raise SSHError(
            f"Cannot read the SSH configuration of {alias}: {stderr}", host=alias,
            hint=f"Fix ~/.ssh/config (see `{ssh_command} -G {alias}`).", detail=stderr,
        )
    return SSHSettings.parse(alias, done.stdout.decode(errors="replace"))


# ------------------------------------------------------------------ errors


_OFFENDING = re.compile(r"Offending \S+ key in (\S+):(\d+)")
_REMOVE = re.compile(r'ssh-keygen -f "([^"]+)" -R "([^"]+)"')


def known_hosts_name(settings: SSHSettings) -> str:
    """How known_hosts names the host: ``name`` or ``[name]:port``."""
    return settings.hostname if settings.port == 22 else f"[{settings.hostname}]:{settings.port}"


def host_key_changed(alias: str, settings: SSHSettings | None, where: str | None, detail: str | None) -> HostKeyChangedError:
    name = known_hosts_name(settings) if settings is not None else alias
    file = where.rsplit(":", 1)[0] if where else (settings.known_hosts_files[0] if settings and settings.known_hosts_files else "~/.ssh/known_hosts")
    hint = (
        f"Refusing to connect. The key recorded for {name} "
        f"{'at ' + where if where else 'in ' + file} differs from the one the server sent. If the host was "
        f"reinstalled (ask its admins), remove the old key with `ssh-keygen -f {shlex.quote(file)} -R {shlex.quote(name)}`, "
        f"then run `ssh {alias} true` once to check and record the new one."
    )
    return HostKeyChangedError(
        f"The host key of {alias} ({name}) has CHANGED", host=alias, hint=hint, known_hosts=where, detail=detail
    )


def existing_identities(settings: SSHSettings | None) -> tuple[str, ...]:
    if settings is None:
        return ()
    found = []
    for path in settings.identity_files:
        expanded = os.path.expanduser(path)
        if Path(expanded).is_file():
            found.append(path)
    return tuple(found)


def auth_refused(alias: str, settings: SSHSettings | None, detail: str | None) -> AuthenticationRefusedError:
    identities = existing_identities(settings)
    agent = " and the keys of ssh-agent ($SSH_AUTH_SOCK)" if os.environ.get("SSH_AUTH_SOCK") else ""
    tried = (", ".join(identities) or "no identity file found") + agent
    who = settings.target if settings is not None else alias
    hint = (
        f"Identities tried: {tried}. Check which key and user are used with `ssh -G {alias} | grep -Ei '^(user|identityfile)'`, "
        f"that the public key is in ~/.ssh/authorized_keys on the host, and try `ssh -v {alias} true`."
    )
    return AuthenticationRefusedError(
        f"{who} refused authentication", host=alias, hint=hint, identities=identities, detail=detail
    )


def unreachable(alias: str, settings: SSHSettings | None, why: str, timeout: float, detail: str | None) -> HostUnreachableError:
    where = f"{settings.hostname} port {settings.port}" if settings is not None else alias
    return HostUnreachableError(
        f"Cannot reach {alias} ({where}): {why}",
        host=alias,
        hint=(f"Checked once for every service of this host (connect timeout {timeout:g}s). Check the network/VPN, "
              f"and HostName/Port/ProxyJump with `ssh -G {alias}`; then `ssh {alias} true`."),
        detail=detail,
    )


def classify_ssh_stderr(alias: str, settings: SSHSettings | None, stderr: str, timeout: float) -> SSHError:
    """Turn what ``ssh`` printed when a connection failed into an error that says what to do."""
    text = stderr.strip()
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in text or "has changed and you have requested strict" in text:
        match = _OFFENDING.search(text)
        return host_key_changed(alias, settings, f"{match.group(1)}:{match.group(2)}" if match else None, text)
    if "Host key verification failed" in text:
        name = known_hosts_name(settings) if settings is not None else alias
        files = ", ".join(settings.known_hosts_files) if settings else "~/.ssh/known_hosts"
        return SSHError(
            f"The host key of {alias} ({name}) is not known", host=alias, detail=text,
            hint=f"Run `ssh {alias} true` once, check the fingerprint with the host's admins and accept it (known_hosts: {files}).",
        )
    if "Permission denied" in text or "Too many authentication failures" in text:
        return auth_refused(alias, settings, text)
    for needle, why in (
        ("Connection refused", "connection refused (no SSH server on that port)"),
        ("timed out", "no answer (timed out)"),
        ("No route to host", "no route to host"),
        ("Network is unreachable", "network unreachable"),
        ("Could not resolve hostname", "unknown host name"),
        ("Name or service not known", "unknown host name"),
        ("Connection closed by", "the server closed the connection"),
        ("Connection reset", "the connection was reset"),
    ):
        if needle in text:
            return unreachable(alias, settings, why, timeout, text)
    last = text.splitlines()[-1] if text else "ssh failed"
    return SSHError(f"Cannot connect to {alias}: {last}", host=alias, detail=text,
                    hint=f"Check that `ssh {alias} true` works.")


# ------------------------------------------------------------------ control sockets


def runtime_dir() -> Path:
    """A private, short directory for our control sockets (a socket path has ~100 bytes at most)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    candidates = [Path(base) / "seamless-ssh"] if base and len(base) < 40 else []
    candidates.append(Path(tempfile.gettempdir()) / f"seamless-ssh-{os.getuid()}")
    for path in candidates:
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = path.stat()
        except OSError:
            continue
        if info.st_uid == os.getuid() and not info.st_mode & 0o077:
            return path
    raise SSHError("No private directory for SSH control sockets", host="localhost",
                   hint=f"Make {candidates[-1]} a directory of yours with mode 700.")


def own_control_path(alias: str, ssh_args: Sequence[str]) -> str:
    """Our socket for ``alias``: one per HOME (tests and users never share a master), config and alias."""
    digest = hashlib.sha256(
        "\0".join([str(Path.home()), alias, *ssh_args]).encode()
    ).hexdigest()[:20]
    return str(runtime_dir() / f"cm-{digest}")


def forwards_dir() -> Path:
    """Where forwards are recorded, by local port (ports are per machine, not per HOME)."""
    return runtime_dir() / "forwards"


@dataclass(frozen=True)
class Forward:
    """A tunnel on a master, as recorded for later processes."""

    local_port: int
    spec: str  # 127.0.0.1:LOCAL:HOST:PORT
    alias: str
    control_path: str
    ssh_command: str
    ssh_args: tuple[str, ...]
    master_pid: int | None

    def to_json(self) -> dict[str, Any]:
        return {"local_port": self.local_port, "spec": self.spec, "alias": self.alias,
                "control_path": self.control_path, "ssh_command": self.ssh_command,
                "ssh_args": list(self.ssh_args), "master_pid": self.master_pid}

    @classmethod
    def load(cls, local_port: int) -> Forward | None:
        try:
            data = json.loads((forwards_dir() / f"{local_port}.json").read_text())
            return cls(int(data["local_port"]), str(data["spec"]), str(data["alias"]), str(data["control_path"]),
                       str(data["ssh_command"]), tuple(str(a) for a in data["ssh_args"]),
                       data["master_pid"] if isinstance(data.get("master_pid"), int) else None)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @classmethod
    def load_live(cls, local_port: int) -> Forward | None:
        """The record of ``local_port`` if its master still runs; a stale one is removed."""
        forward = cls.load(local_port)
        if forward is None:
            return None
        if forward.master_pid is None or not pid_alive(forward.master_pid):
            forward.forget()
            return None
        return forward

    def save(self) -> None:
        directory = forwards_dir()
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{self.local_port}.tmp"
        tmp.write_text(json.dumps(self.to_json()))
        tmp.replace(directory / f"{self.local_port}.json")

    def forget(self) -> None:
        try:
            (forwards_dir() / f"{self.local_port}.json").unlink()
        except FileNotFoundError:
            pass


def recorded_forwards() -> list[Forward]:
    directory = forwards_dir()
    if not directory.is_dir():
        return []
    found = []
    for path in directory.glob("*.json"):
        if path.stem.isdigit():
            forward = Forward.load_live(int(path.stem))
            if forward is not None:
                found.append(forward)
    return found


def _started_marker(control_path: str) -> Path:
    return runtime_dir() / (hashlib.sha256(control_path.encode()).hexdigest()[:20] + ".ours")


async def control(ssh_command: str, ssh_args: Sequence[str], control_path: str, alias: str,
                  *command: str, timeout: float = CONTROL_TIMEOUT) -> tuple[int, str]:
    """``ssh -O ...`` against a master; (returncode, stderr + stdout)."""
    argv = [ssh_command, *ssh_args, "-o", f"ControlPath={control_path}", *command, alias]
    try:
        with anyio.fail_after(timeout):
            done = await anyio.run_process(argv, check=False, stdin=subprocess.DEVNULL)
    except (OSError, TimeoutError) as exc:
        return 255, str(exc)
    return done.returncode, (done.stderr + done.stdout).decode(errors="replace")


_MASTER_PID = re.compile(r"pid=(\d+)")


async def master_pid(ssh_command: str, ssh_args: Sequence[str], control_path: str, alias: str) -> int | None:
    """The PID of the master on ``control_path`` if it is up, else None."""
    if not Path(control_path).exists():
        return None
    code, output = await control(ssh_command, ssh_args, control_path, alias, "-O", "check")
    match = _MASTER_PID.search(output)
    return int(match.group(1)) if code == 0 and match else None


async def exit_master_if_unused(forward: Forward) -> None:
    """Stop a master seamless started once no recorded tunnel uses it."""
    if any(f.control_path == forward.control_path for f in recorded_forwards()):
        return
    marker = _started_marker(forward.control_path)
    try:
        ours = int(marker.read_text())
    except (OSError, ValueError):
        return  # the user's own master
    current = await master_pid(forward.ssh_command, forward.ssh_args, forward.control_path, forward.alias)
    if current != ours:
        marker.unlink(missing_ok=True)  # ours is gone; this one is someone else's
        return
    await control(forward.ssh_command, forward.ssh_args, forward.control_path, forward.alias, "-O", "exit")
    marker.unlink(missing_ok=True)
    logger.info("stopped the SSH master of %s (no tunnel left on it)", forward.alias)


async def cancel_forward(forward: Forward) -> None:
    code, output = await control(forward.ssh_command, forward.ssh_args, forward.control_path, forward.alias,
                                 "-O", "cancel", "-L", forward.spec)
    if code != 0:
        logger.info("cancelling tunnel %s on %s: %s", forward.spec, forward.alias, output.strip())
    forward.forget()
    await exit_master_if_unused(forward)


# ------------------------------------------------------------------ the host


class OpenSSHHost:
    """Commands and tunnels as sessions of one OpenSSH master (implements ``SSHHost``)."""

    is_local = False

    def __init__(
        self,
        alias: str,
        *,
        settings: SSHSettings,
        control_path: str,
        ssh_command: str,
        ssh_args: Sequence[str],
        channels: anyio.Semaphore,
        long_channels: anyio.Semaphore,
        master: int | None,
    ) -> None:
        self.alias = alias
        self.settings = settings
        self.control_path = control_path
        self.ssh_command = ssh_command
        self.ssh_args = tuple(ssh_args)
        self._channels = channels
        self._long_channels = long_channels
        self.master_pid = master

    @property
    def label(self) -> str:
        return self.alias

    def is_closed(self) -> bool:
        return self.master_pid is None or not pid_alive(self.master_pid)

    def _session_argv(self, argv: Sequence[str]) -> list[str]:
        return [self.ssh_command, *self.ssh_args, *SESSION_OPTIONS, "-o", f"ControlPath={self.control_path}",
                self.alias, "--", remote_command(argv)]

    async def run(
        self, argv: Sequence[str], *, input: str | None = None, timeout: float = 30.0
    ) -> CommandResult:
        command = self._session_argv(argv)
        try:
            with anyio.fail_after(timeout):
                async with self._channels:
                    completed = await anyio.run_process(
                        command, input=input.encode() if input is not None else b"", check=False
                    )
        except TimeoutError:
            raise CommandTimeout(f"{self.alias}: {shlex.join(argv)} took longer than {timeout:.0f}s") from None
        stderr = completed.stderr.decode(errors="replace")
        if completed.returncode == 255 and self.is_closed():
            raise classify_ssh_stderr(self.alias, self.settings, stderr or "the SSH master is gone", timeout)
        return CommandResult(tuple(argv), completed.returncode, completed.stdout.decode(errors="replace"), stderr)

    @asynccontextmanager
    async def _stream(self, argv: Sequence[str]) -> AsyncIterator[LineStream]:
        async with self._long_channels:
            process = await anyio.open_process(self._session_argv(argv), stderr=None)
            try:
                yield _LocalLineStream(process)
            finally:
                with anyio.CancelScope(shield=True):
                    if process.stdin is not None:
                        await process.stdin.aclose()
                    with anyio.move_on_after(5):
                        await process.wait()
                    if process.returncode is None:
                        process.terminate()
                        with anyio.move_on_after(2):
                            await process.wait()
                    if process.returncode is None:
                        process.kill()
                    await process.aclose()

    def stream(self, argv: Sequence[str]) -> AbstractAsyncContextManager[LineStream]:
        return self._stream(argv)

    async def forward(self, remote_host: str, remote_port: int, *, within: float, attempts: int = 3) -> int:
        """Add ``127.0.0.1:<free port> -> remote_host:remote_port`` to the master; the local port."""
        target = f"[{remote_host}]" if ":" in remote_host else remote_host
        last = "no attempt made"
        with anyio.move_on_after(within):
            for _ in range(attempts):
                local_port = _free_port()
                spec = f"127.0.0.1:{local_port}:{target}:{remote_port}"
                code, output = await control(self.ssh_command, self.ssh_args, self.control_path, self.alias,
                                             "-O", "forward", "-L", spec, timeout=within)
                if code == 0:
                    Forward(local_port, spec, self.alias, self.control_path, self.ssh_command, self.ssh_args,
                            self.master_pid).save()
                    return local_port
                last = output.strip() or f"ssh -O forward exited with {code}"
                if self.is_closed():
                    break
        from .tunnel import TunnelError

        raise TunnelError(f"cannot open tunnel localhost -> {remote_host}:{remote_port} via {self.alias}'s SSH master: {last}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_master(
    alias: str, settings: SSHSettings, control_path: str, *, ssh_command: str, ssh_args: Sequence[str],
    connect_timeout: float,
) -> int:
    """Start a master on ``control_path`` (``ssh -M -N -f``); its PID. Raises an :class:`SSHError`."""
    argv = [ssh_command, *ssh_args, *MASTER_OPTIONS, "-o", f"ControlPath={control_path}"]
    if settings.connect_timeout in ("none", ""):
        argv += ["-o", f"ConnectTimeout={max(1, int(connect_timeout))}"]
    argv.append(alias)
    with tempfile.TemporaryFile() as errors:
        try:
            # The prompt of a 2FA login, if any, goes to the terminal (/dev/tty), not to our pipes;
            # once authenticated, ssh -f detaches the master into its own session.
            with anyio.fail_after(connect_timeout + 60 if not os.isatty(0) else 600):
                process = await anyio.open_process(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors)
                await process.wait()
        except TimeoutError:
            raise unreachable(alias, settings, "no answer (timed out)", connect_timeout, None) from None
        except OSError as exc:
            raise SSHError(f"Cannot run {ssh_command}: {exc}", host=alias,
                           hint="Install the OpenSSH client, or set SEAMLESS_SSH_TRANSPORT=asyncssh.") from None
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if process.returncode != 0:
        raise classify_ssh_stderr(alias, settings, stderr, connect_timeout)
    pid = await master_pid(ssh_command, ssh_args, control_path, alias)
    if pid is None:
        raise SSHError(f"The SSH master of {alias} did not come up: {stderr.strip()}", host=alias, detail=stderr,
                       hint=f"Check that `ssh -o ControlPath={control_path} -M -N {alias}` works.")
    _started_marker(control_path).write_text(str(pid))
    logger.info("started an SSH master for %s (pid %d, %s)", alias, pid, control_path)
    return pid
