"""The flush / jobserver-wait workarounds of ``seamless_config.upstream_fixes``, on a real hashserver.

The hashserver is the real one from PyPI, started per test on 127.0.0.1 and stopped by PID.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("seamless_transformer")

from seamless_config import upstream_fixes  # noqa: E402
from seamless_config.upstream_fixes import buffer_flush, hashserver_buffers, jobserver_wait  # noqa: E402
from seamless_config.errors import StalledRunError  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def hashserver(tmp_path: Path) -> Iterator[str]:
    """A real writable hashserver; its URL. Stopped by PID."""
    port = _free_port()
    (tmp_path / "buffers").mkdir()
    with open(tmp_path / "hashserver.log", "w") as log:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "hashserver"), str(tmp_path / "buffers"),
                                 "--writable", "--port", str(port), "--host", "127.0.0.1"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/healthcheck", timeout=2).read()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "hashserver.log").read_text()
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.fixture
def write_server(hashserver: str) -> Iterator[str]:
    """seamless-remote's write clients point at the test hashserver only (restored afterwards)."""
    from seamless_remote import buffer_remote

    saved = list(buffer_remote._write_server_clients), list(buffer_remote._read_server_clients)
    name = f"test-{os.getpid()}-{time.monotonic_ns()}"
    buffer_remote.define_extern_client(name, "hashserver", url=hashserver, readonly=False)
    buffer_remote.activate(no_main=True, extern_clients=[name])
    try:
        yield hashserver
    finally:
        buffer_remote._write_server_clients[:] = saved[0]
        buffer_remote._read_server_clients[:] = saved[1]
        # Forget the extern client too: a later in-process init() would inspect it (a dead hashserver).
        buffer_remote._extern_clients.pop(name, None)


def _promise(url: str, checksum: str) -> None:
    request = urllib.request.Request(f"{url}/promise/{checksum}", method="PUT")
    assert urllib.request.urlopen(request, timeout=10).status == 202


def _buffer(text: str) -> Any:
    from seamless import Buffer

    return Buffer(f"{text} {time.monotonic_ns()}".encode())


