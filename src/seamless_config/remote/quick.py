"""The client-file reuse check of ``ensure_service``, synchronously and without an event loop.

``seamless-init`` on a warm cluster only has to confirm that every service its
client files name still answers. Doing that with blocking sockets, before
anyio, asyncio, aiohttp or asyncssh are imported, saves most of its start-up
time. Anything less than "recorded and answering" returns None, and the caller
takes the full asynchronous path (which also repairs stale records).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .client_file import ClientFile
from .launch_config import LaunchConfig


def status_code(head: bytes) -> int | None:
    """The status code of an HTTP response head (``HTTP/1.1 200 OK...``), or None if it is not one."""
    fields = head.split(b"\r\n", 1)[0].split(b" ", 2)
    if len(fields) < 2 or not fields[0].startswith(b"HTTP/") or not fields[1].isdigit():
        return None
    return int(fields[1])


def probe_sync(url: str, *, timeout: float = 2.0) -> bool:
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


def reusable(conf: Mapping[str, Any]) -> tuple[dict[str, Any], float] | None:
    """The recorded connection of *conf*'s service if it answers now, with the seconds it took."""
    start = time.monotonic()
    try:
        cfg = LaunchConfig.from_mapping(conf)
    except Exception:
        return None  # the full path reports it properly
    record = ClientFile.for_key(cfg.key).read()
    if record is None or record.get("status") == "stale":
        return None
    if cfg.handshake is not None:
        host = record.get("hostname")
        try:
            url = cfg.handshake.url(host if isinstance(host, str) else "", cfg.handshake.port_of(record))
        except (KeyError, ValueError, TypeError):
            return None
        if not isinstance(host, str) or not probe_sync(url):
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
