"""Fixtures for the remote layer: isolated launcher state, a real sshd, launch dicts."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

TESTS = Path(__file__).resolve().parents[1]
SRC = TESTS.parent / "src"
for _path in (str(SRC), str(TESTS)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from sshd import SSHD, sshd, stop_masters  # noqa: F401  (session fixture)

from seamless_config.remote import ConnectionPool, close_tunnels
from seamless_config.remote.processes import pid_alive

RUNNER = Path(__file__).with_name("_runner.py")

HASHSERVER_COMMAND = (
    "hashserver{' --port-range {} {}'.format(config.get('port_start'), config.get('port_end'))"
    " if config.get('port_start') is not None and config.get('port_end') is not None else ''}"
    " --status-file {status_file}{' --host ' + config.get('network_interface')"
    " if config.get('network_interface') is not None else ''} --timeout {timeout} {workdir}"
    "{' --writable' if 'rw' == 'rw' else ''}{extra_args}"
)
DATABASE_COMMAND = (
    "seamless-database --port-range {port_start} {port_end} --status-file {status_file}"
    " --host {config['network_interface']} --timeout {timeout} --writable {workdir}/seamless.db"
)
JOBSERVER_COMMAND = (
    "seamless-jobserver --workers {workers} --port-range {port_start} {port_end}"
    " --status-file {status_file} --host {config['network_interface']} --timeout {timeout}"
)
PORTS = {
    "hashserver": (55100, 55199),
    "database": (55200, 55299),
    "jobserver": (55300, 55399),
}


@dataclass
class RemoteEnv:
    """One test's world: its own HOME (client and server state) and maybe an sshd."""

    root: Path
    home: Path
    env: dict[str, str]
    sshd: SSHD | None = None
    extra_pids: list[int] = field(default_factory=list)

    @property
    def launcher_dir(self) -> Path:
        return self.home / ".remote-http-launcher"

    def conf(
        self,
        service: str = "hashserver",
        *,
        ssh: bool = False,
        tunnel: bool = False,
        alias: str | None = None,
        name: str = "proj",
        extra_args: str = "",
    ) -> dict[str, Any]:
        """A launch dict shaped like seamless-config's tools.yaml produces."""
        cluster = "testssh" if ssh else "testlocal"
        start, end = PORTS[service]
        conf: dict[str, Any] = {
            "key": f'{service}-{cluster}-rw-{{"/{name}/STAGE-a".strip("/").replace("/", "--")}}',
            "handshake": "healthcheck",
            "network_interface": "127.0.0.1",
            "port_start": start,
            "port_end": end,
            "timeout": 600,
            "log_level": "minimal",
        }
        if service == "hashserver":
            conf["workdir"] = str(self.root / "buffers" / name)
            conf["command"] = HASHSERVER_COMMAND
            conf["extra_args"] = extra_args
        elif service == "database":
            conf["workdir"] = str(self.root / "database" / name)
            conf["command"] = DATABASE_COMMAND
        else:
            conf["workdir"] = "/tmp"
            conf["command"] = JOBSERVER_COMMAND
            conf["workers"] = 1
        if ssh:
            assert self.sshd is not None
            conf["hostname"] = "localhost"
            conf["ssh_hostname"] = alias or self.sshd.alias
            if tunnel:
                conf["tunnel"] = True
        return conf

    def pool(self) -> ConnectionPool:
        return ConnectionPool(ssh_config=self.sshd.config_path if self.sshd else None)

    def key(self, conf: dict[str, Any]) -> str:
        from seamless_config.remote import LaunchConfig

        return LaunchConfig.from_mapping(conf).key

    def server_state(self, key: str) -> dict[str, Any] | None:
        path = self.launcher_dir / "server" / f"{key}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def client_record(self, key: str) -> dict[str, Any] | None:
        path = self.launcher_dir / "client" / f"{key}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def log_text(self, key: str) -> str:
        path = self.launcher_dir / "server" / f"{key}.log"
        return path.read_text() if path.exists() else ""

    async def run_process(
        self, which: str, conf: dict[str, Any], *, timeout: float = 90
    ) -> dict[str, Any]:
        """Run ``_runner.py ours|ref`` in a fresh process; its JSON output."""
        conf_path = self.root / f"conf-{time.monotonic_ns()}.json"
        conf_path.write_text(json.dumps(conf))
        argv = [sys.executable, str(RUNNER), which, str(conf_path)]
        if which == "ours" and self.sshd is not None:
            argv.append(str(self.sshd.config_path))
        with anyio.fail_after(timeout):
            done = await anyio.run_process(argv, env=self.env, check=False)
        out = done.stdout.decode()
        try:
            result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise AssertionError(
                f"{which} runner failed:\n{out}\n{done.stderr.decode()}"
            ) from None
        result["returncode"] = done.returncode
        result["stderr"] = done.stderr.decode()
        return result


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.02)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


def cleanup(renv: RemoteEnv) -> None:
    """Stop every service and tunnel the test started, by PID."""
    client_dir = renv.launcher_dir / "client"
    for path in sorted(client_dir.glob("*.json")) if client_dir.exists() else []:
        try:
            record = json.loads(path.read_text())
        except ValueError:
            continue
        for name, value in record.items():
            if (
                name == "port" or name.startswith("tunneled-") or name.endswith("_port")
            ) and isinstance(value, int):
                anyio.run(close_tunnels, [value])
    server_dir = renv.launcher_dir / "server"
    for path in sorted(server_dir.glob("*.json")) if server_dir.exists() else []:
        try:
            pid = json.loads(path.read_text()).get("pid")
        except ValueError:
            continue
        if isinstance(pid, int):
            _kill(pid)
    for pid in renv.extra_pids:
        _kill(pid)


@pytest.fixture
def local_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RemoteEnv]:
    """Launcher state under a per-test HOME; helpers and services from this venv."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("REMOTE_HTTP_LAUNCHER_DIR", raising=False)
    path = os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]
    )
    monkeypatch.setenv("PATH", path)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    renv = RemoteEnv(root=tmp_path, home=home, env=env)
    try:
        yield renv
    finally:
        cleanup(renv)


@pytest.fixture
def ssh_env(
    local_env: RemoteEnv,
    sshd: SSHD,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[RemoteEnv]:
    """``local_env`` plus the test sshd; the remote session's HOME is the same per-test HOME.

    (Client and server state live side by side, as on a single machine.)
    """
    sshd.set_remote_home(local_env.home)
    path = sshd.path_env()
    monkeypatch.setenv("PATH", path)
    local_env.env["PATH"] = path
    local_env.sshd = sshd
    try:
        yield local_env
    finally:
        stop_masters(sshd)
        sshd.set_remote_home(None)
