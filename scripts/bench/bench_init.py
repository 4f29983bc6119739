#!/usr/bin/env python3
"""Benchmark ``seamless-init``: this project next to the reference seamless-config 0.3.2.

Run it with the dev venv's interpreter (its ``bin`` holds our ``seamless-init``,
the services and the ``rhl-*`` helpers)::

    /work/venv/bin/python scripts/bench/bench_init.py [--runs 5]

Scenarios (every run starts from a fresh HOME and fresh data directories;
between runs every service, worker, tunnel and tunnel monitor is stopped by PID
and waited for):

1. cold local: hashserver + database + jobserver of a ``type: local`` cluster
   that is the ``local_cluster``, on 127.0.0.1 port ranges. Next to it the
   *critical path*: the same three service argv (as our launcher would run
   them, with ``--status-file``) started directly -- hashserver and database in
   parallel, the jobserver once both are ``running`` (state files polled every
   10 ms) -- timed until the jobserver's state says ``running``.
2. warm local: ``seamless-init`` again while the three services run.
3. cold SSH frontend on loopback: the same three services on a cluster that is
   *not* the local cluster (``hostname: localhost``, ``ssh_hostname: <alias>``,
   ``tunnel: true``) behind a real sshd on 127.0.0.1 (tests/sshd.py). SSH
   connections: those the sshd accepted during the run (its VERBOSE log), for
   both; a logging ``ssh`` wrapper records every ``ssh`` process next to it.
   ``scripts/bench/bench_latency.py`` runs this scenario at 50 ms round trip.

Conda. The reference's cluster schema requires ``conda:`` on the jobserver, and
its launcher then insists on a working conda (``rhl-conda-info`` /
``rhl-cache-conda`` on the server side, and ``rhl-launch-service --conda-env``
spawns ``bash -lc "source <conda.sh> && conda activate ENV && exec ..."``).
There is no conda here, so each server-side HOME gets what a conda install
leaves behind: a ``~/.bashrc`` with a ``# >>> conda initialize >>>`` block that
sources a fake ``conda.sh``; its ``conda`` shell function answers
``activate`` (prepending the service binaries to PATH, as activating the env
that holds them would), ``info --base`` and ``env list --json``. With it both
implementations run with the *identical* YAML (jobserver ``conda: bench``),
and both pay for the same conda discovery (``rhl-cache-conda`` on a cold HOME).

``BENCH_PY_FLAGS`` (e.g. ``"-X importtime"``) runs our ``seamless-init`` under
those interpreter flags (its stderr then holds their output; for profiling only).

Output: a table on stdout and everything (raw samples, medians, ratios,
targets, per-service timings of ours, the exact YAML) in
``.cache/bench-init.json``. Exit status 0 even when a target is missed; 1 if a
run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEV_BIN = Path(sys.executable).parent  # not resolved: the venv's bin
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SERVICES = ("hashserver", "database", "jobserver")
SERVICE_BINARIES = ("hashserver", "seamless-database", "seamless-jobserver")
CONDA_ENV = "bench"
FAKE_CONDA = False  # set by --fake-conda
PORTS = {  # inclusive ranges on 127.0.0.1 (other suites use 55xxx / 57xxx)
    "hashserver": (58100, 58199),
    "database": (58200, 58299),
    "jobserver": (58300, 58399),
}
SCRUBBED_ENV = (
    "REMOTE_HTTP_LAUNCHER_DIR",
    "SEAMLESS_REMOTE_CLIENTS",
    "SEAMLESS_CACHE",
    "SEAMLESS_DASK_SCHEDULER",
    "SEAMLESS_DASK_WORKERS",
    "SEAMLESS_SSH_CONFIG",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "BENCH_SSH_LOG",
)
TARGETS = {"cold_local": 0.25, "critical": 1.3, "warm_local": 0.4, "cold_ssh": 0.25}
INIT_TIMEOUT = 300.0
POLL = 0.01
# service_startup_times() of each critical-path run
CRITICAL_STARTUP: list[dict[str, float]] = []
# Services the critical path started (our children): reaped after they are stopped, so
# that their CPU time never lands in the RUSAGE_CHILDREN of a later seamless-init run.
CRITICAL_PROCS: list[subprocess.Popen[bytes]] = []


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- processes


def _proc_stat(pid: int) -> tuple[str, int] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def pid_alive(pid: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def _environ_home(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    for item in raw.split(b"\0"):
        if item.startswith(b"HOME="):
            return item[5:].decode(errors="replace")
    return None


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline")
            .read_bytes()
            .replace(b"\0", b" ")
            .decode(errors="replace")
        )
    except OSError:
        return ""


def pids_with_home(homes: Iterable[Path]) -> list[int]:
    """Live processes (not us) whose environment has HOME set to one of *homes*.

    Every process a run starts -- services, jobserver workers, tunnels, the
    reference's tunnel monitors, helpers -- inherits the run's HOME (remote
    sessions get theirs from authorized_keys), and no other process has it.
    """
    wanted = {str(h) for h in homes}
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == me or not pid_alive(pid):
            continue
        if _environ_home(pid) in wanted:
            found.append(pid)
    return found


def state_pids(home: Path) -> list[int]:
    """PIDs of the services recorded in ``home``'s launcher server state files (if still theirs)."""
    pids = []
    server = home / ".remote-http-launcher" / "server"
    for path in sorted(server.glob("*.json")) if server.is_dir() else []:
        try:
            pid = json.loads(path.read_text()).get("pid")
        except (OSError, ValueError):
            continue
        if isinstance(pid, int) and pid_alive(pid) and str(path) in _cmdline(pid):
            pids.append(pid)
    return pids