def test_flush_fix_guarded_by_version_and_code(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    from seamless.caching import buffer_writer

    outcomes = {o.name: o for o in upstream_fixes.apply_all()}
    if importlib.metadata.version("seamless-core") in buffer_flush.AFFECTED:
        assert outcomes["flush-aborts-inflight-uploads"].applied
        assert getattr(buffer_writer.flush, "_seamless_config_fix", False)
    if importlib.metadata.version("seamless-remote") in jobserver_wait.AFFECTED:
        from seamless_remote import jobserver_remote

        assert outcomes["jobserver-wait-unbounded"].applied
        assert getattr(jobserver_remote.run_transformation, "_seamless_config_fix", False)
    again = {o.name: o for o in upstream_fixes.apply_all()}
    assert again["flush-aborts-inflight-uploads"].reason in ("already applied",) or not again[
        "flush-aborts-inflight-uploads"].applied

    monkeypatch.setattr(upstream_fixes, "_version", lambda name: "9.9.9")
    other = {o.name: o for o in upstream_fixes.apply_all()}
    assert not other["flush-aborts-inflight-uploads"].applied and "9.9.9" in other["flush-aborts-inflight-uploads"].reason
    assert not other["jobserver-wait-unbounded"].applied


def test_flush_fix_leaves_someone_elses_flush_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from seamless.caching import buffer_writer

    def someone_elses(timeout: float | None = None) -> None:
        return None

    monkeypatch.setattr(buffer_writer, "flush", someone_elses)
    monkeypatch.setattr(upstream_fixes, "_version", lambda name: "0.1.4" if name == "seamless-core" else "0")
    outcome = upstream_fixes._apply_one(buffer_flush.WORKAROUND)
    assert not outcome.applied and "not the analysed code" in outcome.reason
    assert buffer_writer.flush is someone_elses


def test_an_upload_counted_as_done_but_lost_is_uploaded_again(write_server: str) -> None:
    """The hang's state: the hashserver was promised the buffer, the writer's entry is gone or failed."""
    from seamless.caching import buffer_writer

    buf = _buffer("lost input")
    cs = buf.get_checksum()
    _promise(write_server, cs.hex())
    failed: concurrent.futures.Future[Any] = concurrent.futures.Future()
    failed.set_exception(ConnectionError("Connector is closed."))  # as dumped from a hung client
    with buffer_writer._lock:
        buffer_writer._entries[cs] = buffer_writer._QueueEntry(checksum=cs, buffer=buf, future=failed)

    def published_flush_that_counts_it_as_written(timeout: float | None) -> None:
        with buffer_writer._lock:  # e.g. its /has-now saw an upload in progress, which was then aborted
            buffer_writer._entries.pop(cs, None)

    assert hashserver_buffers.stored_lengths(write_server, [cs.hex()]) == [True]  # promised, not stored
    buffer_flush._flush_safely(published_flush_that_counts_it_as_written, None)
    assert hashserver_buffers.stored_lengths(write_server, [cs.hex()]) == [len(buf.content)]
    assert cs not in buffer_writer._entries


def test_a_buffer_that_cannot_be_stored_fails_naming_the_hashserver(monkeypatch: pytest.MonkeyPatch) -> None:
    from seamless.caching import buffer_writer

    dead = f"http://127.0.0.1:{_free_port()}"
    monkeypatch.setattr(hashserver_buffers, "_write_urls", lambda: [dead])
    monkeypatch.setattr(hashserver_buffers, "REQUEST_TIMEOUT", 2.0)
    buf = _buffer("never stored")
    cs = buf.get_checksum()
    done: concurrent.futures.Future[Any] = concurrent.futures.Future()
    done.set_exception(ConnectionError("refused"))
    with buffer_writer._lock:
        buffer_writer._entries[cs] = buffer_writer._QueueEntry(checksum=cs, buffer=buf, future=done)
    try:
        with pytest.raises(StalledRunError) as info:
            buffer_flush._flush_safely(lambda timeout: None, None)
        assert info.value.service == "hashserver" and info.value.url == dead
        assert cs.hex() in info.value.waited_for and dead in str(info.value)
        # At shutdown (a timeout given) it only logs: seamless.close() must still finish.
        buffer_flush._flush_safely(lambda timeout: None, 2.0)
    finally:
        with buffer_writer._lock:
            buffer_writer._entries.pop(cs, None)


def test_the_watch_reuploads_a_promised_buffer_it_holds(write_server: str) -> None:
    from seamless.caching import buffer_writer

    buf = _buffer("held locally")
    cs = buf.get_checksum()
    _promise(write_server, cs.hex())
    pending: concurrent.futures.Future[Any] = concurrent.futures.Future()
    pending.set_exception(ConnectionError("Connector is closed."))
    with buffer_writer._lock:
        buffer_writer._entries[cs] = buffer_writer._QueueEntry(checksum=cs, buffer=buf, future=pending)
    try:
        watch = jobserver_wait.RunWatch("0" * 64, frozenset({cs.hex()}), None)
        assert watch.check() is None  # first sight: may still be on its way
        assert watch.check() is None  # second: re-uploaded from the writer's entry
        assert hashserver_buffers.stored_lengths(write_server, [cs.hex()]) == [len(buf.content)]
    finally:
        with buffer_writer._lock:
            buffer_writer._entries.pop(cs, None)


def test_the_watch_fails_a_run_whose_buffer_is_lost_naming_the_hashserver(write_server: str) -> None:
    cs = "ab" * 32  # promised, never uploaded, held by nobody
    _promise(write_server, cs)
    watch = jobserver_wait.RunWatch("cd" * 32, frozenset({cs}), None)
    problems = [watch.check() for _ in range(jobserver_wait.WATCH_STRIKES)]
    assert problems[:-1] == [None] * (jobserver_wait.WATCH_STRIKES - 1)
    error = problems[-1]
    assert isinstance(error, StalledRunError) and error.service == "hashserver" and error.url == write_server
    assert cs in str(error) and "promised but never received" in str(error)


def test_the_watch_fails_a_run_whose_jobserver_is_gone() -> None:
    dead = f"http://127.0.0.1:{_free_port()}"
    watch = jobserver_wait.RunWatch("cd" * 32, frozenset(), dead)
    problems = [watch.check() for _ in range(jobserver_wait.WATCH_STRIKES)]
    error = problems[-1]
    assert problems[0] is None and isinstance(error, StalledRunError)
    assert error.service == "jobserver" and error.url == dead and "stopped answering" in str(error)


def test_a_stalled_jobserver_wait_raises_and_cancels_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wrapper around seamless-remote's run_transformation: the wait ends, the request is cancelled."""
    from seamless_remote import jobserver_remote

    dead = f"http://127.0.0.1:{_free_port()}"

    class FakeClient:
        url = dead

    monkeypatch.setattr(jobserver_remote, "_jobserver_clients", [FakeClient()])
    monkeypatch.setattr(jobserver_wait, "WATCH_INTERVAL", 0.05)
    monkeypatch.setattr(hashserver_buffers, "_write_urls", lambda: [])
    cancelled: list[bool] = []

    async def never_answers(transformation_dict: Any, *, tf_checksum: Any, **kwargs: Any) -> Any:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> None:
        with pytest.raises(StalledRunError) as info:
            await asyncio.wait_for(jobserver_wait.watched_jobserver_run(
                never_answers, {"a": ["mixed", None, "ef" * 32]}, tf_checksum="12" * 32, scratch=False), 60)
        assert info.value.service == "jobserver" and "12" * 32 in str(info.value)

    asyncio.run(main())
    assert cancelled == [True]


def test_a_normal_jobserver_answer_passes_through(monkeypatch: pytest.MonkeyPatch) -> None:
    from seamless_remote import jobserver_remote

    monkeypatch.setattr(jobserver_remote, "_jobserver_clients", [])

    async def answers(transformation_dict: Any, *, tf_checksum: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.01)
        return {"result_checksum": "34" * 32, "kwargs": kwargs}

    result = asyncio.run(jobserver_wait.watched_jobserver_run(answers, {}, tf_checksum="12" * 32, scratch=True))
    assert result == {"result_checksum": "34" * 32, "kwargs": {"scratch": True}}


def test_checksums_in_a_transformation_dict() -> None:
    a, b = "aa" * 32, "bb" * 32
    tf = {"__language__": "python", "a": ["mixed", None, a], "code": ("python", "module", b), "x": "not-hex"}
    assert hashserver_buffers.checksums_in(tf) == {a, b}


def test_a_stored_buffer_promised_again_is_not_taken_for_a_lost_one(write_server: str) -> None:
    """hashserver 1.1.0's /buffer-length says ``true`` for any promised buffer, stored or not."""
    buf = _buffer("stored, then promised again")
    cs = buf.get_checksum().hex()
    request = urllib.request.Request(f"{write_server}/{cs}", data=bytes(buf.content), method="PUT")
    assert urllib.request.urlopen(request, timeout=10).status in (200, 201)
    _promise(write_server, cs)
    lost = "ef" * 32
    _promise(write_server, lost)
    assert hashserver_buffers.stored_lengths(write_server, [cs, lost]) == [True, True]
    assert hashserver_buffers.promised_not_stored(write_server, [cs, lost]) == [False, True]
    watch = jobserver_wait.RunWatch("cd" * 32, frozenset({cs}), None)
    assert [watch.check() for _ in range(jobserver_wait.WATCH_STRIKES + 1)] == [None] * (jobserver_wait.WATCH_STRIKES + 1)


def test_the_dask_watch_fails_when_the_scheduler_is_gone_or_forgot_the_task() -> None:
    from seamless_config.upstream_fixes import dask_wait

    def gone() -> tuple[bool, str | None]:
        return False, None

    watch = dask_wait.DaskRunWatch("cd" * 32, frozenset(), "tcp://127.0.0.1:9", gone)
    problems = [watch.check() for _ in range(jobserver_wait.WATCH_STRIKES)]
    assert problems[:-1] == [None] * (jobserver_wait.WATCH_STRIKES - 1)
    error = problems[-1]
    assert isinstance(error, StalledRunError) and error.service == "daskserver"
    assert error.url == "tcp://127.0.0.1:9" and "stopped answering" in str(error) and "cd" * 32 in str(error)

    def forgot() -> tuple[bool, str | None]:
        return True, None

    watch = dask_wait.DaskRunWatch("cd" * 32, frozenset(), "tcp://127.0.0.1:9", forgot)
    error = [watch.check() for _ in range(jobserver_wait.WATCH_STRIKES)][-1]
    assert isinstance(error, StalledRunError) and error.service == "daskserver" and "no longer knows" in str(error)


def test_the_dask_watch_waits_for_a_long_processing_task(write_server: str) -> None:
    from seamless_config.upstream_fixes import dask_wait

    buf = _buffer("stored input of a long task")
    cs = buf.get_checksum().hex()
    request = urllib.request.Request(f"{write_server}/{cs}", data=bytes(buf.content), method="PUT")
    assert urllib.request.urlopen(request, timeout=10).status in (200, 201)

    def processing() -> tuple[bool, str | None]:
        return True, "processing"

    watch = dask_wait.DaskRunWatch("cd" * 32, frozenset({cs}), "tcp://127.0.0.1:9", processing)
    assert [watch.check() for _ in range(2 * jobserver_wait.WATCH_STRIKES)] == [None] * (2 * jobserver_wait.WATCH_STRIKES)


def test_the_dask_fix_is_guarded_by_version(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    pytest.importorskip("seamless_dask")
    from seamless_dask.transformation_mixin import TransformationDaskMixin

    from seamless_config.upstream_fixes import dask_wait

    outcomes = {o.name: o for o in upstream_fixes.apply_all()}
    if importlib.metadata.version("seamless-dask") in dask_wait.AFFECTED:
        assert outcomes["dask-wait-unbounded"].applied, outcomes["dask-wait-unbounded"]
        assert getattr(TransformationDaskMixin._ensure_dask_futures, "_seamless_config_fix", False)
        assert dask_wait._analysed(TransformationDaskMixin) is None
    monkeypatch.setattr(upstream_fixes, "_version", lambda name: "9.9.9")
    other = {o.name: o for o in upstream_fixes.apply_all()}
    assert not other["dask-wait-unbounded"].applied and "9.9.9" in other["dask-wait-unbounded"].reason


def test_the_watched_dask_result_passes_a_normal_answer_through_and_raises_on_a_fault(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from seamless_config.upstream_fixes import dask_wait

    monkeypatch.setattr(jobserver_wait, "WATCH_INTERVAL", 0.01)
    calls: list[float | None] = []

    class Slow:
        def done(self) -> bool:
            return len(calls) > 3

    def original(timeout: float | None = None) -> Any:
        calls.append(timeout)
        if len(calls) <= 3:
            raise TimeoutError("slice")
        return ("tf", "result", None)

    class Quiet:
        def check(self) -> None:
            return None

    cancelled: list[bool] = []
    result = dask_wait.watched_result(Slow(), original, Quiet(), lambda: cancelled.append(True))
    assert result() == ("tf", "result", None) and calls[:3] == [0.01] * 3 and not cancelled

    class Faulty:
        def check(self) -> StalledRunError:
            return StalledRunError("lost", service="hashserver", url="http://x", waited_for="buffer y")

    calls.clear()
    result = dask_wait.watched_result(Slow(), original, Faulty(), lambda: cancelled.append(True))
    with pytest.raises(StalledRunError):
        result()
    assert cancelled == [True]
