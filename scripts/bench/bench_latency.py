#!/usr/bin/env python3
"""Benchmark ``seamless-init`` over SSH at a real round-trip time: ours next to the reference.

Run it with the dev venv's interpreter::

    .venv/bin/python scripts/bench/bench_latency.py [--runs 1] [--delay-ms 25]

The test sshd (tests/sshd.py) is reached through a small user-space TCP relay
on 127.0.0.1 that holds every chunk for ``--delay-ms`` in each direction (so
the round trip is twice that; the kernel here has no ``netem``). The cluster
is the one of ``bench_init.py``'s SSH scenario: one frontend
(``ssh_hostname`` = an alias whose ``Port`` is the relay's), three services,
``tunnel: true``.

Per implementation and run, in a fresh HOME: a cold ``seamless-init``, then a
warm one in a new process. Reported: seconds, and the SSH connections the
sshd accepted during each (counted at the relay: every TCP connection to the
sshd goes through it; the sshd's own ``Connection from`` log lines are
reported next to it as a cross-check).

``--control-master`` uses the alias with ``ControlMaster auto`` +
``ControlPath`` + ``ControlPersist`` in the client's ssh_config (a 2FA user's
setup) for both implementations.

Output: a table on stdout and everything in ``.cache/bench-latency.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_init as bi  # noqa: E402

TARGETS = {"cold": 0.10, "warm": 0.15}


# --------------------------------------------------------------------------- the relay


class DelayRelay:
    """``127.0.0.1:<port>`` -> ``target``, each direction delayed by ``delay`` seconds.

    Order is kept per direction; throughput is not limited. Runs its own
    asyncio loop in a daemon thread. ``accepted`` counts TCP connections.
    """

    def __init__(self, target_port: int, delay: float) -> None:
        self.target_port = target_port
        self.delay = delay
        self.accepted = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> DelayRelay:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("relay did not start")
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def send() -> None:
            while True:
                due, chunk = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(chunk)
                await writer.drain()

        sender = asyncio.create_task(send())
        try:
            while True:
                chunk = await reader.read(65536)
                await queue.put((loop.time() + self.delay, chunk))
                if not chunk:
                    break
            await sender
        except (ConnectionError, OSError):
            sender.cancel()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(self._pump(client_r, server_w), self._pump(server_r, client_w))
        finally:
            for w in (client_w, server_w):
                w.close()


# --------------------------------------------------------------------------- ssh client side


@dataclass
class LatencySSH:
    """What bench_init's run_env/ssh_invocations need, pointing at the relay."""

    sshd: Any
    relay: DelayRelay
    config_path: Path
    bin_dir: Path
    alias: str

    def set_remote_home(self, home: Path | None) -> None:
        self.sshd.set_remote_home(home)

    def sshd_connections(self) -> int:
        from sshd import accepted_connections  # type: ignore[import-not-found]

        return int(accepted_connections(self.sshd))


def make_latency_client(work: Path, sshd: Any, relay: DelayRelay, *, control_master: bool) -> LatencySSH:
    """An ssh_config with the fixture's aliases on the relay's port, and a wrapper ``ssh``."""
    root = work / "lat"
    root.mkdir()
    host_pub = (sshd.root / "ssh_host_ed25519_key.pub").read_text().strip()
    known = root / "known_hosts"
    known.write_text(f"[127.0.0.1]:{relay.port} {host_pub}\n")
    text = sshd.config_path.read_text()
    text = text.replace(f"Port {sshd.port}", f"Port {relay.port}")
    text = text.replace(f"UserKnownHostsFile {sshd.known_hosts}", f"UserKnownHostsFile {known}")
    text = text.replace(f"ControlPath {sshd.root}/cm-%C", f"ControlPath {root}/cm-%C")
    config = root / "ssh_config"
    config.write_text(text)
    bin_dir = root / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F {shlex.quote(str(config))} "$@"\n')
    wrapper.chmod(0o755)
    return LatencySSH(sshd, relay, config, bin_dir, sshd.cm_alias if control_master else sshd.alias)


