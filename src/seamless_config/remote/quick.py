"""The client-file reuse check of ``ensure_service``, synchronously and without an event loop.

``seamless-init`` on a warm cluster only has to confirm that every service its
client files name still answers. Doing that with blocking sockets, before
anyio, asyncio, aiohttp or asyncssh are imported, saves most of its start-up
time. Anything less than "recorded and answering" returns None, and the caller
takes the full asynchronous path (which also repairs stale records).

Through a tunnel each handshake costs two round trips (channel open, GET),
more than the rest of a warm run. So ``seamless-init`` remembers the
handshake URLs of its last good run (a *hint*, per HOME, directory and stage)
and :func:`prefetch` starts those GETs before the configuration is even
resolved. A prefetched answer is used only for the very URL the resolved
configuration's client record names (and only once); a stale hint costs a few
wasted GETs, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .client_file import ClientFile
from .launch_config import LaunchConfig, client_directory

logger = logging.getLogger("seamless_config.remote.quick")

PROBE_TIMEOUT = 2.0
# url -> (thread, [answer]): GETs started by prefetch(), each consumed at most once by probe_sync().
_PREFETCHED: dict[str, tuple[threading.Thread, list[bool]]] = {}
_PREFETCH_LOCK = threading.Lock()


def status_code(head: bytes) -> int | None:
    """The status code of an HTTP response head (``HTTP/1.1 200 OK...``), or None if it is not one."""
    fields = head.split(b"\r\n", 1)[0].split(b" ", 2)
    if len(fields) < 2 or not fields[0].startswith(b"HTTP/") or not fields[1].isdigit():
        return None
    return int(fields[1])


def probe_sync(url: str, *, timeout: float = PROBE_TIMEOUT) -> bool:
    """Did ``url`` answer 2xx to a GET (one started by :func:`prefetch` if there is one)?"""
    with _PREFETCH_LOCK:
        started = _PREFETCHED.pop(url, None)
    if started is not None:
        thread, answer = started
        thread.join(timeout + 1.0)
        if answer:
            return answer[0]
    return _get_ok(url, timeout=timeout)


def _get_ok(url: str, *, timeout: float) -> bool:
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


def recorded(conf: Mapping[str, Any]) -> tuple[dict[str, Any], str | None] | None:
    """The client record of *conf*'s service and its handshake URL (None: no handshake), or None."""
    try:
        cfg = LaunchConfig.from_mapping(conf)
    except Exception:
        return None  # the full path reports it properly
    record = ClientFile.for_key(cfg.key).read()
    if record is None or record.get("status") == "stale":
        return None
    if cfg.handshake is None:
        return record, None
    host = record.get("hostname")
    if not isinstance(host, str):
        return None
    try:
        return record, cfg.handshake.url(host, cfg.handshake.port_of(record))
    except (KeyError, ValueError, TypeError):
        return None


def reusable(conf: Mapping[str, Any]) -> tuple[dict[str, Any], float] | None:
    """The recorded connection of *conf*'s service if it answers now, with the seconds it took."""
    start = time.monotonic()
    found = recorded(conf)
    if found is None:
        return None
    record, url = found
    if url is not None and not probe_sync(url):
        return None
    return record, time.monotonic() - start


def reusable_all(confs: list[Mapping[str, Any]]) -> list[tuple[dict[str, Any], float] | None]:
    """:func:`reusable` for every conf at once (threads): over a tunnel each check costs round
    trips, so checking the services of a frontend one after the other would add them up."""
    if len(confs) <= 1:
        return [reusable(conf) for conf in confs]
    import threading

    results: list[tuple[dict[str, Any], float] | None] = [None] * len(confs)

    def check(index: int) -> None:
        results[index] = reusable(confs[index])

    threads = [threading.Thread(target=check, args=(i,), daemon=True) for i in range(len(confs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10.0)  # each probe is bounded by its own socket timeout
    return results


# ------------------------------------------------------------------ hints: start the handshakes early


def hint_path(workdir: str, stage: str | None, substage: str | None) -> Path:
    """Where the handshake URLs of the last good ``seamless-init`` in *workdir* (and stage) are kept."""
    key = "\0".join([str(client_directory()), os.path.abspath(workdir), stage or "", substage or ""])
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return Path.home() / ".cache" / "seamless-config" / "warm-hints" / f"{digest}.json"


def prefetch(path: Path) -> int:
    """Start (threads) a GET of every URL the hint at *path* names; how many were started."""
    try:
        urls = json.loads(path.read_text())
    except (OSError, ValueError):
        return 0
    if not isinstance(urls, list):
        return 0
    started = 0
    for url in urls[:16]:
        if not isinstance(url, str) or not url.startswith("http://"):
            continue
        answer: list[bool] = []

        def get(url: str = url, answer: list[bool] = answer) -> None:
            answer.append(_get_ok(url, timeout=PROBE_TIMEOUT))

        # A daemon thread bounded by the socket timeout: an unused (stale) GET ends on its own.
        thread = threading.Thread(target=get, daemon=True, name="seamless-prefetch")
        with _PREFETCH_LOCK:
            if url in _PREFETCHED:
                continue
            _PREFETCHED[url] = (thread, answer)
        thread.start()
        started += 1
    return started


def remember(path: Path, confs: Iterable[Mapping[str, Any]]) -> None:
    """Write the hint at *path*: the handshake URLs of *confs*' client records (after a good run)."""
    urls = []
    for conf in confs:
        found = recorded(conf)
        if found is not None and found[1] is not None:
            urls.append(found[1])
    try:
        if path.is_file() and json.loads(path.read_text()) == urls:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(urls))
        tmp.replace(path)
    except (OSError, ValueError) as exc:  # only a missed speed-up
        logger.debug("cannot write the warm hint %s: %s", path, exc)
