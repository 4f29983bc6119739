"""The guarded workarounds of ``seamless_config.upstream_fixes``, against the real installed packages."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("seamless_transformer")

from seamless_config import upstream_fixes  # noqa: E402
from seamless_config.upstream_fixes import close_all_clients  # noqa: E402


@pytest.fixture
def pristine() -> Iterator[Any]:
    """transformation_cache._close_all_clients as published; restored afterwards."""
    from seamless_remote import client as client_module
    from seamless_transformer import transformation_cache

    saved = transformation_cache._close_all_clients
    transformation_cache._close_all_clients = client_module.close_all_clients
    yield transformation_cache
    transformation_cache._close_all_clients = saved


def test_applied_on_the_affected_version_and_idempotent(pristine: Any) -> None:
    import importlib.metadata

    if importlib.metadata.version("seamless-transformer") not in close_all_clients.AFFECTED:
        pytest.skip("installed seamless-transformer is not an affected version")
    first = {o.name: o for o in upstream_fixes.apply_all()}
    assert first["close-all-clients-after-sync-call"].applied
    assert pristine._close_all_clients is close_all_clients.close_calling_thread_clients
    again = {o.name: o for o in upstream_fixes.apply_all()}
    assert again["close-all-clients-after-sync-call"].reason == "already applied"


def test_not_applied_on_other_versions(pristine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upstream_fixes, "_version", lambda name: "9.9.9")
    outcomes = {o.name: o for o in upstream_fixes.apply_all()}
    assert not outcomes["close-all-clients-after-sync-call"].applied
    assert "9.9.9" in outcomes["close-all-clients-after-sync-call"].reason
    assert pristine._close_all_clients is not close_all_clients.close_calling_thread_clients


def test_not_applied_when_the_code_changed(pristine: Any) -> None:
    def someone_elses() -> None:
        return None

    pristine._close_all_clients = someone_elses
    outcomes = {o.name: o for o in upstream_fixes.apply_all()}
    assert not outcomes["close-all-clients-after-sync-call"].applied
    assert pristine._close_all_clients is someone_elses


def test_only_the_calling_threads_sessions_close() -> None:
    """The buffer writer's session (another thread, its loop running) survives; the caller's closes."""
    from seamless_remote import client as client_module
    from seamless_remote.buffer_client import BufferClient

    client = BufferClient(readonly=False)
    client.url = "http://127.0.0.1:9"
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="writer-like", daemon=True)
    thread.start()

    async def session() -> Any:
        return client._get_session()

    try:
        background = asyncio.run_coroutine_threadsafe(session(), loop).result(10)
        own_loop = asyncio.new_event_loop()
        own = own_loop.run_until_complete(session())
        close_all_clients.close_calling_thread_clients()
        assert threading.current_thread() not in client._sessions
        assert client._sessions.get(thread) is background and not background.closed
        # What the published code does instead: the other thread's session is closed too.
        client_module.close_all_clients()
        assert background.closed
        own_loop.close()
        assert own is not background
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