def install_logging_wrapper(work: Path, tools: bi.Tools, lat: LatencySSH) -> None:
    wrapper_dir = work / "sshlog"
    wrapper_dir.mkdir()
    wrapper = wrapper_dir / "ssh"
    wrapper.write_text(
        "#!/bin/sh\n"
        'if [ -n "$BENCH_SSH_LOG" ]; then printf \'%s %s\\n\' "$(date +%s.%N)" "$*" >>"$BENCH_SSH_LOG"; fi\n'
        f'exec {shlex.quote(str(lat.bin_dir / "ssh"))} "$@"\n'
    )
    wrapper.chmod(0o755)
    tools.sshlog_bin = wrapper_dir


def stop_masters(lat: LatencySSH, home: Path) -> None:
    """End OpenSSH control masters left by a run (found by their sockets), by ``ssh -O exit``."""
    import subprocess

    for directory in (lat.config_path.parent, home / ".seamless" / "ssh"):
        if not directory.is_dir():
            continue
        for sock in directory.glob("cm-*"):
            subprocess.run(
                ["/usr/bin/ssh", "-F", str(lat.config_path), "-o", f"ControlPath={sock}", "-O", "exit", lat.alias],
                capture_output=True, timeout=20, check=False,
            )


# --------------------------------------------------------------------------- the benchmark


def measured(lat: LatencySSH, run: Callable[[], bi.InitResult]) -> tuple[bi.InitResult, int, int]:
    before, sshd_before = lat.relay.accepted, lat.sshd_connections()
    result = run()
    time.sleep(0.3)  # let a late accept/log line land
    return result, lat.relay.accepted - before, lat.sshd_connections() - sshd_before


def bench(args: argparse.Namespace, tools: bi.Tools, lat: LatencySSH, samples: bi.Samples) -> None:
    runs_dir = tools.work / "runs"
    runs_dir.mkdir(exist_ok=True)
    for i in range(args.runs):
        for impl in args.impls:
            dirs = bi.make_run_dirs(runs_dir, f"lat-{impl}", tools, ssh_alias=lat.alias)
            lat.set_remote_home(dirs.server_home)
            try:
                cold, cold_conns, cold_sshd = measured(lat, lambda: bi.checked_init(dirs, impl, tools, ssh=lat))
                warm, warm_conns, warm_sshd = measured(lat, lambda: bi.checked_init(dirs, impl, tools, ssh=lat))
            except RuntimeError as exc:
                if impl == "ours":
                    raise
                # e.g. the reference's `ssh -N -L` tunnels under a ControlMaster: recorded, not fatal.
                samples.note("ref_failures", str(exc)[-2000:])
                bi.log(f"  run {i + 1}/{args.runs} ref FAILED: {str(exc).splitlines()[0]}")
                continue
            finally:
                lat.set_remote_home(None)
                stop_masters(lat, dirs.home)
                bi.stop_everything(dirs.homes)
            for name, result, conns, sshd_conns in (
                ("cold", cold, cold_conns, cold_sshd), ("warm", warm, warm_conns, warm_sshd)
            ):
                samples.add(f"{name}.{impl}", result.seconds)
                samples.add(f"{name}_connections.{impl}", conns)
                samples.note(f"{name}_sshd_log_connections.{impl}", sshd_conns)
                if impl == "ours":
                    samples.note(f"{name}.ours.services", bi.per_service(result.report))
                bi.log(
                    f"  run {i + 1}/{args.runs} {impl:4s} {name} {result.seconds:6.2f}s  "
                    f"SSH connections accepted: {conns} (sshd log: {sshd_conns})"
                )


