"""HTTP health checks (the launcher's "handshake") with aiohttp."""

from __future__ import annotations

import asyncio
import errno
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    import aiohttp

RETRY_INTERVAL = 0.03


class HealthChecker:
    """Shares one aiohttp session between the checks of one ensure_service call."""

    def __init__(self, *, attempt_timeout: float = 5.0) -> None:
        self._attempt_timeout = attempt_timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HealthChecker:  # noqa: PYI034
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            with anyio.CancelScope(shield=True):
                await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        import aiohttp  # lazily: seamless-init's warm path should not pay for it twice

        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True),
                timeout=aiohttp.ClientTimeout(total=self._attempt_timeout),
            )
        return self._session

    async def check(self, url: str) -> str | None:
        """One GET; None if it answered 2xx, else the reason it did not."""
        import aiohttp

        try:
            async with self._get_session().get(url, allow_redirects=False) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"HTTP {response.status} from {url}"
        except aiohttp.ClientConnectorError as exc:
            if exc.os_error.errno == errno.ECONNREFUSED:
                return f"Connection refused ({url})"
            return f"{type(exc).__name__}: {exc} ({url})"
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            return f"{type(exc).__name__}: {reason} ({url})"

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