def _wait_gone(pids: Sequence[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = [p for p in pids if pid_alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.02)
        alive = [p for p in alive if pid_alive(p)]
    return alive


def _signal(pids: Iterable[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def stop_everything(homes: Sequence[Path], *, timeout: float = 15.0) -> None:
    """Stop every process of a run by PID (SIGTERM, then SIGKILL), waiting for each to exit."""
    survivors: list[int] = []
    for _round in range(4):
        pids = sorted(
            set(pids_with_home(homes)) | {p for h in homes for p in state_pids(h)}
        )
        if not pids:
            return
        _signal(pids, signal.SIGTERM)
        alive = _wait_gone(pids, timeout)
        if alive:
            _signal(alive, signal.SIGKILL)
            survivors = _wait_gone(alive, 5.0)
    if survivors:
        raise RuntimeError(f"processes still alive after SIGKILL: {survivors}")


# --------------------------------------------------------------------------- fixtures on disk


@dataclass
class Tools:
    work: Path
    svc_bin: Path  # hashserver, seamless-database, seamless-jobserver only
    conda_base: Path
    ref_bin: Path
    sshlog_bin: Path | None = None


def make_tools(work: Path, ref_python: Path) -> Tools:
    svc_bin = work / "svcbin"
    svc_bin.mkdir(parents=True)
    for name in SERVICE_BINARIES:
        target = DEV_BIN / name
        if not target.exists():
            raise SystemExit(
                f"{target} not found: install the services into the dev venv"
            )
        (svc_bin / name).symlink_to(target)
    conda_base = work / "fakeconda"
    (conda_base / "envs" / CONDA_ENV).mkdir(parents=True)
    (conda_base / "etc" / "profile.d").mkdir(parents=True)
    envs = json.dumps({"envs": [str(conda_base), str(conda_base / "envs" / CONDA_ENV)]})
    (conda_base / "etc" / "profile.d" / "conda.sh").write_text(
        f"""\
# A stand-in for conda (benchmarks only): activating any env puts the
# Seamless service binaries first on PATH, as activating their env would.
conda() {{
    case "$1" in
        activate) PATH={shlex.quote(str(svc_bin))}:"$PATH"; export PATH; return 0 ;;
        deactivate) return 0 ;;
        info) if [ "$2" = "--base" ]; then echo {shlex.quote(str(conda_base))}; else echo "fake conda"; fi; return 0 ;;
        env) echo {shlex.quote(envs)}; return 0 ;;
        *) return 0 ;;
    esac
}}
"""
    )
    return Tools(
        work=work, svc_bin=svc_bin, conda_base=conda_base, ref_bin=ref_python.parent
    )


def write_bashrc(home: Path, tools: Tools) -> None:
    """What ``conda init`` leaves in ~/.bashrc (the launchers' conda discovery reads it)."""
    source = tools.conda_base / "etc" / "profile.d" / "conda.sh"
    (home / ".bashrc").write_text(
        f"""\
# >>> conda initialize >>>
if [ -f "{source}" ]; then
    . "{source}"
fi
# <<< conda initialize <<<
"""
    )


def _yaml(items: Sequence[Any]) -> str:
    # JSON is YAML: nothing is left to quoting rules.
    return "".join(f"- {json.dumps(item)}\n" for item in items)


def cluster_definition(data_root: Path, *, ssh_alias: str | None) -> dict[str, Any]:
    frontend: dict[str, Any] = {"hostname": "localhost"}
    if ssh_alias is not None:
        frontend["ssh_hostname"] = ssh_alias
    frontend["hashserver"] = {
        "bufferdir": str(data_root / "buffers"),
        "network_interface": "127.0.0.1",
        "port_start": PORTS["hashserver"][0],
        "port_end": PORTS["hashserver"][1],
    }
    frontend["database"] = {
        "database_dir": str(data_root / "db"),
        "network_interface": "127.0.0.1",
        "port_start": PORTS["database"][0],
        "port_end": PORTS["database"][1],
    }
    frontend["jobserver"] = {
        "conda": CONDA_ENV if FAKE_CONDA else "",
        "network_interface": "127.0.0.1",
        "port_start": PORTS["jobserver"][0],
        "port_end": PORTS["jobserver"][1],
    }
    cluster: dict[str, Any] = {"type": "local", "workers": 1, "frontends": [frontend]}
    if ssh_alias is not None:
        cluster["tunnel"] = True
    return cluster


@dataclass
class RunDirs:
    root: Path
    home: Path  # client HOME (and server HOME when local)
    project: Path
    server_home: Path  # where the services' launcher state lives
    profile_yaml: str = ""
    project_yaml: str = ""

    @property
    def homes(self) -> list[Path]:
        return (
            [self.home]
            if self.server_home == self.home
            else [self.home, self.server_home]
        )


def make_run_dirs(
    parent: Path, label: str, tools: Tools, *, ssh_alias: str | None = None
) -> RunDirs:
    root = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=parent))
    home = root / "home"
    project = root / "project"
    for d in (home, project):
        d.mkdir()
    if ssh_alias is None:
        server_home = home
        data_root = root
        name = "benchlocal"
        clusters: dict[str, Any] = {
            name: cluster_definition(data_root, ssh_alias=None),
            "local_cluster": name,
        }
    else:
        server_home = root / "server-home"
        server_home.mkdir()
        data_root = root / "server-data"
        name = "benchssh"
        clusters = {name: cluster_definition(data_root, ssh_alias=ssh_alias)}
    write_bashrc(server_home, tools)
    dirs = RunDirs(root=root, home=home, project=project, server_home=server_home)
    dirs.project_yaml = _yaml([{"project": "benchproj"}])
    dirs.profile_yaml = _yaml(
        [{"clusters": clusters}, {"cluster": name}, {"execution": "remote"}]
    )
    (project / "seamless.yaml").write_text(dirs.project_yaml)
    (project / "seamless.profile.yaml").write_text(dirs.profile_yaml)
    return dirs


def server_states(server_home: Path) -> dict[str, dict[str, Any]]:
    server = server_home / ".remote-http-launcher" / "server"
    states = {}
    for path in sorted(server.glob("*.json")) if server.is_dir() else []:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            states[path.stem] = data
    return states


def client_records(home: Path) -> dict[str, dict[str, Any]]:
    client = home / ".remote-http-launcher" / "client"
    records = {}
    for path in sorted(client.glob("*.json")) if client.is_dir() else []:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            records[path.stem] = data
    return records


def service_startup_times(server_home: Path) -> dict[str, float]:
    """Per service: seconds from its process's start to its "running" state write.

    The process start comes from /proc/<pid>/stat (10 ms resolution); the
    state write from the state file's mtime. Call while the services run.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    now_wall, now_boot = time.time(), time.clock_gettime(time.CLOCK_BOOTTIME)
    result = {}
    server = server_home / ".remote-http-launcher" / "server"
    for key, data in server_states(server_home).items():
        pid = data.get("pid")
        service = key.split("-", 1)[0]
        if data.get("status") != "running" or not isinstance(pid, int):
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            started = now_wall - (now_boot - int(fields[19]) / ticks)
            mtime = (server / f"{key}.json").stat().st_mtime
        except (OSError, IndexError, ValueError):
            continue
        result[service] = round(mtime - started, 3)
        result[f"{service}.spawned_at"] = started
    return result


def check_services_up(dirs: RunDirs) -> str | None:
    """None if the three services run and answer through their client records, else why not."""
    states = server_states(dirs.server_home)
    running = {k for k, v in states.items() if v.get("status") == "running"}
    for service in SERVICES:
        if not any(k.startswith(service + "-") for k in running):
            return f"{service} is not running (server states: { {k: v.get('status') for k, v in states.items()} })"
    records = client_records(dirs.home)
    for service in SERVICES:
        found = [r for k, r in records.items() if k.startswith(service + "-")]
        if not found:
            return f"no client record for {service}"
        url = f"http://{found[0]['hostname']}:{found[0]['port']}/healthcheck"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if not 200 <= response.status < 300:
                    return f"{service}: {url} -> HTTP {response.status}"
        except OSError as exc:
            return f"{service}: {url} -> {exc}"
    return None


# --------------------------------------------------------------------------- running seamless-init


def run_env(
    dirs: RunDirs, impl: str, tools: Tools, *, ssh: Any = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["HOME"] = str(dirs.home)
    first = str(DEV_BIN) if impl == "ours" else str(tools.ref_bin)
    parts = [first, str(tools.svc_bin), BASE_PATH]
    if ssh is not None:
        assert tools.sshlog_bin is not None
        parts.insert(0, str(tools.sshlog_bin))
        env["SEAMLESS_SSH_CONFIG"] = str(ssh.config_path)
        env["BENCH_SSH_LOG"] = str(dirs.root / "ssh-invocations.log")
    env["PATH"] = os.pathsep.join(parts)
    return env


@dataclass
class InitResult:
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None = None
    t_start: float = 0.0
    t_end: float = 0.0
    cpu: float = 0.0  # user+sys CPU of seamless-init and the helpers it waited for (not the services)

    def describe(self) -> str:
        return (
            f"exit {self.returncode} after {self.seconds:.2f}s\n--- stdout ---\n{self.stdout[-4000:]}"
            f"\n--- stderr ---\n{self.stderr[-4000:]}"
        )


def run_init(dirs: RunDirs, impl: str, tools: Tools, *, ssh: Any = None) -> InitResult:
    if impl == "ours":
        flags = os.environ.get("BENCH_PY_FLAGS", "").split()
        argv = [*([str(DEV_BIN / "python"), *flags] if flags else []), str(DEV_BIN / "seamless-init"), "--json"]
    else:
        argv = [str(tools.ref_bin / "seamless-init")]
    env = run_env(dirs, impl, tools, ssh=ssh)
    t_start = time.time()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run(
            argv,
            cwd=dirs.project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=INIT_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(
            f"{impl} seamless-init did not finish within {INIT_TIMEOUT}s: {exc}"
        ) from None
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = InitResult(
        seconds,
        done.returncode,
        done.stdout,
        done.stderr,
        t_start=t_start,
        t_end=time.time(),
        cpu=cpu,
    )
    if impl == "ours" and done.stdout.strip():
        try:
            result.report = json.loads(done.stdout)
        except ValueError:
            pass
    return result


def checked_init(
    dirs: RunDirs, impl: str, tools: Tools, *, ssh: Any = None
) -> InitResult:
    result = run_init(dirs, impl, tools, ssh=ssh)
    problem = None if result.returncode == 0 else "non-zero exit"
    problem = problem or check_services_up(dirs)
    if problem:
        raise RuntimeError(
            f"{impl} seamless-init failed in {dirs.root}: {problem}\n{result.describe()}"
        )
    return result


# --------------------------------------------------------------------------- critical path

_LAUNCH_DICTS_CODE = r"""
import json, os, sys
from pathlib import Path
from seamless_config import _configure
from seamless_config.state import STATE
from seamless_config.orchestrator.plan import make_plan
from seamless_config.remote import LaunchConfig

STATE.set_workdir(os.getcwd())
_configure(None, None)
plan = make_plan(STATE.snapshot())
placeholder = {"hashserver": {"hostname": "127.0.0.1", "port": 59998},
               "database": {"hostname": "127.0.0.1", "port": 59999}}
server_dir = str(Path.home() / ".remote-http-launcher" / "server")
out = {}
for step in plan.steps:
    conf = LaunchConfig.from_mapping(step.build(placeholder))
    out[step.name] = {
        "key": conf.key, "argv": conf.service_argv(server_dir), "workdir": conf.workdir,
        "network_interface": conf.network_interface, "parameters": conf.file_parameters, "meta": conf.meta,
    }
print(json.dumps(out))
"""


def launch_specs(dirs: RunDirs, tools: Tools) -> dict[str, dict[str, Any]]:
    """Each service's exact argv (with --status-file), as our launcher builds it for this project."""
    env = run_env(dirs, "ours", tools)
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCH_DICTS_CODE],
        cwd=dirs.project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"cannot compute the launch dicts:\n{done.stderr}")
    specs: dict[str, dict[str, Any]] = json.loads(done.stdout)
    if set(specs) != set(SERVICES):
        raise RuntimeError(f"unexpected plan: {sorted(specs)}")
    return specs


