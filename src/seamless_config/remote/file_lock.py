"""An exclusive lock on a local file, acquired without blocking the event loop."""

from __future__ import annotations

import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

POLL_INTERVAL = 0.02


@asynccontextmanager
async def file_lock(path: Path, *, timeout: float) -> AsyncIterator[None]:
    """Hold ``flock(LOCK_EX)`` on ``path`` (created if needed).

    Works between processes and between tasks of one process (each
    acquisition opens its own file description). Raises ``TimeoutError``
    after ``timeout`` seconds.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        with anyio.fail_after(timeout):
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await anyio.sleep(POLL_INTERVAL)
        yield
    finally:
        os.close(fd)  # releases the lock
