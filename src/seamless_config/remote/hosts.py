"""Run commands on a host: this machine (``LocalHost``) or an SSH frontend (``SSHHost``).

``SSHHost`` is the seam between bring-up and the SSH transports: commands,
line streams and tunnels. Two implement it: ``AsyncSSHHost`` (one asyncssh
connection of this process) and ``openssh.OpenSSHHost`` (sessions and
forwards on an OpenSSH ControlMaster that outlives the process).

Commands are argv lists. On an SSH host the remote shell is unavoidable, so
the argv is quoted with :func:`shlex.join` and prefixed with a fixed ``PATH``
extension (conda installs in the user's home), never with config values.
Every call is bounded by a timeout.
"""

from __future__ import annotations

from ..errors import CommandTimeout as CommandTimeout

import os
import shlex
import shutil
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # asyncssh costs ~0.2 s to import: only SSH frontends need it
    import asyncssh

import anyio
import anyio.abc

REMOTE_PATH_PREFIX = (
    'PATH="$HOME/miniforge3/bin:$HOME/miniconda3/bin:$PATH"; export PATH; '
)


@dataclass(frozen=True)
class CommandResult:
    """The outcome of one command."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def not_found(self) -> bool:
        """The command itself does not exist on the host."""
        err = self.stderr.lower()
        return self.returncode == 127 or "command not found" in err


# CommandTimeout lives in the package's error tree (seamless_config.errors); re-exported here.


class LineStream(Protocol):
    """A running command whose stdout is read line by line."""

    async def readline(self) -> str:
        """The next line without its newline; ``""`` at end of output."""
        ...

    async def close_input(self) -> None:
        """Close the command's stdin (our protocol for "you may exit now")."""
        ...

    async def send(self, text: str) -> None:
        """Write ``text`` to the command's stdin."""
        ...


class Host(Protocol):
    """Somewhere commands run."""

    @property
    def label(self) -> str: ...

    @property
    def is_local(self) -> bool: ...

    async def run(
        self, argv: Sequence[str], *, input: str | None = None, timeout: float = 30.0
    ) -> CommandResult: ...

    def stream(self, argv: Sequence[str]) -> AbstractAsyncContextManager[LineStream]:
        """Run ``argv`` and read its stdout line by line; the command ends on exit."""
        ...


def remote_command(argv: Sequence[str]) -> str:
    """The shell command line sent to an SSH server for ``argv``."""
    if not argv:
        raise ValueError("empty command")
    return REMOTE_PATH_PREFIX + "exec " + shlex.join(argv)


def _local_executable(name: str) -> str:
    """Find ``name`` on PATH, else next to this interpreter (the venv's ``bin``)."""
    found = shutil.which(name)
    if found:
        return found
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    return name


def local_env() -> dict[str, str]:
    """Our environment, with this interpreter's ``bin`` at the end of PATH.

    The helpers and the services come with remote-http-launcher and the
    Seamless packages, i.e. next to this interpreter, even when the user did
    not activate the environment.
    """
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    path = env.get("PATH", os.defpath)
    if bindir not in path.split(os.pathsep):
        env["PATH"] = path + os.pathsep + bindir if path else bindir
    return env


# --------------------------------------------------------------------- local


class _LocalLineStream:
    def __init__(self, process: anyio.abc.Process) -> None:
        self._process = process
        self._buffer = b""

    async def readline(self) -> str:
        stdout = self._process.stdout
        assert stdout is not None
        while b"\n" not in self._buffer:
            try:
                chunk = await stdout.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                line, self._buffer = self._buffer, b""
                return line.decode(errors="replace")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode(errors="replace")

    async def close_input(self) -> None:
        if self._process.stdin is not None:
            await self._process.stdin.aclose()

    async def send(self, text: str) -> None:
        if self._process.stdin is not None:
            await self._process.stdin.send(text.encode())


