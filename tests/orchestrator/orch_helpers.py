"""Helpers for the orchestrator integration tests (projects, ``seamless-init`` runs, teardown).

A project is ``root/{home,project,buffers,db}``: ``seamless.yaml`` holds the
project name, ``seamless.profile.yaml`` defines one cluster inline (a
``type: local`` cluster that is the ``local_cluster``, or, with ``ssh=``, a
cluster reached over SSH with ``tunnel: true`` that is *not* the
local_cluster) with hashserver, database and jobserver on 127.0.0.1, selects
it and sets ``execution: remote``. ``seamless-init`` runs as a subprocess
with ``cwd`` = the project and ``HOME`` = ``home/``.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from local_cluster import isolated_env, pid_alive, read_server_states, stop_services

from seamless_config.remote import close_tunnels, find_tunnel_pids

SERVICES = ("hashserver", "database", "jobserver")
VENV_BIN = Path(sys.executable).parent
SEAMLESS_INIT = str(VENV_BIN / "seamless-init")

# Each project gets its own block of 30 ports (10 per service), above Linux's
# ephemeral range (32768-60999 by default: outgoing connections and their
# TIME_WAITs land there) and apart from the other suites (remote: 55xxx, e2e: 57xxx).
PORT_BASE = 61000
PORT_BLOCK = 30
_blocks = itertools.count()

RUN_TIMEOUT = 90.0  # every seamless-init / script run is bounded by this


def allocate_ports() -> dict[str, tuple[int, int]]:
    base = PORT_BASE + PORT_BLOCK * next(_blocks)
    return {service: (base + 10 * i, base + 10 * i + 9) for i, service in enumerate(SERVICES)}


@contextmanager
def occupied(lo: int, hi: int, *, taken_ok: bool = False) -> Iterator[list[int]]:
    """Listen on every port of lo..hi on 127.0.0.1 (the test's own sockets); yields the ports held.

    With *taken_ok*, a port that cannot be bound (a just-killed server's sockets in TIME_WAIT
    or FIN_WAIT2 can keep it unbindable for a while) is retried for a few seconds and then
    left out: the caller sees from the yielded list whether it holds it.
    """
    sockets = []
    held = []
    try:
        for port in range(lo, hi + 1):
            until = time.monotonic() + (5.0 if taken_ok else 0.0)
            while True:
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # an earlier TIME_WAIT is no obstacle
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    sock.close()
                    if not taken_ok:
                        raise
                    if time.monotonic() < until:
                        time.sleep(0.1)
                        continue
                    break
                sock.listen(1)
                sockets.append(sock)
                held.append(port)
                break
        yield held
    finally:
        for sock in sockets:
            sock.close()


# ----------------------------------------------------------------------------- runs


@dataclass
class Run:
    """One finished subprocess."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.stdout)
        except ValueError:
            raise AssertionError(f"stdout is not one JSON document\n{self.describe()}") from None

    def tagged(self, tag: str) -> Any:
        """The JSON payload of the last stdout line ``<tag> {...}``."""
        for line in reversed(self.stdout.splitlines()):
            if line.startswith(tag + " "):
                return json.loads(line[len(tag) + 1 :])
        raise AssertionError(f"no {tag!r} line in the output\n{self.describe()}")

    def describe(self) -> str:
        return (
            f"{' '.join(self.argv)}: exit code {self.returncode} after {self.seconds:.1f}s\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


def finish(process: subprocess.Popen[str], argv: list[str], start: float, timeout: float) -> Run:
    """Wait for *process* (bounded); on timeout kill it by PID and fail."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate(timeout=10)
        raise AssertionError(
            f"{' '.join(argv)} did not finish within {timeout}s\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
        ) from None
    return Run(argv, process.returncode, out, err, time.monotonic() - start)


# ----------------------------------------------------------------------------- projects


@dataclass
class OrchProject:
    root: Path
    home: Path
    project_dir: Path
    bufferdir: Path
    database_dir: Path
    cluster: str
    project: str
    ports: dict[str, tuple[int, int]]
    env: dict[str, str]
    remote_home: Path | None = None  # SSH projects: HOME of the sshd sessions
    ssh_alias: str | None = None  # SSH projects: the frontend's ssh_hostname (an alias of the test sshd)
    ssh_marker: str | None = None  # SSH projects: a string in the argv of every ssh process we cause
    extra_pids: list[int] = field(default_factory=list)

    @property
    def profile_path(self) -> Path:
        return self.project_dir / "seamless.profile.yaml"

    @property
    def server_home(self) -> Path:
        """Where the services' state lives (the remote HOME for SSH projects)."""
        return self.remote_home or self.home

    @property
    def client_dir(self) -> Path:
        return self.home / ".remote-http-launcher" / "client"

    @property
    def server_dir(self) -> Path:
        return self.server_home / ".remote-http-launcher" / "server"

    def server_states(self) -> dict[str, dict[str, Any]]:
        return read_server_states(self.server_home)

    def state_for(self, service: str) -> tuple[str, dict[str, Any]]:
        """(key, state) of the one state file of *service* (by its meta block)."""
        found = [
            (key, state)
            for key, state in self.server_states().items()
            if (state.get("meta") or {}).get("service") == service
        ]
        assert len(found) == 1, f"expected one {service} state, found {[k for k, _ in found]}"
        return found[0]

    def client_records(self) -> dict[str, dict[str, Any]]:
        records: dict[str, dict[str, Any]] = {}
        for path in sorted(self.client_dir.glob("*.json")) if self.client_dir.is_dir() else []:
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                records[path.stem] = data
        return records

    def service_processes(self) -> dict[str, list[int]]:
        """Live processes per server key, found by their ``--status-file`` argument (a /proc scan).

        Independent of the state files: a second launch of the same service
        would show up here even if it overwrote the first one's state file.
        """
        suffix = "/.remote-http-launcher/server/"
        prefix = f"{self.server_home}{suffix}"
        found: dict[str, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().rstrip(b"\0").decode(errors="replace").split("\0")
            except OSError:
                continue
            for i, arg in enumerate(argv[:-1]):
                if arg == "--status-file" and argv[i + 1].startswith(prefix):
                    key = argv[i + 1][len(prefix) :].removesuffix(".json")
                    if pid_alive(int(entry.name)):
                        found.setdefault(key, []).append(int(entry.name))
        return found

    def ssh_tunnel_pids(self) -> list[int]:
        """Live ``ssh ... -L`` processes that go through this session's sshd (by its ssh_config path)."""
        if self.ssh_marker is None:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().rstrip(b"\0").decode(errors="replace").split("\0")
            except OSError:
                continue
            if Path(argv[0]).name == "ssh" and "-L" in argv and self.ssh_marker in argv and pid_alive(int(entry.name)):
                pids.append(int(entry.name))
        return sorted(pids)

    # -- running seamless-init ----------------------------------------------------

    def init_argv(self, *args: str) -> list[str]:
        return [SEAMLESS_INIT, *args]

    def popen_init(self, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], list[str]]:
        argv = self.init_argv(*args)
        process = subprocess.Popen(
            argv,
            cwd=self.project_dir,
            env=env if env is not None else self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return process, argv

    def init(self, *args: str, env: dict[str, str] | None = None, timeout: float = RUN_TIMEOUT) -> Run:
        """Run ``seamless-init *args`` in the project (HOME isolated), bounded by *timeout*."""
        start = time.monotonic()
        process, argv = self.popen_init(*args, env=env)
        return finish(process, argv, start, timeout)

    def run_script(self, name: str, source: str, *args: str, timeout: float = RUN_TIMEOUT) -> Run:
        path = self.project_dir / name
        path.write_text(source)
        argv = [sys.executable, str(path), *args]
        start = time.monotonic()
        process = subprocess.Popen(
            argv,
            cwd=self.project_dir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return finish(process, argv, start, timeout)

    # -- configuration ----------------------------------------------------------

    def frontend(self) -> dict[str, Any]:
        frontend: dict[str, Any] = {"hostname": "localhost"}
        if self.ssh_alias is not None:
            frontend["ssh_hostname"] = self.ssh_alias
        frontend["hashserver"] = {
            "bufferdir": str(self.bufferdir),
            "network_interface": "127.0.0.1",
            "port_start": self.ports["hashserver"][0],
            "port_end": self.ports["hashserver"][1],
        }
        frontend["database"] = {
            "database_dir": str(self.database_dir),
            "network_interface": "127.0.0.1",
            "port_start": self.ports["database"][0],
            "port_end": self.ports["database"][1],
        }
        frontend["jobserver"] = {  # no conda: optional in our schema
            "network_interface": "127.0.0.1",
            "port_start": self.ports["jobserver"][0],
            "port_end": self.ports["jobserver"][1],
        }
        return frontend

    def write_config(self, frontend: dict[str, Any] | None = None) -> None:
        """(Re)write both YAML files (JSON is valid YAML and leaves nothing to quoting rules)."""
        cluster: dict[str, Any] = {
            "type": "local",
            "tunnel": self.ssh_alias is not None,
            "workers": 2,
            "frontends": [frontend if frontend is not None else self.frontend()],
        }
        clusters: dict[str, Any] = {self.cluster: cluster}
        if self.ssh_alias is None:
            clusters["local_cluster"] = self.cluster
        profile = [{"clusters": clusters}, {"cluster": self.cluster}, {"execution": "remote"}]
        (self.project_dir / "seamless.yaml").write_text(yaml_list([{"project": self.project}]))
        self.profile_path.write_text(yaml_list(profile))


def yaml_list(items: list[Any]) -> str:
    return "".join(f"- {json.dumps(item)}\n" for item in items)


def make_project(root: Path, *, ssh: Any = None, cluster: str | None = None, project: str = "orchproj") -> OrchProject:
    """A project under *root* with fresh port ranges; *ssh* is the ``SSHD`` of tests/sshd.py."""
    home = root / "home"
    project_dir = root / "project"
    bufferdir = root / "buffers"
    database_dir = root / "db"
    for d in (home, project_dir, bufferdir, database_dir):
        d.mkdir(parents=True, exist_ok=True)
    env = isolated_env(home)
    proj = OrchProject(
        root=root,
        home=home,
        project_dir=project_dir,
        bufferdir=bufferdir,
        database_dir=database_dir,
        cluster=cluster or ("orchssh" if ssh is not None else "orchlocal"),
        project=project,
        ports=allocate_ports(),
        env=env,
    )
    if ssh is not None:
        proj.remote_home = root / "remote-home"
        proj.remote_home.mkdir()
        proj.ssh_marker = str(ssh.config_path)
        proj.ssh_alias = ssh.alias
        env["PATH"] = ssh.path_env(env["PATH"])  # the ssh wrapper first (tunnels are `ssh -L`)
        env["SEAMLESS_SSH_CONFIG"] = str(ssh.config_path)  # for the asyncssh connection pool
    proj.write_config()
    return proj


# ----------------------------------------------------------------------------- teardown


def kill_pids(pids: list[int], timeout: float = 5.0) -> list[int]:
    """SIGTERM, then SIGKILL after *timeout*; the PIDs still alive at the end."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.02)
        pids = [p for p in pids if pid_alive(p)]
        if not pids:
            break
    return pids


def _record_ports(record: dict[str, Any]) -> list[int]:
    """Local ports of a tunnelled client record (``port`` and every ``*_port`` with a ``tunneled-`` twin)."""
    if "tunneled-port" not in record:
        return []
    ports = [record.get("port")]
    ports += [record.get(name[len("tunneled-") :]) for name in record if name.startswith("tunneled-")]
    return sorted({p for p in ports if isinstance(p, int) and not isinstance(p, bool)})


def teardown_project(proj: OrchProject) -> list[int]:
    """Close the project's tunnels and stop its services, by PID; the PIDs that survived SIGKILL."""
    ports = sorted({p for record in proj.client_records().values() for p in _record_ports(record)})
    if ports:
        anyio.run(close_tunnels, ports)
    # Tunnels whose client record was never written (a failed test): still ours, by the sshd config path.
    leftover = proj.ssh_tunnel_pids()
    survivors: list[int] = []
    survivors += kill_pids(leftover)
    homes = {proj.home, proj.server_home}
    for home in homes:
        survivors += stop_services(home, extra_pids=proj.extra_pids).survivors
    # Nothing of ours may remain: no tunnel to a tunnelled port, no service process.
    survivors += [pid for port in ports for pid in find_tunnel_pids(port)]
    survivors += [pid for pids in proj.service_processes().values() for pid in pids]
    return sorted(set(survivors))
