#!/usr/bin/env python3
"""Where does our ``seamless-init`` spend its time? (companion of bench_init.py)

Run with the dev venv's python::

    /work/venv/bin/python scripts/bench/profile_init.py            # cold local, then warm local
    /work/venv/bin/python scripts/bench/profile_init.py --ssh      # cold SSH+tunnel, then warm
    /work/venv/bin/python scripts/bench/profile_init.py --importtime

Timeline mode does in-process what ``seamless-init`` does (resolve the
configuration, ``make_plan``, ``run_plan`` in a ``ConnectionPool``) on the
same project layout, fake conda and loopback sshd as bench_init.py, with
instrumentation: every phase callback, every helper command (local
subprocess or SSH channel), every health check, every tunnel, with start
offset and duration. Nothing in src/ is modified; methods are wrapped at run
time only.

``--importtime`` runs the real ``seamless-init --json`` with ``-X importtime``
against running services (warm) and prints the costliest imports, next to the
wall time of a bare ``python -c pass`` and of the whole warm run.

``--ssh --delay-ms 25`` puts the sshd behind bench_latency.py's delaying relay
(50 ms round trip) and uses the default transport (OpenSSH ControlMaster; set
``SEAMLESS_SSH_TRANSPORT=asyncssh`` for the other one). The timeline then shows
``ssh -G``, the master's start, every session (command or one-call launch
script), every ``ssh -O`` control command (check, forward) and every health GET.
After the in-process runs it also times warm ``seamless-init --json`` runs in
new processes (what a user sees), one of them with a timeline of its own
(``[warm process]`` lines: imports, configuration, each client-record check).
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_init as B

EVENTS: list[tuple[float, float, str]] = []  # (start, duration, text)
T0 = 0.0


def _now() -> float:
    return time.perf_counter()


def record(start: float, text: str) -> None:
    EVENTS.append((start - T0, _now() - start, text))


def _short(argv: Any) -> str:
    words = [str(a) for a in argv]
    if len(words) > 2 and words[0] == "python3" and words[1] == "-c":
        words = ["python3 -c <script>", *words[3:]]
    text = " ".join(words)
    return text if len(text) < 110 else text[:107] + "..."


def instrument() -> None:
    from seamless_config.remote import (
        health,
        hosts,
        launcher,
        pool,
        server_side,
        tunnel,
    )

    def wrap_async(owner: Any, name: str, label: Any) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = _now()
            try:
                return await original(*args, **kwargs)
            finally:
                record(start, label(*args, **kwargs))

        setattr(owner, name, wrapper)

    def wrap_cm(owner: Any, name: str, label: Any) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from contextlib import asynccontextmanager

            @asynccontextmanager
            async def cm() -> Any:
                start = _now()
                try:
                    async with original(*args, **kwargs) as value:
                        yield value
                finally:
                    record(start, label(*args, **kwargs))

            return cm()

        setattr(owner, name, wrapper)

    wrap_async(
        hosts.LocalHost, "run", lambda self, argv, **k: f"[local cmd] {_short(argv)}"
    )
    wrap_async(
        hosts.AsyncSSHHost, "run", lambda self, argv, **k: f"[ssh cmd]   {_short(argv)}"
    )
    wrap_cm(
        hosts.LocalHost, "stream", lambda self, argv: f"[local stream] {_short(argv)}"
    )
    wrap_cm(
        hosts.AsyncSSHHost, "stream", lambda self, argv: f"[ssh stream]   {_short(argv)}"
    )
    instrument_openssh(wrap_async, wrap_cm)
    wrap_async(health.HealthChecker, "check", lambda self, url: f"[http] GET {url}")
    original_probe = launcher.probe

    async def probe(url: str, **kwargs: Any) -> Any:
        start = _now()
        try:
            return await original_probe(url, **kwargs)
        finally:
            record(start, f"[http probe] GET {url}")

    launcher.probe = probe
    wrap_async(
        pool.ConnectionPool, "_connect", lambda self, alias: f"[ssh connect] {alias}"
    )
    wrap_async(
        server_side.LocalServerSide,
        "wait_for_start",
        lambda self, key, pid, **k: f"[wait_for_start local] {key}",
    )
    wrap_async(
        server_side.ServerSide,
        "ensure_conda_env",
        lambda self, env, **k: f"[ensure_conda_env] {env}",
    )
    if "launch" in vars(
        server_side.LocalServerSide
    ):  # in-process local launch (newer src/)
        wrap_async(
            server_side.LocalServerSide,
            "launch",
            lambda self, argv, **k: f"[local launch] {_short(argv)}",
        )
    if hasattr(server_side, "launch_locally"):
        original_launch = server_side.launch_locally

        def launch_locally(*args: Any, **kwargs: Any) -> Any:
            start = _now()
            try:
                return original_launch(*args, **kwargs)
            finally:
                record(start, f"[launch_locally] {args[0].key}")

        server_side.launch_locally = launch_locally
    wrap_async(launcher._Run, "open_tunnel", lambda self, port: f"[tunnel] -> {port}")
    wrap_async(
        launcher._Run,
        "check_client_file",
        lambda self: f"[check_client_file] {self.cfg.key}",
    )
    wrap_cm(
        launcher.ClientFile,
        "lock",
        lambda self, **k: (
            f"[client lock held] {self.path.name}"
            if hasattr(self, "path")
            else "[client lock held]"
        ),
    )
    del tunnel


def instrument_openssh(wrap_async: Any, wrap_cm: Any) -> None:
    """The OpenSSH transport: ssh -G, master start, sessions, control commands (check, forward)."""
    from seamless_config.remote import openssh, pool

    wrap_async(openssh, "effective_settings", lambda cmd, args, alias: f"[ssh -G] {alias}")
    wrap_async(openssh, "start_master", lambda alias, *a, **k: f"[ssh master start] {alias}")
    wrap_async(
        openssh, "control",
        lambda cmd, args, path, alias, *command, **k: f"[ssh -O] {' '.join(command)}",
    )
    wrap_async(pool.ConnectionPool, "_open_master", lambda self, alias: f"[ssh master up] {alias}")
    wrap_async(openssh.OpenSSHHost, "run", lambda self, argv, **k: f"[ssh session] {_short(argv)}")
    wrap_cm(openssh.OpenSSHHost, "stream", lambda self, argv: f"[ssh session stream] {_short(argv)}")
    wrap_async(
        openssh.OpenSSHHost, "forward",
        lambda self, host, port, **k: f"[ssh forward] -> {host}:{port}",
    )


def run_once(label: str) -> dict[str, Any]:
    """What seamless-init's run() does, instrumented. Returns the report as JSON."""
    global T0
    EVENTS.clear()
    T0 = _now()
    start = _now()
    from seamless_config import _configure
    from seamless_config.orchestrator.bringup import without_disabled
    from seamless_config.orchestrator.plan import make_plan
    from seamless_config.state import STATE

    STATE.set_workdir(os.getcwd())
    _configure(None, None)
    plan = without_disabled(make_plan(STATE.snapshot()))
    plan.validate()
    record(start, "[config] resolve + make_plan + validate")

    import anyio

    from seamless_config.orchestrator.runner import run_plan
    from seamless_config.remote import ConnectionPool

    def progress(service: str, phase: str, detail: str) -> None:
        EVENTS.append((_now() - T0, 0.0, f"{service:10s} phase {phase}: {detail[:80]}"))

    async def go() -> Any:
        async with ConnectionPool() as pool:
            return await run_plan(plan, pool=pool, progress=progress, timeout=120)

    start = _now()
    report = anyio.run(go)
    record(start, "[run_plan] total (incl. pool close)")
    print(
        f"\n=== {label}: {'ok' if report.ok else 'FAILED'}; "
        f"ssh connections opened {report.connections_opened}; total {_now() - T0:.3f}s"
    )
    for t, dur, text in sorted(EVENTS, key=lambda e: e[0]):
        print(f"  +{t:7.3f}s  {dur:7.3f}s  {text}")
    if not report.ok:
        print(report.format())
    return report.as_json()


