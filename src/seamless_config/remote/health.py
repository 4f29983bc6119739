"""HTTP health checks (the launcher's "handshake").

Every check is ``probe()``, one plain HTTP/1.1 GET over an anyio stream:
importing aiohttp costs 0.1-0.2 s, more than the whole warm check, and a
handshake needs nothing more than a status line.
"""

from __future__ import annotations

import errno

import anyio

from .prefetch import status_code

RETRY_INTERVAL = 0.03


async def probe(url: str, *, timeout: float = 5.0) -> str | None:
    """One GET of an ``http://host:port/path`` URL; None if it answered 2xx, else why not."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        return f"cannot probe {url}"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Connection: close\r\nUser-Agent: seamless-config\r\n\r\n"
    ).encode("ascii")
    try:
        with anyio.fail_after(timeout):
            async with await anyio.connect_tcp(parts.hostname, parts.port) as stream:
                await stream.send(request)
                head = b""
                while b"\r\n" not in head and len(head) < 4096:
                    try:
                        head += await stream.receive()
                    except anyio.EndOfStream:
                        break
    except TimeoutError:
        return f"no answer within {timeout:g}s ({url})"
    except OSError as exc:
        if exc.errno == errno.ECONNREFUSED:
            return f"Connection refused ({url})"
        return f"{type(exc).__name__}: {exc} ({url})"
    except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
        return f"connection closed ({type(exc).__name__}) ({url})"
    code = status_code(head)
    if code is None:
        return f"not an HTTP answer from {url}: {head[:80]!r}"
    if 200 <= code < 300:
        return None
    return f"HTTP {code} from {url}"


class HealthChecker:
    """The checks of one ensure_service call: plain HTTP/1.1 GETs (:func:`probe`).

    (aiohttp is not needed for a status line, and importing it costs more CPU
    than a whole cold bring-up's checks.)
    """

    def __init__(self, *, attempt_timeout: float = 5.0) -> None:
        self._attempt_timeout = attempt_timeout

    async def __aenter__(self) -> HealthChecker:  # noqa: PYI034
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def check(self, url: str) -> str | None:
        """One GET; None if it answered 2xx, else the reason it did not."""
        return await probe(url, timeout=self._attempt_timeout)

    async def wait_ok(self, url: str, *, within: float) -> str | None:
        """Retry :meth:`check` every few tens of ms for ``within`` seconds.

        Returns None on success, else the last reason.
        """
        last: str | None = f"no answer from {url}"
        with anyio.move_on_after(within):
            while True:
                last = await self.check(url)
                if last is None:
                    return None
                await anyio.sleep(RETRY_INTERVAL)
        return last
