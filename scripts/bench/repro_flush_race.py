#!/usr/bin/env python3
"""Deterministic reproducer: ``buffer_writer.flush()`` loses a buffer whose background upload is in flight.

seamless-transformer 0.6.1 calls ``seamless.caching.buffer_writer.flush()``
(seamless-core 0.1.4) right before it sends a transformation to the
jobserver. This script does the same with one large buffer on a real
hashserver: the background writer promises it and starts its PUT; flush's
``/has-now`` pre-check counts the in-flight PUT as present and marks the
buffer written; flush then closes the sessions of every thread, which aborts
that PUT. The hashserver logs ``PUT <checksum> client disconnected``, drops
the partial file, and keeps the promise: a reader (the jobserver's worker)
waits for it until the promise's 10-minute TTL.

    .venv/bin/python scripts/bench/repro_flush_race.py            # as published
    .venv/bin/python scripts/bench/repro_flush_race.py --fixed    # with seamless_config.upstream_fixes applied

Prints one JSON line; exit code 1 when the buffer was lost.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def buffer_length(url: str, checksum: str) -> object:
    request = urllib.request.Request(url + "/buffer-length", data=json.dumps([checksum]).encode(), method="GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixed", action="store_true", help="apply seamless_config.upstream_fixes first")
    parser.add_argument("--megabytes", type=int, default=64)
    parser.add_argument("--pause", type=float, default=2.0, help="stop the hashserver this long after /has-now")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="flush-race-"))
    port = free_port()
    log = open(tmp / "hashserver.log", "w")
    hashserver = subprocess.Popen([str(Path(sys.executable).parent / "hashserver"), str(tmp / "buffers"),
                                   "--writable", "--port", str(port), "--host", "127.0.0.1"],
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        (tmp / "buffers").mkdir(exist_ok=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/healthcheck", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

        from seamless import Buffer
        from seamless.caching import buffer_writer
        from seamless_remote import buffer_remote

        if args.fixed:
            from seamless_config import upstream_fixes

            print([o for o in upstream_fixes.apply_all()], file=sys.stderr)
        buffer_remote.define_extern_client("repro", "hashserver", url=url, readonly=False)
        buffer_remote.activate(no_main=True, extern_clients=["repro"])

        buf = Buffer(os.urandom(args.megabytes * 1024 * 1024))
        checksum = buf.get_checksum().hex()
        buffer_writer.register(buf)
        # Wait until the background writer's PUT is in flight (the hashserver counts it in /has-now).
        deadline = time.monotonic() + 30
        while not buffer_writer._has_sync(url, [checksum], 5.0, now=True) and time.monotonic() < deadline:
            time.sleep(0.005)
        if args.pause:
            # A slow hashserver (a loaded machine): it stops reading for a moment right after it
            # answered flush's /has-now, as a CPU-starved hashserver does.
            original_has_sync = buffer_writer._has_sync

            def has_sync_then_pause(*a: object, **kw: object) -> object:
                result = original_has_sync(*a, **kw)
                if not paused:
                    paused.append(True)
                    os.kill(hashserver.pid, signal.SIGSTOP)
                    threading.Timer(args.pause, os.kill, (hashserver.pid, signal.SIGCONT)).start()
                return result

            paused: list[bool] = []
            buffer_writer._has_sync = has_sync_then_pause
        buffer_writer.flush()  # what seamless-transformer 0.6.1 does before the jobserver dispatch
        time.sleep(args.pause)
        time.sleep(1.0)
        length = buffer_length(url, checksum)
        log.flush()
        lines = [line.strip() for line in (tmp / "hashserver.log").read_text().splitlines() if checksum in line]
        lost = length is True or length == 0  # true: promised, not present; 0: absent
        print(json.dumps({"fixed": args.fixed, "checksum": checksum[:16], "buffer_length": length,
                          "lost": lost, "hashserver_log": lines}))
        return 1 if lost else 0
    finally:
        hashserver.terminate()
        hashserver.wait(10)


if __name__ == "__main__":
    sys.exit(main())
