"""End-to-end helpers: a real local cluster (hashserver + database + jobserver) per test.

Everything a test starts lives under its own ``tmp_path``:

- ``home/``      — the HOME of every subprocess; remote-http-launcher keeps its
                   state in ``home/.remote-http-launcher/{client,server,logs}``
                   (``REMOTE_HTTP_LAUNCHER_DIR`` is removed from the environment:
                   the reference launcher would use that directory *itself* as
                   client and server directory while the ``rhl-*`` helpers use
                   ``$REMOTE_HTTP_LAUNCHER_DIR/server``).
- ``project/``   — ``seamless.yaml`` + ``seamless.profile.yaml``; scripts run here.
- ``buffers/``, ``db/`` — the hashserver bufferdir and the database_dir.

Services are only ever bound to 127.0.0.1. At teardown :func:`stop_services`
stops each service by the PID in its server state JSON (SIGINT, then SIGTERM,
then SIGKILL, every wait bounded), plus any child process of it (the jobserver's
workers) that outlives it.

Reuse: the fixtures ``local_cluster_project`` / ``local_cluster_project_factory``
live in ``conftest.py`` beside this file; other tests import the helpers with
``from local_cluster import stop_services, write_local_cluster_project, ...``
(this directory is on sys.path under pytest's default import mode).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Port ranges unlikely to collide with the other test suites (55xxx) or a
# developer's own services.
DEFAULT_PORTS: dict[str, tuple[int, int]] = {
    "hashserver": (57100, 57199),
    "database": (57200, 57299),
    "jobserver": (57300, 57399),
}

# Environment variables that would change what init() does in the subprocess.
_SCRUBBED_ENV = (
    "REMOTE_HTTP_LAUNCHER_DIR",
    "SEAMLESS_REMOTE_CLIENTS",
    "SEAMLESS_CACHE",
    "SEAMLESS_DASK_SCHEDULER",
    "SEAMLESS_DASK_WORKERS",
)


# --------------------------------------------------------------------------- project


@dataclass
class ScriptRun:
    """One finished subprocess run of a script inside the project."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def tagged(self, tag: str) -> Any:
        """The JSON payload of the last stdout line ``<tag> {...}``."""
        prefix = tag + " "
        for line in reversed(self.stdout.splitlines()):
            if line.startswith(prefix):
                return json.loads(line[len(prefix):])
        raise AssertionError(f"no {tag!r} line in the output\n{self.describe()}")

    def describe(self) -> str:
        return (
            f"exit code {self.returncode} after {self.seconds:.1f}s\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


@dataclass
class LocalClusterProject:
    """A project directory configured for a local cluster, and its isolated HOME."""

    root: Path
    home: Path
    project_dir: Path
    bufferdir: Path
    database_dir: Path
    cluster: str
    project: str
    ports: dict[str, tuple[int, int]]
    env: dict[str, str]
    extra_pids: list[int] = field(default_factory=list)

    @property
    def launcher_dir(self) -> Path:
        return self.home / ".remote-http-launcher"

    @property
    def server_dir(self) -> Path:
        return self.launcher_dir / "server"

    def server_states(self) -> dict[str, dict[str, Any]]:
        """Server state JSON per launcher key (what the services wrote)."""
        return read_server_states(self.home)

    def state_for(self, service: str) -> tuple[str, dict[str, Any]]:
        """(key, state) of the one running instance of *service* (by its meta block)."""
        found = [
            (key, state)
            for key, state in self.server_states().items()
            if (state.get("meta") or {}).get("service") == service
        ]
        assert len(found) == 1, f"expected one {service} state, found {[k for k, _ in found]}"
        return found[0]

    def service_log(self, service: str) -> str:
        key, state = self.state_for(service)
        log = Path(state.get("log") or self.server_dir / f"{key}.log")
        return log.read_text(errors="replace") if log.exists() else ""

    def diagnostics(self, lines: int = 40) -> str:
        """The tail of every service log (for assertion messages)."""
        parts = []
        for key, state in self.server_states().items():
            log = Path(state.get("log") or self.server_dir / f"{key}.log")
            text = log.read_text(errors="replace") if log.exists() else "(no log)"
            tail = "\n".join(text.splitlines()[-lines:])
            parts.append(f"--- {key} (pid {state.get('pid')}, status {state.get('status')}) ---\n{tail}")
        return "\n".join(parts) or "(no services)"

    def database_file(self, subdir: str | None = None) -> Path:
        """``<database_dir>/<project>[/<subdir>]/seamless.db``"""
        base = self.database_dir / self.project
        return (base / subdir if subdir else base) / "seamless.db"

    def write_script(self, name: str, source: str) -> Path:
        path = self.project_dir / name
        path.write_text(textwrap.dedent(source))
        return path

    def run_script(self, script: str | Path, *args: str, timeout: float = 60.0) -> ScriptRun:
        """Run ``python <script> args...`` with cwd = the project dir and the isolated env."""
        argv = [sys.executable, str(script), *args]
        start = time.monotonic()
        try:
            done = subprocess.run(
                argv,
                cwd=self.project_dir,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            raise AssertionError(
                f"{script} did not finish within {timeout}s\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
            ) from None
        return ScriptRun(done.returncode, done.stdout, done.stderr, time.monotonic() - start)


def isolated_env(home: Path) -> dict[str, str]:
    """The current environment with HOME=*home*, this venv's bin first on PATH, Seamless variables removed."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    env["HOME"] = str(home)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([venv_bin, env.get("PATH", os.defpath)])
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONPATH", None)  # the editable install provides seamless_config
    return env


def _yaml_list(items: Sequence[Any]) -> str:
    """Our configuration as YAML text: JSON is valid YAML, and leaves nothing to quoting rules."""
    return "".join(f"- {json.dumps(item)}\n" for item in items)


def write_local_cluster_project(
    root: Path,
    *,
    cluster: str = "e2elocal",
    project: str = "e2eproj",
    workers: int = 2,
    execution: str | None = "remote",
    ports: dict[str, tuple[int, int]] | None = None,
    jobserver: bool = True,
    jobserver_conda: str | None = None,
    extra_commands: Sequence[Any] = (),
    project_commands: Sequence[Any] = (),
) -> LocalClusterProject:
    """Create ``root/{home,project,buffers,db}`` and the two YAML files.

    ``seamless.yaml`` holds ``project`` (+ *project_commands*);
    ``seamless.profile.yaml`` defines *cluster* inline (``type: local``,
    ``local_cluster`` pointing at it), selects it, sets *execution*, then
    *extra_commands* (e.g. ``{"stage build": [...]}``).
    """
    ports = dict(DEFAULT_PORTS, **(ports or {}))
    home = root / "home"
    project_dir = root / "project"
    bufferdir = root / "buffers"
    database_dir = root / "db"
    for d in (home, project_dir, bufferdir, database_dir):
        d.mkdir(parents=True, exist_ok=True)

    frontend: dict[str, Any] = {
        "hostname": "localhost",
        "hashserver": {
            "bufferdir": str(bufferdir),
            "network_interface": "127.0.0.1",
            "port_start": ports["hashserver"][0],
            "port_end": ports["hashserver"][1],
        },
        "database": {
            "database_dir": str(database_dir),
            "network_interface": "127.0.0.1",
            "port_start": ports["database"][0],
            "port_end": ports["database"][1],
        },
    }
    if jobserver:
        frontend["jobserver"] = {
            "network_interface": "127.0.0.1",
            "port_start": ports["jobserver"][0],
            "port_end": ports["jobserver"][1],
        }
        if jobserver_conda is not None:
            frontend["jobserver"]["conda"] = jobserver_conda
    clusters = {
        cluster: {"type": "local", "tunnel": False, "workers": workers, "frontends": [frontend]},
        "local_cluster": cluster,
    }
    profile: list[Any] = [{"clusters": clusters}, {"cluster": cluster}]
    if execution is not None:
        profile.append({"execution": execution})
    profile.extend(extra_commands)

    (project_dir / "seamless.yaml").write_text(_yaml_list([{"project": project}, *project_commands]))
    (project_dir / "seamless.profile.yaml").write_text(_yaml_list(profile))
    return LocalClusterProject(
        root=root,
        home=home,
        project_dir=project_dir,
        bufferdir=bufferdir,
        database_dir=database_dir,
        cluster=cluster,
        project=project,
        ports=ports,
        env=isolated_env(home),
    )


# --------------------------------------------------------------------------- stopping services


def read_server_states(home: Path) -> dict[str, dict[str, Any]]:
    """``home/.remote-http-launcher/server/*.json`` by key (unreadable files skipped)."""
    server_dir = home / ".remote-http-launcher" / "server"
    states: dict[str, dict[str, Any]] = {}
    for path in sorted(server_dir.glob("*.json")) if server_dir.is_dir() else []:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            states[path.stem] = data
    return states


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, ppid) from /proc, or None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def pid_alive(pid: int) -> bool:
    """True while *pid* runs; a zombie (exited, not yet reaped by its parent) counts as gone."""
    if Path("/proc").is_dir():
        stat = _proc_stat(pid)
        return stat is not None and stat[0] not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def parent_pid(pid: int) -> int | None:
    stat = _proc_stat(pid)
    return stat[1] if stat is not None else None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _descendants(pid: int) -> list[int]:
    """All live descendants of *pid* (Linux /proc scan; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None:
                children.setdefault(stat[1], []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _wait_gone(pids: Sequence[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = [p for p in pids if pid_alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if pid_alive(p)]
    return alive


def _signal_all(pids: Sequence[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _escalate(pids: Sequence[int], timeout: float, first: signal.Signals = signal.SIGINT) -> list[int]:
    """Stop *pids* (first signal, then SIGTERM, then SIGKILL); the PIDs still alive at the end."""
    steps = [first, signal.SIGTERM, signal.SIGKILL] if first != signal.SIGTERM else [signal.SIGTERM, signal.SIGKILL]
    alive = [p for p in pids if pid_alive(p)]
    for i, sig in enumerate(steps):
        if not alive:
            break
        _signal_all(alive, sig)
        share = timeout / len(steps) if i < len(steps) - 1 else min(5.0, timeout)
        alive = _wait_gone(alive, share)
    return alive


@dataclass
class StopReport:
    signalled: dict[str, int] = field(default_factory=dict)  # key -> pid of a running service we stopped
    not_running: dict[str, int | None] = field(default_factory=dict)  # key -> pid already gone / not ours
    survivors: list[int] = field(default_factory=list)  # PIDs still alive after SIGKILL


def stop_services(home: Path, *, timeout: float = 15.0, extra_pids: Sequence[int] = ()) -> StopReport:
    """Stop every service launched with HOME=*home*, by the PID in its server state JSON.

    The services are stopped with the package's own state store
    (``seamless_config.remote.state_store``): a PID is signalled only if it is
    still the recorded service (command line and start time), so a recycled
    PID is never hit. Children of a service that outlive it (jobserver workers,
    multiprocessing's resource tracker) are stopped by PID too, only if they
    are still the same processes. Every wait is bounded by *timeout*.
    """
    import anyio

    from seamless_config.remote.hosts import LocalHost
    from seamless_config.remote.state_store import StateStore

    report = StopReport()
    states = read_server_states(home)
    live = {key: state["pid"] for key, state in states.items()
            if isinstance(state.get("pid"), int) and pid_alive(state["pid"])}
    children = {c: _cmdline(c) for p in list(live.values()) + list(extra_pids) for c in _descendants(p)}
    store = StateStore(LocalHost(), base=str(home / ".remote-http-launcher"))
    grace = max(timeout / 3, 0.5)
    outcomes = anyio.run(lambda: store.stop(sorted(states), grace=grace)) if states else []
    for outcome in outcomes:
        key = outcome["key"]
        if outcome["outcome"] in ("stopped", "kill required"):
            report.signalled[key] = live[key]
        else:
            pid = states.get(key, {}).get("pid")
            report.not_running[key] = pid if isinstance(pid, int) else None
    # An exiting process (already not "the service" for the guard) can take a moment to become a zombie.
    survivors = _wait_gone(list(report.signalled.values()), 5.0)
    survivors += _escalate([p for p in extra_pids if pid_alive(p)], timeout)
    # Children left behind: stop them only if they are still the same processes.
    leftover = _wait_gone([c for c, cmd in children.items() if pid_alive(c) and _cmdline(c) == cmd], 1.0)
    survivors += _escalate([c for c in leftover if _cmdline(c) == children[c]], min(timeout, 6.0), first=signal.SIGTERM)
    report.survivors = survivors
    return report