def summarize(samples: bi.Samples, impls: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("cold", "warm"):
        row: dict[str, Any] = {}
        for impl in impls:
            row[impl] = samples.median(f"{name}.{impl}")
            row[f"{impl}_connections"] = samples.median(f"{name}_connections.{impl}")
        if row.get("ours") and row.get("ref"):
            row["ratio"] = round(row["ours"] / row["ref"], 3)
            row["target"] = TARGETS[name]
            row["met"] = row["ratio"] <= TARGETS[name]
        out[name] = row
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per implementation (default 1)")
    parser.add_argument("--delay-ms", type=float, default=25.0, help="delay each way (default 25: 50 ms round trip)")
    parser.add_argument("--control-master", action="store_true",
                        help="the client's ssh_config has ControlMaster auto + ControlPath + ControlPersist")
    parser.add_argument("--ours-only", action="store_true", help="skip the reference")
    parser.add_argument("--reference-python", help="python of the reference venv (default: build it)")
    parser.add_argument("--output", default=str(bi.REPO / ".cache" / "bench-latency.json"))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    args.impls = ["ours"] if args.ours_only else ["ours", "ref"]
    ref_python = bi.reference_python(args.reference_python) if not args.ours_only else Path(sys.executable)
    version = bi.code_version()
    work = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    tools = bi.make_tools(work, ref_python)
    samples = bi.Samples()
    sys.path.insert(0, str(bi.REPO / "tests"))
    from sshd import start_sshd, stop_sshd  # type: ignore[import-not-found]

    sshd = start_sshd(work / "sshd")
    relay = DelayRelay(sshd.port, args.delay_ms / 1000).start()
    failed = None
    try:
        lat = make_latency_client(work, sshd, relay, control_master=args.control_master)
        install_logging_wrapper(work, tools, lat)
        bi.log(f"sshd 127.0.0.1:{sshd.port} behind a relay 127.0.0.1:{relay.port} "
               f"(+{args.delay_ms:g} ms each way), alias {lat.alias}")
        bench(args, tools, lat, samples)
    except (RuntimeError, OSError, KeyboardInterrupt) as exc:
        failed = f"{type(exc).__name__}: {exc}"
        bi.log(f"benchmark aborted: {failed}")
    finally:
        relay.stop()
        stop_sshd(sshd)
        if not args.keep and failed is None:
            shutil.rmtree(work, ignore_errors=True)
    summary = summarize(samples, args.impls)
    rtt = 2 * args.delay_ms
    print(f"seamless-init over SSH at {rtt:g} ms round trip"
          + (" (ControlMaster in the client config)" if args.control_master else ""))
    print(f"{'':6s} {'ours s':>8s} {'ref s':>8s} {'ratio':>6s} {'target':>6s}  {'conns ours':>10s} {'conns ref':>9s}")
    for name, row in summary.items():
        def f(v: Any) -> str:
            return "-" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))
        print(f"{name:6s} {f(row.get('ours')):>8s} {f(row.get('ref')):>8s} {f(row.get('ratio')):>6s} "
              f"{f(row.get('target')):>6s}  {f(row.get('ours_connections')):>10s} {f(row.get('ref_connections')):>9s}")
    for failure in samples.extra.get("ref_failures", []):
        print(f"reference FAILED: {failure.splitlines()[0]} ... {failure.strip().splitlines()[-1]}")
    print(f"measured: seamless-config @ {version['head']}" + (" + uncommitted src/ changes" if version["src_dirty"] else ""))
    output = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "round_trip_ms": rtt,
        "control_master": args.control_master,
        "code": version,
        "targets": TARGETS,
        "summary": summary,
        "samples": samples.values,
        "details": samples.extra,
        "failed": failed,
        "reference_failures": samples.extra.get("ref_failures", []),
        "work_dir": str(work) if (args.keep or failed) else None,
        "median_note": "medians over --runs" if args.runs > 1 else "single run",
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(output, indent=2) + "\n")
    print(f"JSON: {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