def _write_state(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _start_direct(
    spec: dict[str, Any],
    server_dir: Path,
    env: dict[str, str],
    parameters: dict[str, Any] | None,
) -> Path:
    """Spawn the service argv and write its "starting" state, as rhl-launch-service does."""
    workdir = Path(os.path.expanduser(spec["workdir"]))
    workdir.mkdir(parents=True, exist_ok=True)
    state_path = server_dir / f"{spec['key']}.json"
    log_path = server_dir / f"{spec['key']}.log"
    with log_path.open("wb") as log_handle:
        proc = subprocess.Popen(
            spec["argv"],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    CRITICAL_PROCS.append(proc)
    data: dict[str, Any] = {
        "workdir": spec["workdir"],
        "log": str(log_path),
        "command": shlex.join(spec["argv"]),
        "uid": os.getuid(),
        "pid": proc.pid,
        "status": "starting",
        "network_interface": spec["network_interface"],
    }
    if parameters is not None:
        data["parameters"] = parameters
    if spec.get("meta") is not None:
        data["meta"] = spec["meta"]
    _write_state(state_path, data)
    return state_path


def _wait_running(paths: Sequence[Path], deadline: float) -> dict[Path, dict[str, Any]]:
    result: dict[Path, dict[str, Any]] = {}
    while len(result) < len(paths):
        for path in paths:
            if path in result:
                continue
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if data.get("status") == "running":
                result[path] = data
            elif data.get("status") == "failed":
                raise RuntimeError(
                    f"{path.stem} failed:\n{path.with_suffix('.log').read_text()[-3000:]}"
                )
        if len(result) < len(paths):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"not running in time: {[p.stem for p in paths if p not in result]}"
                )
            time.sleep(POLL)
    return result


def critical_path(dirs: RunDirs, tools: Tools) -> tuple[float, float]:
    """(seconds until hashserver + database run, seconds until the jobserver runs too)."""
    specs = launch_specs(dirs, tools)
    server_dir = dirs.home / ".remote-http-launcher" / "server"
    server_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["HOME"] = str(dirs.home)
    env["PATH"] = os.pathsep.join(
        [str(tools.svc_bin), BASE_PATH]
    )  # as after `conda activate`
    template = json.dumps(specs["jobserver"]["parameters"])
    start = time.perf_counter()
    deadline = time.monotonic() + 120
    storage = [
        _start_direct(specs[s], server_dir, env, specs[s]["parameters"])
        for s in ("hashserver", "database")
    ]
    states = _wait_running(storage, deadline)
    storage_seconds = time.perf_counter() - start
    ports = {path: data["port"] for path, data in states.items()}
    parameters = json.loads(
        template.replace(":59998", f":{ports[storage[0]]}").replace(
            ":59999", f":{ports[storage[1]]}"
        )
    )
    job = _start_direct(specs["jobserver"], server_dir, env, parameters)
    _wait_running([job], deadline)
    seconds = time.perf_counter() - start
    CRITICAL_STARTUP.append(service_startup_times(dirs.home))
    return storage_seconds, seconds


# --------------------------------------------------------------------------- SSH


def start_ssh(work: Path, tools: Tools) -> Any:
    sys.path.insert(0, str(REPO / "tests"))
    from sshd import sshd_available, start_sshd  # type: ignore[import-not-found]

    reason = sshd_available()
    if reason is not None:
        raise RuntimeError(f"cannot run the SSH scenario: {reason}")
    ssh = start_sshd(work / "sshd")
    wrapper_dir = work / "sshlog"
    wrapper_dir.mkdir()
    wrapper = wrapper_dir / "ssh"
    # One line per ssh process (= one SSH connection), then the fixture's own wrapper.
    wrapper.write_text(
        "#!/bin/sh\n"
        'if [ -n "$BENCH_SSH_LOG" ]; then printf \'%s %s\\n\' "$(date +%s.%N)" "$*" >>"$BENCH_SSH_LOG"; fi\n'
        f'exec {shlex.quote(str(ssh.bin_dir / "ssh"))} "$@"\n'
    )
    wrapper.chmod(0o755)
    tools.sshlog_bin = wrapper_dir
    return ssh


def ssh_invocations(dirs: RunDirs, until: float) -> list[str]:
    path = dirs.root / "ssh-invocations.log"
    lines = path.read_text().splitlines() if path.exists() else []
    found = []
    for line in lines:  # a multi-line remote command continues on lines without a timestamp
        try:
            stamp = float(line.split(" ", 1)[0])
        except ValueError:
            continue
        if stamp <= until:
            found.append(line)
    return found


# --------------------------------------------------------------------------- the benchmark


@dataclass
class Samples:
    values: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.values.setdefault(name, []).append(value)
        self.extra.setdefault("loadavg_1min", []).append(round(os.getloadavg()[0], 2))

    def note(self, name: str, value: Any) -> None:
        self.extra.setdefault(name, []).append(value)

    def median(self, name: str) -> float | None:
        vals = self.values.get(name)
        return statistics.median(vals) if vals else None


def per_service(report: dict[str, Any] | None) -> dict[str, float]:
    if not report:
        return {}
    return {s["service"]: s["seconds"] for s in report.get("services", [])}


def bench_local(args: argparse.Namespace, tools: Tools, samples: Samples) -> None:
    runs_dir = tools.work / "runs"
    runs_dir.mkdir(exist_ok=True)
    order = ["ours", "ref"]
    for i in range(-args.warmup, args.runs):
        label = "warm-up" if i < 0 else f"run {i + 1}/{args.runs}"
        for impl in order:
            dirs = make_run_dirs(runs_dir, f"local-{impl}", tools)
            try:
                cold = checked_init(dirs, impl, tools)
                startup = service_startup_times(dirs.server_home)
                warm = checked_init(dirs, impl, tools)
            finally:
                stop_everything(dirs.homes)
            log(
                f"  local {label:10s} {impl:4s} cold {cold.seconds:6.2f}s  warm {warm.seconds:6.3f}s"
            )
            if i >= 0:
                samples.add(f"cold_local.{impl}", cold.seconds)
                samples.add(f"warm_local.{impl}", warm.seconds)
                samples.add(f"cpu.cold_local.{impl}", cold.cpu)
                samples.add(f"cpu.warm_local.{impl}", warm.cpu)
                samples.note(
                    f"startup.{impl}",
                    {k: v for k, v in startup.items() if "." not in k},
                )
                samples.note(
                    f"spawn_offset.{impl}",
                    {
                        k.split(".")[0]: round(v - cold.t_start, 3)
                        for k, v in startup.items()
                        if k.endswith(".spawned_at")
                    },
                )
                if impl == "ours":
                    samples.note("cold_local.ours.services", per_service(cold.report))
                    samples.note("warm_local.ours.services", per_service(warm.report))
                    samples.note(
                        "cold_local.ours.report_seconds",
                        (cold.report or {}).get("seconds"),
                    )
        dirs = make_run_dirs(runs_dir, "critical", tools)
        try:
            crit_storage, crit = critical_path(dirs, tools)
        finally:
            stop_everything(dirs.homes)
            while CRITICAL_PROCS:
                CRITICAL_PROCS.pop().wait(timeout=10)
        log(
            f"  local {label:10s} critical path {crit:6.2f}s (storage running after {crit_storage:.2f}s)"
        )
        if i >= 0:
            samples.add("critical", crit)
            samples.add("critical.storage", crit_storage)
            samples.note(
                "startup.critical",
                {k: v for k, v in CRITICAL_STARTUP[-1].items() if "." not in k},
            )
        order.reverse()  # alternate who goes first


def bench_ssh(
    args: argparse.Namespace, tools: Tools, samples: Samples, ssh: Any
) -> None:
    runs_dir = tools.work / "runs"
    runs_dir.mkdir(exist_ok=True)
    order = ["ours", "ref"]
    for i in range(args.ssh_runs):
        for impl in order:
            dirs = make_run_dirs(runs_dir, f"ssh-{impl}", tools, ssh_alias=ssh.alias)
            ssh.set_remote_home(dirs.server_home)
            from sshd import accepted_connections  # type: ignore[import-not-found]

            accepted_before = accepted_connections(ssh)
            try:
                cold = checked_init(dirs, impl, tools, ssh=ssh)
                wrapper_lines = ssh_invocations(dirs, cold.t_end)
                time.sleep(0.3)  # the sshd logs an accept a moment later
                # Connections the sshd accepted (an ssh process riding a ControlMaster is none).
                connections = accepted_connections(ssh) - accepted_before
            finally:
                stop_everything(dirs.homes)
                ssh.set_remote_home(None)
            tunnels = sum(1 for line in wrapper_lines if " -N " in f" {line} " or "forward" in line.split())
            detail = f"{connections} accepted by sshd; {len(wrapper_lines)} ssh processes ({tunnels} tunnels)"
            if impl == "ours":
                pooled = int((cold.report or {}).get("ssh_connections_opened", -1))
                detail += f"; {pooled} opened per --json"
                samples.note("cold_ssh.ours.services", per_service(cold.report))
                samples.note("cold_ssh.ours.pooled", pooled)
            samples.add(f"cold_ssh.{impl}", cold.seconds)
            samples.add(f"cpu.cold_ssh.{impl}", cold.cpu)
            samples.add(f"ssh_connections.{impl}", connections)
            samples.note(
                f"cold_ssh.{impl}.ssh_argv",
                [line.split(" ", 1)[1] for line in wrapper_lines],
            )
            log(
                f"  ssh   run {i + 1}/{args.ssh_runs:<4d} {impl:4s} cold {cold.seconds:6.2f}s  connections {detail}"
            )
        order.reverse()


def code_version() -> dict[str, Any]:
    """The commit of this checkout and a digest of uncommitted changes under src/ (the editable install)."""
    import hashlib

    def git(*argv: str) -> str:
        done = subprocess.run(
            ["git", *argv],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        return done.stdout

    diff = git("diff", "HEAD", "--", "src")
    return {
        "head": git("rev-parse", "--short", "HEAD").strip(),
        "src_dirty": bool(diff.strip()),
        "src_digest": hashlib.sha256(diff.encode()).hexdigest()[:12],
    }


def reference_python(arg: str | None) -> Path:
    if arg:
        return Path(os.path.abspath(arg))  # not resolved: the venv's bin
    log("building/checking the reference venv (scripts/make_reference_venv.sh) ...")
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "make_reference_venv.sh")],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"make_reference_venv.sh failed:\n{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def summarize(samples: Samples) -> dict[str, Any]:
    med = samples.median
    rows: list[dict[str, Any]] = []

    def row(
        name: str,
        ours: float | None,
        ref: float | None,
        ratio_label: str,
        target: float | None,
    ) -> None:
        ratio = ours / ref if ours is not None and ref else None
        rows.append(
            {
                "scenario": name,
                "ours": ours,
                "reference": ref,
                "ratio": ratio,
                "ratio_of": ratio_label,
                "target": target,
                "met": None if ratio is None or target is None else ratio <= target,
            }
        )

    row(
        "cold local (3 services)",
        med("cold_local.ours"),
        med("cold_local.ref"),
        "ours/reference",
        TARGETS["cold_local"],
    )
    row(
        "cold local vs critical path",
        med("cold_local.ours"),
        med("critical"),
        "ours/critical",
        TARGETS["critical"],
    )
    row(
        "warm local (3 running)",
        med("warm_local.ours"),
        med("warm_local.ref"),
        "ours/reference",
        TARGETS["warm_local"],
    )
    row(
        "cold SSH+tunnel (3 services)",
        med("cold_ssh.ours"),
        med("cold_ssh.ref"),
        "ours/reference",
        TARGETS["cold_ssh"],
    )
    row(
        "SSH connections (count)",
        med("ssh_connections.ours"),
        med("ssh_connections.ref"),
        "ours/reference",
        None,
    )
    services: dict[str, dict[str, float]] = {}
    for scenario in ("cold_local", "warm_local", "cold_ssh"):
        per_run = samples.extra.get(f"{scenario}.ours.services", [])
        for service in SERVICES:
            values = [run[service] for run in per_run if service in run]
            if values:
                services.setdefault(scenario, {})[service] = statistics.median(values)
    stats = {
        name: {
            "median": statistics.median(v),
            "min": min(v),
            "max": max(v),
            "n": len(v),
        }
        for name, v in samples.values.items()
    }
    startup: dict[str, dict[str, float]] = {}
    for who in ("ours", "ref", "critical"):
        per_run = samples.extra.get(f"startup.{who}", [])
        for service in SERVICES:
            values = [run[service] for run in per_run if service in run]
            if values:
                startup.setdefault(who, {})[service] = statistics.median(values)
    spawn: dict[str, dict[str, float]] = {}
    for who in ("ours", "ref"):
        per_run = samples.extra.get(f"spawn_offset.{who}", [])
        for service in SERVICES:
            values = [run[service] for run in per_run if service in run]
            if values:
                spawn.setdefault(who, {})[service] = statistics.median(values)
    loads = samples.extra.get("loadavg_1min", [])
    return {
        "rows": rows,
        "ours_per_service_median_seconds": services,
        "critical_storage_median": med("critical.storage"),
        "service_startup_median_seconds": startup,
        "service_spawned_after_init_start_median_seconds": spawn,
        "stats": stats,
        "loadavg_1min_median": statistics.median(loads) if loads else None,
    }


