"""The client-file reuse check of ``ensure_service``, synchronously and without an event loop.

``seamless-init`` on a warm cluster only has to confirm that every service its
client files name still answers. Doing that with blocking sockets, before
anyio, asyncio, aiohttp or asyncssh are imported, saves most of its start-up
time. Anything less than "recorded and answering" returns None, and the caller
takes the full asynchronous path (which also repairs stale records).

The handshakes themselves may already be under way: see :mod:`.prefetch`
(``seamless-init`` starts those of its last good run before it reads the
configuration).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import prefetch
from .client_file import ClientFile
from .launch_config import LaunchConfig
from .prefetch import status_code

__all__ = ["probe_sync", "recorded", "remember", "reusable", "reusable_all", "status_code"]


def probe_sync(url: str, *, timeout: float = prefetch.PROBE_TIMEOUT) -> bool:
    """Did ``url`` answer 2xx to a GET? (The answer of one :func:`.prefetch.prefetch` started, if any.)"""
    answered = prefetch.answer(url)
    if answered is not None:
        return answered
    return prefetch.get_ok(url, timeout=timeout)


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


def remember(path: str | Path, confs: Iterable[Mapping[str, Any]]) -> None:
    """Keep the handshake URLs of *confs*' client records as the hint at *path* (after a good run)."""
    urls = []
    for conf in confs:
        found = recorded(conf)
        if found is not None and found[1] is not None:
            urls.append(found[1])
    prefetch.remember(path, urls)
