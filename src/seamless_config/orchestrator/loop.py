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

T = TypeVar("T")


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
                    raise RuntimeError("the seamless-config event loop did not start")
                self._loop, self._thread = loop, thread
                atexit.register(self.close)
            return self._loop

    def in_loop_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def run(self, make: Callable[[], Awaitable[T]], timeout: float | None = None) -> T:
        """Run ``make()`` on the loop and wait for it; Ctrl-C cancels it."""
        if self.in_loop_thread():
            raise RuntimeError("cannot wait for the seamless-config loop from inside it; use the async API")
        future = asyncio.run_coroutine_threadsafe(_as_coroutine(make), self._ensure_loop())
        try:
            return future.result(timeout)
        except KeyboardInterrupt:
            future.cancel()
            raise
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"gave up after {timeout}s") from None

    async def arun(self, make: Callable[[], Awaitable[T]]) -> T:
        """Await ``make()`` running on the loop, from any other event loop; cancelling cancels it."""
        if self.in_loop_thread():
            return await make()
        future = asyncio.run_coroutine_threadsafe(_as_coroutine(make), self._ensure_loop())
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
                pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._loop = self._thread = None


async def _as_coroutine(make: Callable[[], Awaitable[T]]) -> T:
    return await make()


RUNNER = LoopRunner()