def print_table(summary: dict[str, Any]) -> None:
    print()
    print(
        f"{'scenario':32s} {'ours':>9s} {'other':>9s} {'ratio':>7s} {'(of)':16s} {'target':>7s}  met"
    )
    for r in summary["rows"]:
        other = "critical" if r["ratio_of"] == "ours/critical" else "reference"
        digits = 0 if "count" in r["scenario"] else 3
        target = "" if r["target"] is None else f"<={r['target']}"
        met = "" if r["met"] is None else ("yes" if r["met"] else "NO")
        print(
            f"{r['scenario']:32s} {_fmt(r['ours'], digits):>9s} {_fmt(r['reference'], digits):>9s} "
            f"{_fmt(r['ratio'], 3):>7s} {r['ratio_of'].replace('reference', other):16s} {target:>7s}  {met}"
        )
    print(
        "(medians in seconds; 'other' is the reference, or the critical path on its row)"
    )
    stats = summary.get("stats", {})
    cpu = [
        f"{scenario} ours {stats[f'cpu.{scenario}.ours']['median']:.3f} / ref {stats[f'cpu.{scenario}.ref']['median']:.3f}"
        for scenario in ("cold_local", "warm_local", "cold_ssh")
        if f"cpu.{scenario}.ours" in stats and f"cpu.{scenario}.ref" in stats
    ]
    if cpu:
        print(
            "CPU s of seamless-init + the helpers it waited for (median): "
            + "; ".join(cpu)
        )
    if summary.get("critical_storage_median") is not None:
        print(
            f"critical path: hashserver+database running after {summary['critical_storage_median']:.3f}s (median)"
        )
    for scenario, per in summary.get("ours_per_service_median_seconds", {}).items():
        print(
            f"ours per service, {scenario} (median s): "
            + ", ".join(f"{k} {v:.3f}" for k, v in per.items())
        )
    for who, per in summary.get("service_startup_median_seconds", {}).items():
        print(
            f"service process start -> 'running' written, cold local, {who} (median s): "
            + ", ".join(f"{k} {v:.3f}" for k, v in per.items())
        )
    for who, per in summary.get(
        "service_spawned_after_init_start_median_seconds", {}
    ).items():
        print(
            f"service process spawned, seconds after seamless-init started, cold local, {who} (median): "
            + ", ".join(f"{k} {v:.3f}" for k, v in per.items())
        )
    spread = [
        f"{k} {v['min']:.2f}..{v['max']:.2f}"
        for k, v in stats.items()
        if not k.startswith(("ssh_conn", "cpu."))
    ]
    if spread:
        print("min..max: " + "; ".join(spread))
    if summary.get("loadavg_1min_median") is not None:
        print(
            f"1-min load average during the runs (median): {summary['loadavg_1min_median']:.2f} on {os.cpu_count()} CPUs"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs",
        type=int,
        default=5,
        help="measured runs per local scenario (default 5)",
    )
    parser.add_argument(
        "--ssh-runs", type=int, default=None, help="measured SSH runs (default: --runs)"
    )
    parser.add_argument(
        "--warmup", type=int, default=1, help="discarded local runs first (default 1)"
    )
    parser.add_argument(
        "--reference-python",
        help="python of a venv with seamless-config 0.3.2 "
        "(default: build it with scripts/make_reference_venv.sh)",
    )
    parser.add_argument(
        "--fake-conda", action="store_true",
        help="jobserver 'conda: bench' with a fake conda on the host (default: 'conda: \"\"', i.e. no conda, "
        "which both implementations accept with identical YAML)",
    )
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--skip-ssh", action="store_true")
    parser.add_argument("--output", default=str(REPO / ".cache" / "bench-init.json"))
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    global FAKE_CONDA
    FAKE_CONDA = args.fake_conda
    if args.ssh_runs is None:
        args.ssh_runs = args.runs
    if not (DEV_BIN / "seamless-init").exists():
        raise SystemExit(
            f"run this with the dev venv's python ({DEV_BIN}/seamless-init not found)"
        )

    ref_python = reference_python(args.reference_python)
    version_before = code_version()
    work = Path(tempfile.mkdtemp(prefix="bench-init-"))
    tools = make_tools(work, ref_python)
    samples = Samples()
    ssh = None
    failed = None
    started = time.time()
    try:
        if not args.skip_local:
            log(f"local scenarios ({args.warmup} warm-up + {args.runs} runs each) ...")
            bench_local(args, tools, samples)
        if not args.skip_ssh and args.ssh_runs > 0:
            ssh = start_ssh(work, tools)
            log(
                f"SSH scenario ({args.ssh_runs} runs each, sshd on 127.0.0.1:{ssh.port}) ..."
            )
            bench_ssh(args, tools, samples, ssh)
    except (RuntimeError, OSError, KeyboardInterrupt) as exc:
        failed = f"{type(exc).__name__}: {exc}"
        log(f"benchmark aborted: {failed}")
    finally:
        if ssh is not None:
            from sshd import stop_sshd  # type: ignore[import-not-found]

            stop_sshd(ssh)
        if not args.keep and failed is None:
            import shutil

            shutil.rmtree(work, ignore_errors=True)

    summary = summarize(samples)
    print_table(summary)
    version_after = code_version()
    src_changed = version_before != version_after
    print(
        f"measured: seamless-config @ {version_before['head']}"
        + (" + uncommitted src/ changes" if version_before["src_dirty"] else "")
    )
    if src_changed:
        print(
            f"WARNING: src/ changed during the benchmark ({version_before} -> {version_after})"
        )
    sample_dirs = make_run_dirs(Path(tempfile.mkdtemp()), "yaml", tools, ssh_alias=None)
    output = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "wall_seconds": round(time.time() - started, 1),
        "dev_bin": str(DEV_BIN),
        "reference_python": str(ref_python),
        "cpus": os.cpu_count(),
        "code_before": version_before,
        "code_after": version_after,
        "src_changed_during_run": src_changed,
        "targets": TARGETS,
        "summary": summary,
        "samples": samples.values,
        "details": samples.extra,
        "conda": ("identical YAML for both (jobserver conda: bench); a fake conda.sh sourced from a "
                  "conda-initialize block in the server-side ~/.bashrc") if FAKE_CONDA else
                 "identical YAML for both (jobserver conda: \"\", i.e. no conda)",
        "example_local_profile_yaml": sample_dirs.profile_yaml,
        "failed": failed,
        "work_dir": str(work) if (args.keep or failed) else None,
    }
    import shutil

    shutil.rmtree(sample_dirs.root.parent, ignore_errors=True)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(output, indent=2) + "\n")
    print(f"JSON: {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
