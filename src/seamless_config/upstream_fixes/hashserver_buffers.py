"""The hashserver checks the workarounds share: is a buffer stored, upload it again, which buffers a run needs.

Small synchronous HTTP requests of their own (``http.client``), so that they do not depend on
the seamless-remote sessions whose defects the workarounds are about. Other modules call them as
``hashserver_buffers.<name>`` so that a test that patches a name here patches it for all of them.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import time
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger("seamless_config.upstream_fixes")

REQUEST_TIMEOUT = 30.0  # one /buffer-length, re-upload or status request of the workarounds

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _request(url: str, method: str, path: str, *, body: bytes | None = None,
             timeout: float | None = None) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80,
                                      timeout=REQUEST_TIMEOUT if timeout is None else timeout)
    try:
        headers = {"Content-Type": "application/json"} if method == "GET" and body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def stored_lengths(url: str, checksums: list[str], timeout: float | None = None) -> list[Any]:
    """The hashserver's ``/buffer-length`` answer: a size (stored), ``true`` (promised only) or 0 (absent).

    The hashserver answers only after the uploads in progress for these checksums have ended.
    """
    status, data = _request(url, "GET", "/buffer-length", body=json.dumps(checksums).encode(), timeout=timeout)
    if status != 200:
        raise OSError(f"GET {url}/buffer-length answered HTTP {status}")
    result = json.loads(data)
    if not isinstance(result, list) or len(result) != len(checksums):
        raise OSError(f"GET {url}/buffer-length answered {data[:200]!r}")
    return result


def present_now(url: str, checksums: list[str], timeout: float | None = None) -> list[bool]:
    """The hashserver's ``/has-now`` answer: stored, or an upload of it in progress (promises not counted)."""
    status, data = _request(url, "GET", "/has-now", body=json.dumps(checksums).encode(), timeout=timeout)
    if status != 200:
        raise OSError(f"GET {url}/has-now answered HTTP {status}")
    result = json.loads(data)
    if not isinstance(result, list) or len(result) != len(checksums):
        raise OSError(f"GET {url}/has-now answered {data[:200]!r}")
    return [bool(r) for r in result]


def promised_not_stored(url: str, checksums: list[str], timeout: float | None = None) -> list[bool]:
    """For each checksum: the hashserver was promised it, holds no copy and receives none (a lost upload).

    hashserver 1.1.0's ``/buffer-length`` answers ``true`` for *every* promised buffer, also one it
    already stores (a client that promises a buffer again and then skips the upload because the
    hashserver has it leaves such a promise): ``/has-now`` tells the two apart.
    """
    lengths = stored_lengths(url, checksums, timeout)
    promised = [cs for cs, length in zip(checksums, lengths) if length is True]
    present = set()
    if promised:
        present = {cs for cs, here in zip(promised, present_now(url, promised, timeout)) if here}
    return [length is True and cs not in present for cs, length in zip(checksums, lengths)]


def is_stored(length: Any) -> bool:
    """Whether a ``/buffer-length`` answer means "stored" (a positive size, not ``true``)."""
    return isinstance(length, int) and not isinstance(length, bool) and length > 0


def _write_urls() -> list[str]:
    from seamless_remote import buffer_remote

    return [c.url.rstrip("/") for c in list(buffer_remote._write_server_clients) if getattr(c, "url", None)]


def write_urls() -> list[str]:
    """The URLs of the hashservers seamless-remote writes buffers to."""
    return _write_urls()


def ensure_stored(buffers: dict[str, bytes], *, timeout: float | None = None) -> dict[str, list[str]]:
    """Make sure every write hashserver stores each buffer (checksum hex -> content); upload the missing ones.

    Returns, per hashserver URL, the checksums that are still not stored (empty when all is well).
    A 202 answer to an upload ("another upload of it is in progress") is not taken as stored:
    the check is repeated after that other upload has ended.
    """
    missing_by_url: dict[str, list[str]] = {}
    checksums = list(buffers)
    for url in _write_urls():
        try:
            lengths = stored_lengths(url, checksums, timeout)
        except (OSError, ValueError) as exc:
            logger.warning("cannot ask the hashserver at %s which buffers it stores: %s", url, exc)
            missing_by_url[url] = checksums
            continue
        missing = [cs for cs, length in zip(checksums, lengths) if not is_stored(length)]
        still: list[str] = []
        for cs in missing:
            stored = False
            for _attempt in range(3):
                try:
                    status, _ = _request(url, "PUT", "/" + cs, body=bytes(buffers[cs]), timeout=timeout)
                    stored = status in (200, 201) or is_stored(stored_lengths(url, [cs], timeout)[0])
                except (OSError, ValueError) as exc:
                    logger.debug("re-upload of %s to %s failed: %s", cs, url, exc)
                if stored:
                    break
                time.sleep(0.5)
            if stored:
                logger.warning("buffer %s was not stored on the hashserver at %s although its upload was "
                               "counted as done; uploaded it again", cs, url)
            else:
                still.append(cs)
        missing_by_url[url] = still
    return missing_by_url


def checksums_in(value: Any) -> set[str]:
    """Every 64-hex-digit string in a (nested) transformation dict: the buffers a job may need."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _HEX64.match(item):
                found.add(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def local_buffer(checksum_hex: str) -> bytes | None:
    """The buffer of *checksum_hex* if this process still holds it (buffer writer queue or buffer cache)."""
    try:
        from seamless import Checksum
        from seamless.caching import buffer_writer
        from seamless.caching.buffer_cache import get_buffer_cache

        checksum = Checksum(checksum_hex)
        entry = buffer_writer._entries.get(checksum)
        buf = entry.buffer if entry is not None else get_buffer_cache().get(checksum)
        return None if buf is None else bytes(buf.content)
    except Exception:  # a cache we cannot read is a buffer we do not have
        logger.debug("no local buffer for %s", checksum_hex, exc_info=True)
        return None