def setup_env(dirs: B.RunDirs, tools: B.Tools, ssh: Any) -> None:
    env = B.run_env(dirs, "ours", tools, ssh=ssh)
    for name in B.SCRUBBED_ENV:
        os.environ.pop(name, None)
    os.environ.update(env)
    os.chdir(dirs.project)


def timeline(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="profile-init-"))
    tools = B.make_tools(work, Path(sys.executable))
    (work / "runs").mkdir()
    ssh = None
    relay = None
    dirs = None
    try:
        if args.ssh and args.delay_ms:
            ssh, relay = start_latency_ssh(work, tools, args.delay_ms)
            print(f"sshd behind a relay: +{args.delay_ms:g} ms each way")
            dirs = B.make_run_dirs(
                work / "runs", "ssh-ours", tools, ssh_alias=ssh.alias
            )
            ssh.set_remote_home(dirs.server_home)
        elif args.ssh:
            ssh = B.start_ssh(work, tools)
            dirs = B.make_run_dirs(
                work / "runs", "ssh-ours", tools, ssh_alias=ssh.alias
            )
            ssh.set_remote_home(dirs.server_home)
        else:
            dirs = B.make_run_dirs(work / "runs", "local-ours", tools)
        setup_env(dirs, tools, ssh)
        start = _now()
        import seamless_config.orchestrator.runner
        import seamless_config.remote  # noqa: F401  (what run() imports before starting)

        print(
            f"import seamless_config.remote + orchestrator.runner: {_now() - start:.3f}s (in-process)"
        )
        instrument()
        run_once("cold " + ("SSH+tunnel" if args.ssh else "local"))
        problem = B.check_services_up(dirs)
        if problem:
            print("services not up:", problem)
        run_once("warm " + ("SSH+tunnel" if args.ssh else "local"))
        warm_processes(dirs, tools, ssh, args.warm_runs)
    finally:
        if dirs is not None:
            if relay is not None:
                import bench_latency

                bench_latency.stop_masters(ssh, dirs.home)
            B.stop_everything(dirs.homes)
        if ssh is not None:
            from sshd import stop_sshd  # type: ignore[import-not-found]

            ssh.set_remote_home(None)
            stop_sshd(ssh.sshd if relay is not None else ssh)
        if relay is not None:
            relay.stop()


