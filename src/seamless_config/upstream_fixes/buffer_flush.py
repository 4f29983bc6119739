"""``flush-aborts-inflight-uploads`` (seamless-core 0.1.4).

seamless-transformer calls ``seamless.caching.buffer_writer.flush()`` right
before it sends a transformation to the jobserver. ``flush()`` counts a buffer
whose background upload is still in flight as written (the hashserver's
``/has-now`` answers yes for an upload in progress), then closes the HTTP
sessions of every thread, which aborts that upload; with no timeout it gives
each request 1 s, so a busy hashserver makes it skip the upload altogether.
The retries of the aborted uploads share one session and close it under each
other (seamless-remote's ``restart()``) until all five attempts fail. The
promise stays on the hashserver, the jobserver's worker waits for the buffer,
and ``run()`` hangs.

The workaround wraps ``flush()``: it first lets the background writer finish
the uploads it has in flight (bounded), then runs the original, then asks
every write hashserver whether each buffer that was pending is really stored
(``/buffer-length``, which waits for uploads in progress and tells a promise
from a stored buffer) and uploads the missing ones again. Before a dispatch
(``flush()`` without a timeout) a buffer that still cannot be stored raises
:class:`~seamless_config.errors.StalledRunError` naming the hashserver: the
run fails instead of waiting for ever.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Callable
from typing import Any

from ..errors import StalledRunError
from . import FixOutcome, Workaround, hashserver_buffers

logger = logging.getLogger("seamless_config.upstream_fixes")

NAME = "flush-aborts-inflight-uploads"
# The seamless-core versions whose buffer_writer.flush() aborts the background writer's uploads.
AFFECTED = frozenset({"0.1.4"})

FLUSH_WAIT_SECONDS = 60.0  # at most this long for the writer's own uploads to finish before flush() runs


def _flush_safely(original: Callable[..., None], timeout: float | None) -> None:
    from seamless.caching import buffer_writer

    start = time.monotonic()
    with buffer_writer._lock:
        entries = list(buffer_writer._entries.values())
    snapshot = {e.checksum.hex(): e.buffer for e in entries if e.buffer is not None}
    in_flight = [e.future for e in entries if e.queued and not e.future.done()]
    if in_flight:
        budget = FLUSH_WAIT_SECONDS if timeout is None else min(FLUSH_WAIT_SECONDS, timeout)
        _, not_done = concurrent.futures.wait(in_flight, timeout=budget)
        if not_done:
            logger.warning("%d background buffer uploads did not finish within %.0fs; flushing anyway",
                           len(not_done), budget)
    remaining = None if timeout is None else max(0.5, timeout - (time.monotonic() - start))
    original(remaining)
    if not snapshot:
        return
    contents = {}
    for cs, buf in snapshot.items():
        try:
            contents[cs] = bytes(buf.content)
        except Exception:  # a buffer without content cannot be uploaded again: leave it to the original
            logger.debug("buffer %s has no content to verify", cs, exc_info=True)
    request_timeout = hashserver_buffers.REQUEST_TIMEOUT if timeout is None else max(1.0, timeout)
    missing = hashserver_buffers.ensure_stored(contents, timeout=request_timeout)
    not_stored = {cs for lost in missing.values() for cs in lost}
    with buffer_writer._lock:  # what is verified stored is done, as the original does for its successes
        for checksum in [c for c in buffer_writer._entries if c.hex() in contents and c.hex() not in not_stored]:
            entry = buffer_writer._entries.pop(checksum)
            if not entry.future.done():
                entry.future.set_result(True)
    failed = {url: cs for url, cs in missing.items() if cs}
    if not failed:
        return
    url, lost = next(iter(failed.items()))
    message = (f"the hashserver at {url} does not store buffer {lost[0]} (and {len(lost) - 1} more) although this "
               "client promised and uploaded it; a transformation that needs it would wait for it for ever. "
               "Check that the hashserver runs and has disk space (its log is in "
               "~/.remote-http-launcher/server/), then run again.")
    if timeout is None:  # before a dispatch: fail now rather than hang
        raise StalledRunError(message, service="hashserver", url=url, waited_for=f"buffer {lost[0]}")
    logger.warning("%s", message)


def apply(version: str) -> FixOutcome:
    try:
        from seamless.caching import buffer_writer
        from seamless_remote import buffer_remote
    except ImportError as exc:
        return FixOutcome(NAME, False, f"cannot import the affected modules: {exc}")
    original: Any = getattr(buffer_writer, "flush", None)
    if getattr(original, "_seamless_config_fix", False):
        return FixOutcome(NAME, True, "already applied")
    needed = ("_entries", "_lock", "_stop_worker")
    if (getattr(original, "__module__", None) != buffer_writer.__name__
            or not all(hasattr(buffer_writer, n) for n in needed)
            or not hasattr(buffer_remote, "_write_server_clients")):
        return FixOutcome(NAME, False, "seamless.caching.buffer_writer.flush is not the analysed code")

    def flush(timeout: float | None = None) -> None:
        _flush_safely(original, timeout)

    flush._seamless_config_fix = True  # type: ignore[attr-defined]
    flush.__wrapped__ = original  # type: ignore[attr-defined]
    buffer_writer.flush = flush
    return FixOutcome(NAME, True, f"seamless-core {version}: flush() lets in-flight uploads finish and "
                                  "verifies every pending buffer on the hashserver")


WORKAROUND = Workaround(NAME, "seamless-core", AFFECTED, apply)
