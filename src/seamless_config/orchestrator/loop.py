"""Run the async core from synchronous code: one persistent background event loop.

Why a background loop rather than ``asyncio.run`` per call: SSH connections
belong to the loop that opened them, and ``init()`` must also work when the
caller is itself inside a running loop (Jupyter, pytest-asyncio), where
``asyncio.run`` is refused. Every call, sync or async, runs on this one loop,
which also owns the process's connection pool.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .._log import get_logger
from ..errors import BringUpTimeout, UsageError

T = TypeVar("T")
log = get_logger(__name__)

# After Ctrl-C or a timeout, how long the caller waits for the cancelled task's
# shielded cleanup (closing tunnels it opened, removing a failed launch's state).
CANCEL_CLEANUP_WAIT = 10.0


class LoopRunner:
    """A daemon thread running an asyncio loop, started on first use."""

    def __init__(self, name: str = "seamless-config") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pool: Any = None

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                thread = threading.Thread(target=run, name=self._name, daemon=True)
                thread.start()
                if not ready.wait(10):
                    raise UsageError("the seamless-config event loop did not start within 10s; is the machine overloaded?")
                self._loop, self._thread = loop, thread
                atexit.register(self.close)
            return self._loop

    def in_loop_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def run(self, make: Callable[[], Awaitable[T]], timeout: float) -> T:
        """Run ``make()`` on the loop and wait for it, at most *timeout* seconds.

        Ctrl-C (or the timeout) cancels it, and waits a bounded time for its
        cleanup to finish before returning: nothing is left half-done behind
        the caller's back. The timeout raises ``BringUpTimeout``.
        """
        if self.in_loop_thread():
            raise UsageError("cannot wait for the seamless-config loop from inside it; use the async API (ainit)")
        finished = threading.Event()
        future = asyncio.run_coroutine_threadsafe(_as_coroutine(make, finished), self._ensure_loop())
        try:
            return future.result(timeout)
        except KeyboardInterrupt:
            log.warning("interrupted: cancelling the bring-up and waiting for its cleanup")
            future.cancel()
            self._wait_cleanup(finished)
            raise
        except concurrent.futures.TimeoutError:
            log.warning("no result after %gs: cancelling the bring-up", timeout)
            future.cancel()
            self._wait_cleanup(finished)
            raise BringUpTimeout(timeout) from None

    @staticmethod
    def _wait_cleanup(finished: threading.Event) -> None:
        try:
            if not finished.wait(CANCEL_CLEANUP_WAIT):
                log.warning("the cancelled bring-up did not finish its cleanup within %gs", CANCEL_CLEANUP_WAIT)
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
            log.warning("second interrupt: not waiting for the cleanup")

    async def arun(self, make: Callable[[], Awaitable[T]]) -> T:
        """Await ``make()`` running on the loop, from any other event loop; cancelling cancels it."""
        if self.in_loop_thread():
            return await make()
        future = asyncio.run_coroutine_threadsafe(_as_coroutine(make, threading.Event()), self._ensure_loop())
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()
            raise

    async def pool(self) -> Any:
        """The process's connection pool (call on the loop)."""
        if self._pool is None:
            from ..remote import ConnectionPool

            self._pool = ConnectionPool()
        return self._pool

    def close(self, timeout: float = 3.0) -> None:
        """Close SSH connections and stop the loop (tunnels are separate processes and stay)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                asyncio.run_coroutine_threadsafe(pool.aclose(), loop).result(timeout)
            except Exception:
                log.warning("closing the SSH connections at exit failed", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._loop = self._thread = None


async def _as_coroutine(make: Callable[[], Awaitable[T]], finished: threading.Event) -> T:
    try:
        return await make()
    finally:
        finished.set()


RUNNER = LoopRunner()