def start_latency_ssh(work: Path, tools: B.Tools, delay_ms: float) -> tuple[Any, Any]:
    """The test sshd behind bench_latency's relay (+delay_ms each way); (LatencySSH, relay)."""
    import bench_latency

    sys.path.insert(0, str(B.REPO / "tests"))
    from sshd import start_sshd  # type: ignore[import-not-found]

    sshd = start_sshd(work / "sshd")
    relay = bench_latency.DelayRelay(sshd.port, delay_ms / 1000).start()
    lat = bench_latency.make_latency_client(work, sshd, relay, control_master=False)
    bench_latency.install_logging_wrapper(work, tools, lat)
    return lat, relay


# In a new process: what a warm seamless-init spends its time on (printed as JSON on stderr).
_CHILD_TIMELINE = r"""
import json, os, sys, time
ticks = os.sysconf("SC_CLK_TCK")
started = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19]) / ticks
boot = time.clock_gettime(time.CLOCK_BOOTTIME)
t0 = time.perf_counter() - (boot - started)  # perf_counter at process start (10 ms resolution)
events = [(time.perf_counter() - t0, 0.0, "interpreter up (site imported)")]
def record(start, text):
    events.append((start - t0, time.perf_counter() - start, text))
s = time.perf_counter()
import seamless_config.cli.init as cli
record(s, "import seamless_config.cli.init (typer, ...)")
import seamless_config.remote.prefetch as prefetch
original_get, original_prefetch = prefetch.get_ok, prefetch.prefetch
def get_ok(url, **k):
    s = time.perf_counter()
    try:
        return original_get(url, **k)
    finally:
        record(s, "GET " + url)
def start_prefetch(path):
    s = time.perf_counter()
    try:
        return original_prefetch(path)
    finally:
        record(s, "prefetch (GETs of the last good run's hint started)")
prefetch.get_ok, prefetch.prefetch = get_ok, start_prefetch
import importlib.abc, importlib.machinery
class _Hook(importlib.abc.MetaPathFinder):  # wrap quick's functions once the CLI imports it
    def find_spec(self, name, path, target=None):
        if name != "seamless_config.remote.quick":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        loader = spec.loader
        exec_module = loader.exec_module
        def wrapped(module):
            exec_module(module)
            original_all, original_probe = module.reusable_all, module.probe_sync
            def reusable_all(confs):
                s = time.perf_counter()
                try:
                    return original_all(confs)
                finally:
                    record(s, "reusable_all (every client record checked)")
            def probe_sync(url, **k):
                s = time.perf_counter()
                try:
                    return original_probe(url, **k)
                finally:
                    record(s, "probe_sync (answer of) " + url)
            module.reusable_all, module.probe_sync = reusable_all, probe_sync
        loader.exec_module = wrapped
        return spec
sys.meta_path.insert(0, _Hook())
sys.argv = ["seamless-init", "--json"]
code = 0
try:
    cli.main()
except SystemExit as exc:
    code = exc.code
finally:
    events.append((time.perf_counter() - t0, 0.0, "exit %s" % code))
    sys.stderr.write("TIMELINE " + json.dumps(events) + "\n")
"""


