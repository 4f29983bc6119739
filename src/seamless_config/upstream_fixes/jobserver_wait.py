"""``jobserver-wait-unbounded`` (seamless-remote 0.4.0).

The client waits for the jobserver's answer with only aiohttp's 20-minute
read timeout (and retries it), whatever happens meanwhile. The workaround
watches the wait, every :data:`WATCH_INTERVAL` seconds: a buffer of the
transformation that the hashserver was promised but does not hold is uploaded
again if this process still has it; if it cannot be, or if the jobserver stops
answering or no longer runs the transformation, for :data:`WATCH_STRIKES`
checks in a row, the run fails with a
:class:`~seamless_config.errors.StalledRunError` that names the service and
what the run waited for. A long job that the jobserver reports as running is
waited for as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import StalledRunError
from . import FixOutcome, Workaround, hashserver_buffers

logger = logging.getLogger("seamless_config.upstream_fixes")

NAME = "jobserver-wait-unbounded"
# The seamless-remote versions whose wait for a jobserver's answer is bounded only by a 20-minute read timeout.
AFFECTED = frozenset({"0.4.0"})

WATCH_INTERVAL = 10.0  # seconds between two checks of a jobserver (or Dask, see dask_wait) run
WATCH_STRIKES = 3  # checks in a row that must find the same fault before the run fails


@dataclass
class RunWatch:
    """The checks of one jobserver run; :meth:`check` returns the error to fail with, or None."""

    tf_checksum: str
    checksums: frozenset[str]
    jobserver_url: str | None
    strikes: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def _strike(self, key: str, hit: bool) -> int:
        self.strikes[key] = self.strikes.get(key, 0) + 1 if hit else 0
        return self.strikes[key]

    def check(self) -> StalledRunError | None:
        waited = time.monotonic() - self.started
        if self.jobserver_url is not None:
            status: str | None
            try:
                code, data = hashserver_buffers._request(
                    self.jobserver_url, "GET", f"/transformation-status/{self.tf_checksum}")
                status = str(json.loads(data).get("status")) if code == 200 else "unknown"
            except (OSError, ValueError):
                status = None
            if self._strike("jobserver-down", status is None) >= WATCH_STRIKES:
                return StalledRunError(
                    f"the jobserver at {self.jobserver_url} stopped answering while this run waited "
                    f"{waited:.0f}s for transformation {self.tf_checksum}; run seamless-init to bring it "
                    "back, then run again", service="jobserver", url=self.jobserver_url,
                    waited_for=f"transformation {self.tf_checksum}")
            gone = status in ("not-running", "canceled", "failed")
            if self._strike("jobserver-forgot", gone) >= WATCH_STRIKES:
                return StalledRunError(
                    f"the jobserver at {self.jobserver_url} reports transformation {self.tf_checksum} as "
                    f"'{status}' while this run has waited {waited:.0f}s for its result (was the jobserver "
                    "restarted?); run again", service="jobserver", url=self.jobserver_url,
                    waited_for=f"transformation {self.tf_checksum}")
        return self.check_buffers("jobserver")

    def check_buffers(self, waiter: str) -> StalledRunError | None:
        """The hashserver half of :meth:`check`: promised-but-not-stored buffers are uploaded again or fail the run.

        *waiter* names who waits for the buffers in the message ("jobserver", "Dask worker").
        """
        waited = time.monotonic() - self.started
        checksums = sorted(self.checksums)
        for url in hashserver_buffers.write_urls() if checksums else []:
            try:
                lost = hashserver_buffers.promised_not_stored(url, checksums)
            except (OSError, ValueError) as exc:
                logger.debug("cannot check the buffers on %s: %s", url, exc)
                continue
            for cs, promised_only in zip(checksums, lost):
                if self._strike("promised:" + cs, promised_only) < 2:
                    continue
                content = hashserver_buffers.local_buffer(cs)
                if content is not None and not hashserver_buffers.ensure_stored({cs: content}).get(url):
                    self.strikes["promised:" + cs] = 0
                    continue
                if self.strikes["promised:" + cs] >= WATCH_STRIKES:
                    return StalledRunError(
                        f"the {waiter} waits for buffer {cs}, which the hashserver at {url} was promised but "
                        f"never received (its upload was lost), and this process cannot upload it again; "
                        f"this run waited {waited:.0f}s for transformation {self.tf_checksum}. Run again: the "
                        "inputs are uploaded anew", service="hashserver", url=url, waited_for=f"buffer {cs}")
        return None


async def watched_jobserver_run(original: Callable[..., Awaitable[Any]], transformation_dict: Any,
                                *, tf_checksum: Any, **kwargs: Any) -> Any:
    """Await the jobserver's answer as *original* does, checking every :data:`WATCH_INTERVAL` seconds."""
    from seamless_remote import jobserver_remote

    tf_hex = tf_checksum.hex() if hasattr(tf_checksum, "hex") and callable(tf_checksum.hex) else str(tf_checksum)
    urls = [c.url for c in list(jobserver_remote._jobserver_clients) if getattr(c, "url", None)]
    checksums = frozenset(hashserver_buffers.checksums_in(transformation_dict) | {tf_hex})
    watch = RunWatch(tf_hex, checksums, urls[0] if urls else None)
    task = asyncio.ensure_future(original(transformation_dict, tf_checksum=tf_checksum, **kwargs))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=WATCH_INTERVAL)
            if done:
                return task.result()
            problem = await asyncio.to_thread(watch.check)
            if problem is not None:
                logger.error("%s", problem)
                raise problem
    finally:
        if not task.done():
            task.cancel()  # seamless-remote then asks the jobserver to cancel the transformation
            try:
                await asyncio.wait_for(task, hashserver_buffers.REQUEST_TIMEOUT)
            except BaseException as exc:  # the cancelled request's own end; the caller gets our reason
                logger.debug("jobserver request for %s ended with %r after cancel", tf_hex, exc)


def apply(version: str) -> FixOutcome:
    try:
        from seamless_remote import jobserver_remote
    except ImportError as exc:
        return FixOutcome(NAME, False, f"cannot import seamless_remote.jobserver_remote: {exc}")
    original: Any = getattr(jobserver_remote, "run_transformation", None)
    if getattr(original, "_seamless_config_fix", False):
        return FixOutcome(NAME, True, "already applied")
    if not asyncio.iscoroutinefunction(original) or not hasattr(jobserver_remote, "_jobserver_clients"):
        return FixOutcome(NAME, False, "seamless_remote.jobserver_remote.run_transformation is not the analysed code")

    async def run_transformation(transformation_dict: Any, *, tf_checksum: Any, **kwargs: Any) -> Any:
        return await watched_jobserver_run(original, transformation_dict, tf_checksum=tf_checksum, **kwargs)

    run_transformation._seamless_config_fix = True  # type: ignore[attr-defined]
    run_transformation.__wrapped__ = original  # type: ignore[attr-defined]
    jobserver_remote.run_transformation = run_transformation
    return FixOutcome(NAME, True, f"seamless-remote {version}: the wait for the jobserver is watched")


WORKAROUND = Workaround(NAME, "seamless-remote", AFFECTED, apply)