class LocalHost:
    """This machine; commands are subprocesses (no shell)."""

    label = "localhost"
    is_local = True

    async def run(
        self, argv: Sequence[str], *, input: str | None = None, timeout: float = 30.0
    ) -> CommandResult:
        if not argv:
            raise ValueError("empty command")
        command = [_local_executable(argv[0]), *argv[1:]]
        try:
            with anyio.fail_after(timeout):
                completed = await anyio.run_process(
                    command,
                    input=input.encode() if input is not None else None,
                    check=False,
                    env=local_env(),
                )
        except TimeoutError:
            raise CommandTimeout(
                f"{shlex.join(argv)} took longer than {timeout:.0f}s"
            ) from None
        except FileNotFoundError as exc:
            return CommandResult(tuple(argv), 127, "", str(exc))
        return CommandResult(
            tuple(argv),
            completed.returncode,
            completed.stdout.decode(errors="replace"),
            completed.stderr.decode(errors="replace"),
        )

    @asynccontextmanager
    async def _stream(self, argv: Sequence[str]) -> AsyncIterator[LineStream]:
        command = [_local_executable(argv[0]), *argv[1:]]
        process = await anyio.open_process(command, stderr=None, env=local_env())
        try:
            yield _LocalLineStream(process)
        finally:
            with anyio.CancelScope(shield=True):
                if process.returncode is None:
                    process.terminate()
                with anyio.move_on_after(5):
                    await process.wait()
                if process.returncode is None:
                    process.kill()
                await process.aclose()

    def stream(self, argv: Sequence[str]) -> AbstractAsyncContextManager[LineStream]:
        return self._stream(argv)


# ----------------------------------------------------------------------- ssh


class _SSHLineStream:
    def __init__(self, process: asyncssh.SSHClientProcess[str]) -> None:
        self._process = process

    async def readline(self) -> str:
        line = await self._process.stdout.readline()
        return line.rstrip("\n")

    async def close_input(self) -> None:
        self._process.stdin.write_eof()

    async def send(self, text: str) -> None:
        self._process.stdin.write(text)
        await self._process.stdin.drain()


class SSHHost(Host, Protocol):
    """An SSH frontend, whatever the transport."""

    alias: str

    def is_closed(self) -> bool:
        """The connection (or master) is gone: the pool opens a new one."""
        ...

    async def forward(self, remote_host: str, remote_port: int, *, within: float) -> int | None:
        """Tunnel ``127.0.0.1:<port> -> remote_host:remote_port`` on this connection, so that it
        outlives the process; the local port, or None if this transport cannot (the caller then
        starts a detached ``ssh -N -L``)."""
        ...


class AsyncSSHHost:
    """An SSH frontend reached over one shared asyncssh connection.

    ``channels`` bounds the concurrent short commands on the connection and
    ``long_channels`` the long-lived ones (locks, watchers), so that the sum
    stays below sshd's ``MaxSessions`` and a lock holder can always get a
    channel for its commands.
    """

    is_local = False

    def __init__(
        self,
        alias: str,
        connection: asyncssh.SSHClientConnection,
        *,
        channels: anyio.Semaphore,
        long_channels: anyio.Semaphore,
    ) -> None:
        self.alias = alias
        self.connection = connection
        self._channels = channels
        self._long_channels = long_channels

    @property
    def label(self) -> str:
        return self.alias

    async def run(
        self, argv: Sequence[str], *, input: str | None = None, timeout: float = 30.0
    ) -> CommandResult:
        command = remote_command(argv)
        try:
            with anyio.fail_after(timeout):
                async with (
                    self._channels,
                    self.connection.create_process(
                        command, encoding="utf-8", errors="replace"
                    ) as process,
                ):
                    if input is not None:
                        process.stdin.write(input)
                    process.stdin.write_eof()
                    completed = await process.wait(check=False)
        except TimeoutError:
            raise CommandTimeout(
                f"{self.alias}: {shlex.join(argv)} took longer than {timeout:.0f}s"
            ) from None
        stdout = completed.stdout if isinstance(completed.stdout, str) else ""
        stderr = completed.stderr if isinstance(completed.stderr, str) else ""
        code = completed.returncode
        return CommandResult(
            tuple(argv), code if code is not None else -1, stdout, stderr
        )

    @asynccontextmanager
    async def _stream(self, argv: Sequence[str]) -> AsyncIterator[LineStream]:
        command = remote_command(argv)
        async with self._long_channels:
            process: asyncssh.SSHClientProcess[
                str
            ] = await self.connection.create_process(
                command, encoding="utf-8", errors="replace"
            )
            try:
                yield _SSHLineStream(process)
            finally:
                with anyio.CancelScope(shield=True):
                    process.close()
                    with anyio.move_on_after(5):
                        await process.wait_closed()

    def stream(self, argv: Sequence[str]) -> AbstractAsyncContextManager[LineStream]:
        return self._stream(argv)

    def is_closed(self) -> bool:
        return bool(self.connection.is_closed())

    async def forward(self, remote_host: str, remote_port: int, *, within: float) -> int | None:
        return None  # an asyncssh listener would die with this process


def passwd_home() -> Path:
    """The home directory from the password database (what OpenSSH uses)."""
    try:
        import pwd

        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError):
        return Path.home()