def warm_processes(dirs: B.RunDirs, tools: B.Tools, ssh: Any, runs: int) -> None:
    """Warm ``seamless-init --json`` in new processes: wall times, then one with a timeline."""
    import json
    import statistics

    if runs <= 0:
        return
    walls = []
    for _ in range(runs):
        result = B.checked_init(dirs, "ours", tools, ssh=ssh)
        walls.append(result.seconds)
    print(f"\n=== warm seamless-init --json in new processes: "
          f"{', '.join(f'{w:.3f}' for w in walls)} s (median {statistics.median(walls):.3f} s)")
    env = B.run_env(dirs, "ours", tools, ssh=ssh)
    start = _now()
    done = subprocess.run([sys.executable, "-c", _CHILD_TIMELINE], cwd=dirs.project, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    wall = _now() - start
    line = [x for x in done.stderr.splitlines() if x.startswith("TIMELINE ")]
    print(f"  one more, with a timeline: wall {wall:.3f}s (offsets from the process start)")
    for t, dur, text in sorted(json.loads(line[0][len("TIMELINE "):])) if line else []:
        print(f"  +{t:7.3f}s  {dur:7.3f}s  [warm process] {text}")
    if not line:
        print(done.stderr[-3000:])


def importtime(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="profile-init-"))
    tools = B.make_tools(work, Path(sys.executable))
    (work / "runs").mkdir()
    dirs = B.make_run_dirs(work / "runs", "local-ours", tools)
    try:
        cold = B.checked_init(dirs, "ours", tools)
        print(f"cold seamless-init --json: {cold.seconds:.3f}s")
        env = B.run_env(dirs, "ours", tools)
        walls = []
        for _ in range(5):
            walls.append(B.checked_init(dirs, "ours", tools).seconds)
        bare = []
        for _ in range(5):
            start = _now()
            subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
            bare.append(_now() - start)
        bare_site = []
        for _ in range(5):
            start = _now()
            subprocess.run(
                [sys.executable, "-I", "-S", "-c", "pass"], env=env, check=True
            )
            bare_site.append(_now() - start)
        import statistics

        print(
            f"warm seamless-init --json (median of 5): {statistics.median(walls):.3f}s"
        )
        print(
            f"bare '{sys.executable} -c pass' (median of 5): {statistics.median(bare):.3f}s;"
            f" with -I -S: {statistics.median(bare_site):.3f}s"
        )
        done = subprocess.run(
            [
                sys.executable,
                "-X",
                "importtime",
                str(B.DEV_BIN / "seamless-init"),
                "--json",
            ],
            cwd=dirs.project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        rows = []
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "cumulative" in line:
                continue
            self_us, cumulative_us, name = line[len("import time:") :].split("|", 2)
            rows.append((int(cumulative_us), int(self_us), name[1:].rstrip()))
        top_level = [r for r in rows if not r[2].startswith(" ")]
        print(
            f"\ntop-level imports by cumulative time (total of top-level: {sum(r[0] for r in top_level) / 1e6:.3f}s):"
        )
        for cum, own, name in sorted(top_level, reverse=True)[:15]:
            print(f"  {cum / 1e6:7.3f}s  {name.strip()}")
        print("\nall imports by cumulative time (nested included, top 40):")
        for cum, own, name in sorted(rows, reverse=True)[:40]:
            print(f"  {cum / 1e6:7.3f}s  self {own / 1e6:6.3f}s  {name}")
        if args.save:
            Path(args.save).write_text(done.stderr)
            print(f"raw -X importtime output: {args.save}")
    finally:
        B.stop_everything(dirs.homes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ssh", action="store_true", help="SSH frontend on loopback, tunnel: true"
    )
    parser.add_argument(
        "--importtime",
        action="store_true",
        help="-X importtime of a warm seamless-init",
    )
    parser.add_argument("--save", help="with --importtime: write the raw output here")
    parser.add_argument(
        "--delay-ms", type=float, default=0.0,
        help="with --ssh: delay each way through a relay (bench_latency.py; 25 = 50 ms round trip)",
    )
    parser.add_argument(
        "--warm-runs", type=int, default=3,
        help="warm seamless-init runs in new processes after the in-process runs (default 3)",
    )
    args = parser.parse_args()
    if args.importtime:
        importtime(args)
    else:
        timeline(args)


if __name__ == "__main__":
    main()
