"""A real OpenSSH server on 127.0.0.1 for tests (no mocks).

``start_sshd(root)`` starts ``/usr/sbin/sshd`` on a free port with its own
host key, a client key authorised for the current user, and writes:

- ``root/ssh_config``: a client config defining the aliases ``rhl-test`` and
  ``rhl-test-cm`` (the latter with ``ControlMaster auto``), with
  ``UserKnownHostsFile`` holding the host key;
- ``root/bin/ssh``: a wrapper (``exec /usr/bin/ssh -F root/ssh_config "$@"``)
  to put first on PATH, so ``ssh rhl-test ...`` subprocesses (the reference
  launcher, tunnels) work;
- ``sshd_config`` with ``UsePAM no``, ``StrictModes no`` and ``SetEnv PATH=``
  (this interpreter's ``bin`` first, so remote commands find the ``rhl-*``
  helpers and the services).

The remote session's ``HOME`` (where the launcher keeps its state) is set per
key with ``environment="HOME=..."`` in ``authorized_keys``;
``SSHD.set_remote_home`` rewrites it, so each test gets its own state
directory while sharing one sshd. ``stop_sshd`` stops sshd by PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD_BINARY = "/usr/sbin/sshd"
ALIAS = "rhl-test"
CM_ALIAS = "rhl-test-cm"


@dataclass
class SSHD:
    root: Path
    port: int
    pid: int
    process: subprocess.Popen[bytes]
    config_path: Path
    bin_dir: Path
    client_key: Path
    known_hosts: Path
    authorized_keys: Path
    public_key: str
    log_path: Path
    alias: str = ALIAS
    cm_alias: str = CM_ALIAS

    def set_remote_home(self, home: Path | None) -> None:
        """HOME of the sessions opened from now on (None: the passwd home)."""
        options = f'environment="HOME={home}" ' if home is not None else ""
        tmp = self.authorized_keys.with_suffix(".tmp")
        tmp.write_text(options + self.public_key + "\n")
        tmp.chmod(0o600)
        tmp.replace(self.authorized_keys)

    def path_env(self, base_path: str | None = None) -> str:
        """PATH with the ssh wrapper and this interpreter's bin first."""
        base = (
            base_path if base_path is not None else os.environ.get("PATH", os.defpath)
        )
        return os.pathsep.join(
            [str(self.bin_dir), str(Path(sys.executable).parent), base]
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path) -> str:
    subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "rhl-test",
            "-f",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    return path.with_suffix(".pub").read_text().strip()


def sshd_available() -> str | None:
    """None if a test sshd can run here, else why not."""
    if not Path(SSHD_BINARY).exists():
        return f"{SSHD_BINARY} not found (apt-get install openssh-server)"
    for tool in ("ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            return f"{tool} not found (apt-get install openssh-client)"
    return None


def start_sshd(root: Path, *, timeout: float = 15.0) -> SSHD:
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    host_key = root / "ssh_host_ed25519_key"
    host_pub = _keygen(host_key)
    client_key = root / "id_ed25519"
    client_pub = _keygen(client_key)
    port = free_port()

    authorized_keys = root / "authorized_keys"
    known_hosts = root / "known_hosts"
    known_hosts.write_text(
        "\n".join(
            f"{name} {host_pub}"
            for name in (f"[127.0.0.1]:{port}", f"[localhost]:{port}")
        )
        + "\n"
    )
    venv_bin = Path(sys.executable).parent
    bin_dir = root / "bin"
    bin_dir.mkdir(exist_ok=True)
    sshd_config = root / "sshd_config"
    remote_path = f"{venv_bin}:/usr/local/bin:/usr/bin:/bin"
    sshd_config.write_text(
        f"""\
Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {root}/sshd.pid
AuthorizedKeysFile {authorized_keys}
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PermitUserEnvironment yes
AllowTcpForwarding yes
MaxSessions 10
MaxStartups 100:30:200
LogLevel VERBOSE
SetEnv PATH={remote_path}
"""
    )
    config_path = root / "ssh_config"
    config_path.write_text(
        f"""\
Host {CM_ALIAS}
    ControlMaster auto
    ControlPath {root}/cm-%C
    ControlPersist 30

Host {ALIAS} {CM_ALIAS}
    HostName 127.0.0.1
    Port {port}
    User {_user()}
    IdentityFile {client_key}
    IdentitiesOnly yes
    UserKnownHostsFile {known_hosts}
    StrictHostKeyChecking yes
    BatchMode yes
    LogLevel ERROR
"""
    )
    wrapper = bin_dir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F {config_path} "$@"\n')
    wrapper.chmod(0o755)

    sshd = SSHD(
        root=root,
        port=port,
        pid=0,
        process=None,  # type: ignore[arg-type]
        config_path=config_path,
        bin_dir=bin_dir,
        client_key=client_key,
        known_hosts=known_hosts,
        authorized_keys=authorized_keys,
        public_key=client_pub,
        log_path=root / "sshd.log",
    )
    sshd.set_remote_home(None)
    if os.getuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    with sshd.log_path.open("wb") as log:
        process = subprocess.Popen(
            [SSHD_BINARY, "-D", "-e", "-f", str(sshd_config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    sshd.process = process
    sshd.pid = process.pid
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited at startup:\n{sshd.log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                stop_sshd(sshd)
                raise RuntimeError(f"sshd did not listen within {timeout}s") from None
            time.sleep(0.02)
    return sshd


def variant_config(sshd: SSHD, path: Path, **replace: str) -> Path:
    """A copy of the client config with some settings replaced (``Port="1"``, ``IdentityFile=...``)."""
    lines = []
    for line in sshd.config_path.read_text().splitlines():
        key = line.strip().split(" ", 1)[0]
        if key in replace:
            line = f"    {key} {replace[key]}"
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return path


def stop_masters(sshd: SSHD) -> None:
    """End the OpenSSH control masters on the ``cm_alias`` sockets (``ssh -O exit``)."""
    for socket_path in sshd.root.glob("cm-*"):
        subprocess.run(
            ["/usr/bin/ssh", "-F", str(sshd.config_path), "-o", f"ControlPath={socket_path}",
             "-O", "exit", sshd.cm_alias],
            capture_output=True, timeout=20, check=False,
        )


def accepted_connections(sshd: SSHD) -> int:
    """How many TCP connections the sshd has accepted so far (its VERBOSE log), not counting
    the one ``start_sshd`` made to see it listen (logged whenever sshd gets to it)."""
    text = sshd.log_path.read_text(errors="replace")
    return max(0, sum(1 for line in text.splitlines() if "Connection from" in line) - 1)


def stop_sshd(sshd: SSHD) -> None:
    """Stop sshd by PID (its sessions end with it)."""
    if sshd.process.poll() is None:
        os.kill(sshd.pid, signal.SIGTERM)
        try:
            sshd.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(sshd.pid, signal.SIGKILL)
            sshd.process.wait(timeout=10)


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHD]:
    """A session-wide test sshd; skips the test if OpenSSH is not installed."""
    reason = sshd_available()
    if reason is not None:
        pytest.skip(reason)
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        stop_sshd(server)
