"""Blocking HTTP handshakes, and starting them before the configuration is resolved (stdlib only).

Through a tunnel each handshake costs two round trips (channel open, GET):
more than the rest of a warm ``seamless-init``. So ``seamless-init`` keeps the
handshake URLs of its last good run (a *hint*, per HOME, launcher directory,
working directory and stage) and :func:`prefetch` starts those GETs in
threads first thing, before the configuration is even read; the warm check
(:mod:`.quick`) then takes an answer with :func:`answer` only for the URL the
resolved configuration's client record names, only once, and only if it is
fresh. A stale hint costs a few wasted GETs, never a wrong answer.

Only loopback URLs are prefetched (the tunnel case, where the round trips
are): nothing leaves the machine before the configuration says so. The hint
is private (0600 in a 0700 directory) and read only if it is the user's own.

This module imports nothing of the package and little of the standard
library (no pathlib, hashlib or urllib: ~10 ms of a warm run), so that the GETs
start as early as possible in a new process.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

PROBE_TIMEOUT = 2.0
FRESH_FOR = 5.0  # an answer started longer ago than this is not taken (a long-lived process, a notebook)
MAX_PREFETCH = 16
MAX_HINT_BYTES = 64 * 1024
LAUNCHER_DIR_ENV = "REMOTE_HTTP_LAUNCHER_DIR"  # where the client records are (see launch_config)

# url -> (thread, [answer], started at): GETs started by prefetch(), each taken at most once by answer().
_STARTED: dict[str, tuple[threading.Thread, list[bool], float]] = {}
_LOCK = threading.Lock()


def status_code(head: bytes) -> int | None:
    """The status code of an HTTP response head (``HTTP/1.1 200 OK...``), or None if it is not one."""
    fields = head.split(b"\r\n", 1)[0].split(b" ", 2)
    if len(fields) < 2 or not fields[0].startswith(b"HTTP/") or not fields[1].isdigit():
        return None
    return int(fields[1])


def split_http_url(url: str) -> tuple[str, int, str, str] | None:
    """``http://HOST:PORT/PATH?QUERY`` -> (host, port, target, netloc); None if it is not one (port required)."""
    if not url.startswith("http://") or not url.isascii() or not url.isprintable() or " " in url:
        return None  # no control characters, CR/LF or spaces: they would reach the request line
    rest = url[len("http://"):]
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    netloc, target = rest[:cut], rest[cut:].split("#", 1)[0]
    if target.startswith("?") or not target:
        target = "/" + target
    if netloc.startswith("["):  # [v6]:port
        host, _, port = netloc[1:].partition("]:")
    else:
        host, _, port = netloc.rpartition(":")
    if not host or "@" in host or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
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
    except (OSError, UnicodeError, ValueError):
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


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ``::1`` (where the tunnels listen)."""
    if host in ("localhost", "::1"):
        return True
    fields = host.split(".")
    return len(fields) == 4 and fields[0] == "127" and all(f.isascii() and f.isdigit() and int(f) < 256 for f in fields)


def _read_hint(path: str | Path) -> object:
    """The hint's JSON if it is a regular file of this user's, not too big; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_size > MAX_HINT_BYTES:
            return None
        with os.fdopen(fd, encoding="utf-8") as handle:
            fd = -1
            return json.load(handle)
    except (OSError, ValueError):
        return None
    finally:
        if fd >= 0:
            os.close(fd)


def prefetch(path: str | Path) -> int:
    """Start a GET (a thread each) of every loopback URL the hint at *path* names; how many were started.

    Answers a previous call started and nobody took are dropped first.
    """
    forget()
    urls = _read_hint(path)
    if not isinstance(urls, list):
        return 0
    started = 0
    for url in urls[:MAX_PREFETCH]:
        parts = split_http_url(url) if isinstance(url, str) else None
        if parts is None or not is_loopback(parts[0]):
            continue
        result: list[bool] = []

        def get(url: str = url, result: list[bool] = result) -> None:
            result.append(get_ok(url))

        # A daemon thread bounded by the socket timeout: a GET nobody takes ends on its own.
        thread = threading.Thread(target=get, daemon=True, name="seamless-prefetch")
        with _LOCK:
            if url in _STARTED:
                continue
            _STARTED[url] = (thread, result, time.monotonic())
            thread.start()
        started += 1
    return started


def forget() -> None:
    """Drop the answers nobody took (the end of a run)."""
    with _LOCK:
        _STARTED.clear()


def answer(url: str) -> bool | None:
    """The answer of the GET of *url* that :func:`prefetch` started (waiting for it), or None if none."""
    with _LOCK:
        started = _STARTED.pop(url, None)
    if started is None:
        return None
    thread, result, since = started
    if time.monotonic() - since > FRESH_FOR:
        return None  # too old to say anything about the service now
    thread.join(PROBE_TIMEOUT + 1.0)
    return result[0] if result else None


def remember(path: str | Path, urls: Iterable[str]) -> None:
    """Write the hint at *path* (after a good run); silently skipped if it cannot be written."""
    wanted = list(urls)
    if _read_hint(path) == wanted:
        return
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(wanted, handle)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return  # only a missed speed-up next time
