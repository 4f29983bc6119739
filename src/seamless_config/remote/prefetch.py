"""Blocking HTTP handshakes, and starting them before the configuration is resolved (stdlib only).

Through a tunnel each handshake costs two round trips (channel open, GET):
more than the rest of a warm ``seamless-init``. So ``seamless-init`` keeps the
handshake URLs of its last good run (a *hint*, per HOME, launcher directory,
working directory and stage) and :func:`prefetch` starts those GETs in
threads first thing, before the configuration is even read; the warm check
(:mod:`.quick`) then takes an answer with :func:`answer` only for the URL the
resolved configuration's client record names, and only once. A stale hint
costs a few wasted GETs, never a wrong answer.

This module imports nothing of the package, so that the GETs start as early
as possible in a new process.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

PROBE_TIMEOUT = 2.0
MAX_PREFETCH = 16
LAUNCHER_DIR_ENV = "REMOTE_HTTP_LAUNCHER_DIR"  # where the client records are (see launch_config)

# url -> (thread, [answer]): GETs started by prefetch(), each taken at most once by answer().
_STARTED: dict[str, tuple[threading.Thread, list[bool]]] = {}
_LOCK = threading.Lock()


def status_code(head: bytes) -> int | None:
    """The status code of an HTTP response head (``HTTP/1.1 200 OK...``), or None if it is not one."""
    fields = head.split(b"\r\n", 1)[0].split(b" ", 2)
    if len(fields) < 2 or not fields[0].startswith(b"HTTP/") or not fields[1].isdigit():
        return None
    return int(fields[1])


def get_ok(url: str, *, timeout: float = PROBE_TIMEOUT) -> bool:
    """One blocking HTTP/1.1 GET: did ``url`` answer 2xx?"""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        return False
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode("ascii")
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
            sock.sendall(request)
            head = b""
            while b"\r\n" not in head and len(head) < 4096:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                head += chunk
    except OSError:
        return False
    code = status_code(head)
    return code is not None and 200 <= code < 300


def hint_path(workdir: str, stage: str | None, substage: str | None) -> Path:
    """Where the handshake URLs of the last good ``seamless-init`` in *workdir* (and stage) are kept."""
    key = "\0".join([str(Path.home()), os.environ.get(LAUNCHER_DIR_ENV, ""), os.path.abspath(workdir),
                     stage or "", substage or ""])
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return Path.home() / ".cache" / "seamless-config" / "warm-hints" / f"{digest}.json"


def prefetch(path: Path) -> int:
    """Start a GET (a thread each) of every URL the hint at *path* names; how many were started."""
    try:
        urls = json.loads(path.read_text())
    except (OSError, ValueError):
        return 0
    if not isinstance(urls, list):
        return 0
    started = 0
    for url in urls[:MAX_PREFETCH]:
        if not isinstance(url, str) or not url.startswith("http://"):
            continue
        result: list[bool] = []

        def get(url: str = url, result: list[bool] = result) -> None:
            result.append(get_ok(url))

        # A daemon thread bounded by the socket timeout: a GET nobody takes ends on its own.
        thread = threading.Thread(target=get, daemon=True, name="seamless-prefetch")
        with _LOCK:
            if url in _STARTED:
                continue
            _STARTED[url] = (thread, result)
        thread.start()
        started += 1
    return started


def answer(url: str) -> bool | None:
    """The answer of the GET of *url* that :func:`prefetch` started (waiting for it), or None if none."""
    with _LOCK:
        started = _STARTED.pop(url, None)
    if started is None:
        return None
    thread, result = started
    thread.join(PROBE_TIMEOUT + 1.0)
    return result[0] if result else None


def remember(path: Path, urls: Iterable[str]) -> None:
    """Write the hint at *path* (after a good run); silently skipped if it cannot be written."""
    wanted = list(urls)
    try:
        if path.is_file() and json.loads(path.read_text()) == wanted:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(wanted))
        tmp.replace(path)
    except (OSError, ValueError):
        return  # only a missed speed-up next time
