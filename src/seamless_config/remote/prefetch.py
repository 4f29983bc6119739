"""Blocking HTTP handshakes, and starting them before the configuration is resolved (stdlib only).

Through a tunnel each handshake costs two round trips (channel open, GET):
more than the rest of a warm ``seamless-init``. So ``seamless-init`` keeps the
handshake URLs of its last good run (a *hint*, per HOME, launcher directory,
working directory and stage) and :func:`prefetch` starts those GETs in
threads first thing, before the configuration is even read; the warm check
(:mod:`.quick`) then takes an answer with :func:`answer` only for the URL the
resolved configuration's client record names, and only once. A stale hint
costs a few wasted GETs, never a wrong answer.

This module imports nothing of the package and little of the standard
library (no pathlib, hashlib or urllib: ~10 ms of a warm run), so that the GETs
start as early as possible in a new process.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

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


def split_http_url(url: str) -> tuple[str, int, str, str] | None:
    """``http://HOST:PORT/PATH?QUERY`` -> (host, port, target, netloc); None if it is not one (port required)."""
    if not url.startswith("http://"):
        return None
    rest = url[len("http://"):]
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    netloc, target = rest[:cut], rest[cut:].split("#", 1)[0]
    if target.startswith("?") or not target:
        target = "/" + target
    if netloc.startswith("["):  # [v6]:port
        host, _, port = netloc[1:].partition("]:")
    else:
        host, _, port = netloc.rpartition(":")
    if not host or "@" in host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port), target, netloc


def get_ok(url: str, *, timeout: float = PROBE_TIMEOUT) -> bool:
    """One blocking HTTP/1.1 GET: did ``url`` answer 2xx?"""
    parts = split_http_url(url)
    if parts is None:
        return False
    host, port, target, netloc = parts
    request = f"GET {target} HTTP/1.1\r\nHost: {netloc}\r\nConnection: close\r\n\r\n".encode("ascii")
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
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


def hint_path(workdir: str, stage: str | None, substage: str | None) -> str:
    """Where the handshake URLs of the last good ``seamless-init`` in *workdir* (and stage) are kept."""
    home = os.path.expanduser("~")
    key = "\0".join([home, os.environ.get(LAUNCHER_DIR_ENV, ""), os.path.abspath(workdir), stage or "", substage or ""])
    raw = key.encode(errors="surrogateescape")
    digest = f"{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}{len(raw):x}"  # a file name, not a secret
    return os.path.join(home, ".cache", "seamless-config", "warm-hints", digest + ".json")


def prefetch(path: str | Path) -> int:
    """Start a GET (a thread each) of every URL the hint at *path* names; how many were started."""
    try:
        with open(path, encoding="utf-8") as handle:
            urls = json.load(handle)
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


def remember(path: str | Path, urls: Iterable[str]) -> None:
    """Write the hint at *path* (after a good run); silently skipped if it cannot be written."""
    wanted = list(urls)
    try:
        try:
            with open(path, encoding="utf-8") as handle:
                if json.load(handle) == wanted:
                    return
        except (OSError, ValueError):
            pass
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(wanted, handle)
        os.replace(tmp, path)
    except OSError:
        return  # only a missed speed-up next time
