#!/usr/bin/env python3
"""Reproducer for the soak's remaining hang: an input upload lost around the jobserver dispatch.

A soak with only the fault that preceded the hangs: each cycle SIGKILLs the
jobserver, relaunches it with ``seamless-init``, and runs one new
transformation through it in a fresh client process. The client is
instrumented (``REPRO-TRACE`` lines on its stderr): every promise / PUT /
has-now / session close of seamless's buffer writer and seamless-remote's
buffer client, with the thread and the outcome. A run without a result after
``--hang-after`` seconds counts as a hang; then the client dumps its buffer
writer's entries and every thread's stack, and the hashserver log lines of
the transformation's buffers are printed.

    .venv/bin/python scripts/bench/repro_upload_race.py --cycles 15
    .venv/bin/python scripts/bench/repro_upload_race.py --cycles 8 --no-kill --pause-hashserver 1 --no-fix

Exit code 1 if any run hung.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for sub in ("tests/soak", "tests/faults", "tests/orchestrator", "tests/e2e", "tests"):
    sys.path.insert(0, str(ROOT / sub))

from fault_helpers import kill_service  # noqa: E402
from orch_helpers import make_project, teardown_project  # noqa: E402

CLIENT = r'''
import faulthandler, json, os, sys, threading, time
HANG_AFTER = float(os.environ["REPRO_HANG_AFTER"])
T0 = time.monotonic()

def trace(*parts):
    print("REPRO-TRACE %7.3f [%s]" % (time.monotonic() - T0, threading.current_thread().name),
          *parts, file=sys.stderr, flush=True)

import seamless
import seamless.config
from seamless.transformer import delayed
if os.environ.get("REPRO_NO_FIX"):
    from seamless_config import upstream_fixes
    upstream_fixes._FIXES = tuple(name for name in upstream_fixes._FIXES
                                  if name not in ("flush-aborts-inflight-uploads", "jobserver-wait-unbounded"))
from seamless.caching import buffer_writer
from seamless_remote import buffer_client, client as client_mod

def wrap_async(cls, name, label):
    original = getattr(cls, name)
    async def wrapper(self, checksum, *args, **kwargs):
        trace(label, "start", str(checksum)[:12])
        try:
            result = await original(self, checksum, *args, **kwargs)
        except BaseException as exc:
            trace(label, "raised", str(checksum)[:12], repr(exc)[:200])
            raise
        trace(label, "->", str(checksum)[:12], repr(result))
        return result
    setattr(cls, name, wrapper)

wrap_async(buffer_client.BufferClient, "_write_unthrottled", "async PUT")
wrap_async(buffer_client.BufferClient, "_promise_unthrottled", "async PROMISE")
_orig_put_sync = buffer_writer._put_sync
def _put_sync(url, checksum, buffer, timeout):
    trace("sync PUT start", checksum.hex()[:12], "timeout", timeout)
    ok = _orig_put_sync(url, checksum, buffer, timeout)
    trace("sync PUT ->", checksum.hex()[:12], ok)
    return ok
buffer_writer._put_sync = _put_sync
_orig_has_sync = buffer_writer._has_sync
PAUSE = float(os.environ.get("REPRO_PAUSE_HASHSERVER", "0"))
_paused = []
def _has_sync(url, checksums, timeout, *, now):
    present = _orig_has_sync(url, checksums, timeout, now=now)
    if PAUSE and not _paused:
        # A CPU-starved hashserver: it stops for a moment right after answering flush's /has-now.
        import signal
        _paused.append(True)
        pid = int(os.environ["REPRO_HASHSERVER_PID"])
        os.kill(pid, signal.SIGSTOP)
        threading.Timer(PAUSE, os.kill, (pid, signal.SIGCONT)).start()
        trace("hashserver paused for", PAUSE, "s")
    trace("sync has-now", [c[:12] for c in checksums], "present", [c[:12] for c in present])
    return present
buffer_writer._has_sync = _has_sync
_orig_close = client_mod.Client._close_sessions
def _close_sessions(self):
    trace("close ALL sessions of", type(self).__name__, [t.name for t in self._sessions])
    return _orig_close(self)
client_mod.Client._close_sessions = _close_sessions

def dump():
    trace("HANG: buffer writer entries")
    for cs, entry in list(buffer_writer._entries.items()):
        fut = entry.future
        exc = fut.exception(0) if fut.done() and not fut.cancelled() else None
        trace("  WRITER-ENTRY", cs.hex(), "done", fut.done(), "queued", entry.queued, "exc", repr(exc))
    from seamless_remote import buffer_remote
    for c in buffer_remote._write_server_clients:
        trace("  WRITE-CLIENT", c.url, "initialized", c._initialized, "shutdown", c._shutdown,
              "sessions", [t.name for t in c._sessions])
    trace("  writer thread", buffer_writer._thread)
    faulthandler.dump_traceback(all_threads=True)
    sys.stderr.flush()
    os._exit(3)

timer = threading.Timer(HANG_AFTER, dump); timer.daemon = True; timer.start()

seamless.config.init()  # applies seamless_config.upstream_fixes (unless REPRO_NO_FIX is set)
trace("init done")
_orig_flush = buffer_writer.flush  # traced after init, so that the fixes see the published flush()
def flush(timeout=None):
    trace("flush start, entries", {c.hex()[:12]: e.future.done() for c, e in list(buffer_writer._entries.items())})
    try:
        _orig_flush(timeout)
    finally:
        trace("flush end, entries", {c.hex()[:12]: e.future.done() for c, e in list(buffer_writer._entries.items())})
buffer_writer.flush = flush

@delayed
def add(a, b):
    return a + b

k = int(sys.argv[1])
result = add(k, 1000).run()
trace("result", result)
print("REPRO-RESULT", json.dumps({"result": result}), flush=True)
timer.cancel()
seamless.close()
'''


def checksum_lines(log_text: str, prefixes: set[str]) -> list[str]:
    return [line for line in log_text.splitlines() if any(p in line for p in prefixes)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=15)
    parser.add_argument("--hang-after", type=float, default=45.0)
    parser.add_argument("--no-kill", action="store_true", help="do not kill the jobserver between runs")
    parser.add_argument("--start", type=int, default=0, help="first k (new transformations each run)")
    parser.add_argument("--pause-hashserver", type=float, default=0.0,
                        help="stop the hashserver this long right after flush's first /has-now (a loaded machine)")
    parser.add_argument("--no-fix", action="store_true",
                        help="without this project's flush and jobserver-wait workarounds (as published)")
    parser.add_argument("--verbose", action="store_true", help="print the client trace of every run")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the client")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="seamless-repro-"))
    proj = make_project(root / "p")
    proj.env["REPRO_HANG_AFTER"] = str(args.hang_after)
    for item in args.env:
        name, _, value = item.partition("=")
        proj.env[name] = value
    if args.no_fix:
        proj.env["REPRO_NO_FIX"] = "1"
    hangs = 0
    try:
        first = proj.init("--json", "--timeout", "60")
        assert first.returncode == 0, first.describe()
        for cycle in range(args.cycles):
            if not args.no_kill:
                kill_service(proj, "jobserver")
                again = proj.init("--json", "--timeout", "60")
                if again.returncode != 0:
                    print(f"cycle {cycle}: init failed\n{again.describe()[-3000:]}", flush=True)
                    continue
            proj.env["REPRO_PAUSE_HASHSERVER"] = str(args.pause_hashserver)
            proj.env["REPRO_HASHSERVER_PID"] = str(proj.state_for("hashserver")[1]["pid"])
            logs = {p: p.stat().st_size for p in proj.server_dir.glob("hashserver-*.log")}
            k = args.start + cycle
            run = proj.run_script("repro_client.py", CLIENT, str(k), timeout=args.hang_after + 30)
            ok = run.returncode == 0 and "REPRO-RESULT" in run.stdout
            print(f"cycle {cycle} k={k}: {'ok' if ok else 'HANG/FAIL rc=' + str(run.returncode)} "
                  f"{run.seconds:.1f}s", flush=True)
            if not ok:
                hangs += 1
                touched = set(re.findall(r"(?:PUT|PROMISE|has-now)[^\n]*?([0-9a-f]{12})", run.stderr))
                print("--- client trace ---")
                print("\n".join(line for line in run.stderr.splitlines() if "REPRO-TRACE" in line
                                or line.startswith(("Thread", "  File", "Current thread"))))
                for log, size in logs.items():
                    text = log.read_text(errors="replace")[size:]
                    print(f"--- {log.name} (new lines for the traced checksums) ---")
                    print("\n".join(checksum_lines(text, touched)))
                for log in proj.server_dir.glob("jobserver-*.log"):
                    print(f"--- {log.name} (tail) ---")
                    print("\n".join(log.read_text(errors="replace").splitlines()[-15:]))
            elif args.verbose:
                print("\n".join(line for line in run.stderr.splitlines() if "REPRO-TRACE" in line))
    finally:
        survivors = teardown_project(proj)
    print("REPRO", json.dumps({"cycles": args.cycles, "hangs": hangs, "survivors": survivors}))
    return 1 if hangs else 0


if __name__ == "__main__":
    sys.exit(main())
