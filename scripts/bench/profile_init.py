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
        hosts.SSHHost, "run", lambda self, argv, **k: f"[ssh cmd]   {_short(argv)}"
    )
    wrap_cm(
        hosts.LocalHost, "stream", lambda self, argv: f"[local stream] {_short(argv)}"
    )
    wrap_cm(
        hosts.SSHHost, "stream", lambda self, argv: f"[ssh stream]   {_short(argv)}"
    )
    wrap_async(health.HealthChecker, "check", lambda self, url: f"[http] GET {url}")
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
    dirs = None
    try:
        if args.ssh:
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
    finally:
        if dirs is not None:
            B.stop_everything(dirs.homes)
        if ssh is not None:
            from sshd import stop_sshd  # type: ignore[import-not-found]

            ssh.set_remote_home(None)
            stop_sshd(ssh)


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
    args = parser.parse_args()
    if args.importtime:
        importtime(args)
    else:
        timeline(args)


if __name__ == "__main__":
    main()
