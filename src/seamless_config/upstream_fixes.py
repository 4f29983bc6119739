"""Workarounds for defects in published Seamless packages, each guarded by the versions it is known for.

Every workaround here is minimal, applied once, before the first
transformation (``activation.activate_backends`` calls :func:`apply_all`),
only when the installed version is one where the defect was shown, and only
when the code it replaces is still the code that was analysed. Each one is
described, with an upstream bug report, in ``docs/upstream-issues.md``.

``close-all-clients-after-sync-call`` (seamless-transformer 0.6.1)
    ``is_cached_sync()`` and ``run_sync()`` run their coroutine on a
    throw-away event loop and then, in ``finally``, call
    ``seamless_remote.client.close_all_clients()``. That closes the HTTP
    sessions of *every* thread, including the one of seamless's background
    buffer writer, which at that moment is still uploading the
    transformation's input buffers to the hashserver (it has already sent
    ``PUT /promise/<checksum>``). The upload dies ("Connector is closed"),
    the retry's health check raises a ``RuntimeError`` that is not retried,
    and the buffer is never written; the Dask worker (or jobserver) then
    waits forever for the promised buffer, and ``run()`` never returns.

    The workaround replaces the function that seamless-transformer calls
    there by one that closes only the sessions of the *calling* thread —
    those bound to the throw-away loop that is about to be closed, which is
    what the call is for. Sessions of other threads (the buffer writer, the
    keep-alive worker) are left alone; ``seamless.close()`` still closes
    everything at exit.

``flush-aborts-inflight-uploads`` (seamless-core 0.1.4)
    seamless-transformer calls ``seamless.caching.buffer_writer.flush()``
    right before it sends a transformation to the jobserver. ``flush()``
    counts a buffer whose background upload is still in flight as written
    (the hashserver's ``/has-now`` answers yes for an upload in progress),
    then closes the HTTP sessions of every thread, which aborts that upload;
    with no timeout it gives each request 1 s, so a busy hashserver makes it
    skip the upload altogether. The retries of the aborted uploads share one
    session and close it under each other (seamless-remote's ``restart()``)
    until all five attempts fail. The promise stays on the hashserver, the
    jobserver's worker waits for the buffer, and ``run()`` hangs.

    The workaround wraps ``flush()``: it first lets the background writer
    finish the uploads it has in flight (bounded), then runs the original,
    then asks every write hashserver whether each buffer that was pending is
    really stored (``/buffer-length``, which waits for uploads in progress
    and tells a promise from a stored buffer) and uploads the missing ones
    again. Before a dispatch (``flush()`` without a timeout) a buffer that
    still cannot be stored raises :class:`~seamless_config.errors.StalledRunError`
    naming the hashserver: the run fails instead of waiting for ever.

``jobserver-wait-unbounded`` (seamless-remote 0.4.0)
    The client waits for the jobserver's answer with only aiohttp's 20-minute
    read timeout (and retries it), whatever happens meanwhile. The workaround
    watches the wait, every :data:`WATCH_INTERVAL` seconds: a buffer of the
    transformation that the hashserver was promised but does not hold is
    uploaded again if this process still has it; if it cannot be, or if the
    jobserver stops answering or no longer runs the transformation, for
    :data:`WATCH_STRIKES` checks in a row, the run fails with a
    :class:`~seamless_config.errors.StalledRunError` that names the service and
    what the run waited for. A long job that the jobserver reports as running
    is waited for as before.

``daskserver-requires-conda`` (seamless-remote 0.4.0)
    ``DaskserverLaunchedHandle`` asserts that the launch dict names a conda
    environment, so a queue without ``conda`` (absent or ``null``: "run
    without conda", as for every other service) fails with a bare
    ``AssertionError``. The workaround sets ``conda: ""`` in that handle's
    launch dict, which remote-http-launcher reads as "no conda" too; the
    dict ``configure_daskserver()`` returns is unchanged.

``daskserver-exclusive-worker-count`` (seamless-remote 0.4.0 with seamless-dask 0.4)
    ``DaskserverLaunchedHandle`` registers seamless-dask's worker plugin with
    one Seamless worker per queue ``cores``. For an exclusive queue, though,
    seamless-dask 0.4's wrapper starts each Dask worker with exactly one thread
    (one task at a time; the task uses the job's cores itself), and the plugin
    refuses a worker with fewer threads than Seamless workers ("Dask worker
    threads (1) must be at least Seamless worker count (N)"). With
    ``exclusive: true`` and ``cores: N > 1`` every worker then fails its
    setup, and the transformation fails with a ``CacheMissError`` for an
    input buffer (the worker never got the hashserver's address). The
    workaround sets that handle's worker count to 1 when the launch dict's
    ``file_parameters`` say ``exclusive``, which is what the wrapper gives each
    worker; the launch dict is unchanged.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.client
import importlib.metadata
import json
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import StalledRunError

logger = logging.getLogger("seamless_config.upstream_fixes")

# The seamless-transformer versions whose sync wrappers close every thread's clients.
CLOSE_ALL_CLIENTS_AFFECTED = frozenset({"0.6.1"})
# The seamless-remote versions whose daskserver handle asserts that the queue names a conda environment.
DASKSERVER_CONDA_AFFECTED = frozenset({"0.4.0"})
# The seamless-remote / seamless-dask versions whose worker count for an exclusive queue disagree.
DASKSERVER_EXCLUSIVE_AFFECTED = (frozenset({"0.4.0"}), frozenset({"0.4"}))
# The seamless-core versions whose buffer_writer.flush() aborts the background writer's uploads.
FLUSH_ABORTS_UPLOADS_AFFECTED = frozenset({"0.1.4"})
# The seamless-remote versions whose wait for a jobserver's answer is bounded only by a 20-minute read timeout.
JOBSERVER_WAIT_AFFECTED = frozenset({"0.4.0"})

FLUSH_WAIT_SECONDS = 60.0  # at most this long for the writer's own uploads to finish before flush() runs
REQUEST_TIMEOUT = 30.0  # one /buffer-length, re-upload or status request of the workarounds
WATCH_INTERVAL = 10.0  # seconds between two checks of a jobserver run
WATCH_STRIKES = 3  # checks in a row that must find the same fault before the run fails


@dataclass(frozen=True)
class FixOutcome:
    """What :func:`apply_all` did for one workaround (``applied``, or why not)."""

    name: str
    applied: bool
    reason: str


_applied: dict[str, FixOutcome] = {}
_lock = threading.Lock()


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def close_calling_thread_clients() -> None:
    """Close the seamless-remote HTTP sessions of the calling thread only (see the module docstring)."""
    from seamless_remote import client as client_module

    thread = threading.current_thread()
    for client in list(client_module._clients):
        try:
            client._close_sessions_for_thread(thread)
        except Exception:  # one client's failure to close must not stop the others
            logger.debug("closing %r's session of thread %s failed", client, thread.name, exc_info=True)


def _fix_close_all_clients() -> FixOutcome:
    name = "close-all-clients-after-sync-call"
    version = _version("seamless-transformer")
    if version not in CLOSE_ALL_CLIENTS_AFFECTED:
        return FixOutcome(name, False, f"seamless-transformer {version} is not a known affected version")
    try:
        from seamless_remote import client as client_module
        from seamless_transformer import transformation_cache
    except ImportError as exc:
        return FixOutcome(name, False, f"cannot import the affected modules: {exc}")
    current: Any = getattr(transformation_cache, "_close_all_clients", None)
    if current is close_calling_thread_clients:
        return FixOutcome(name, True, "already applied")
    if current is not getattr(client_module, "close_all_clients", None):
        # Not the code that was analysed (patched by someone else, or changed): leave it alone.
        return FixOutcome(name, False, "seamless_transformer.transformation_cache._close_all_clients "
                                       "is not seamless_remote.client.close_all_clients")
    if not hasattr(client_module, "_clients") or not hasattr(client_module.Client, "_close_sessions_for_thread"):
        return FixOutcome(name, False, "seamless_remote.client has no per-thread session close")
    transformation_cache._close_all_clients = close_calling_thread_clients
    return FixOutcome(name, True, f"seamless-transformer {version}: sync calls close only their own thread's sessions")


def _fix_daskserver_conda() -> FixOutcome:
    name = "daskserver-requires-conda"
    version = _version("seamless-remote")
    if version not in DASKSERVER_CONDA_AFFECTED:
        return FixOutcome(name, False, f"seamless-remote {version} is not a known affected version")
    try:
        from seamless_remote import daskserver_remote
    except ImportError as exc:  # seamless-dask's dependencies are optional
        return FixOutcome(name, False, f"cannot import seamless_remote.daskserver_remote: {exc}")
    handle_class: Any = getattr(daskserver_remote, "DaskserverLaunchedHandle", None)
    original: Any = getattr(handle_class, "config", None)
    if original is None:
        return FixOutcome(name, False, "DaskserverLaunchedHandle.config not found")
    if getattr(original, "_seamless_config_fix", False):
        return FixOutcome(name, True, "already applied")

    def config(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        launch_config = getattr(self, "launch_config", None)
        if isinstance(launch_config, dict) and launch_config.get("conda") is None:
            launch_config["conda"] = ""  # remote-http-launcher: "" and None both mean "no conda"

    config._seamless_config_fix = True  # type: ignore[attr-defined]
    handle_class.config = config
    return FixOutcome(name, True, f"seamless-remote {version}: a queue without conda launches without conda")


def _fix_daskserver_exclusive_workers() -> FixOutcome:
    name = "daskserver-exclusive-worker-count"
    remote_version, dask_version = _version("seamless-remote"), _version("seamless-dask")
    if remote_version not in DASKSERVER_EXCLUSIVE_AFFECTED[0] or dask_version not in DASKSERVER_EXCLUSIVE_AFFECTED[1]:
        return FixOutcome(name, False, f"seamless-remote {remote_version} / seamless-dask {dask_version} "
                                       "is not a known affected pair")
    try:
        from seamless_remote import daskserver_remote
    except ImportError as exc:  # seamless-dask's dependencies are optional
        return FixOutcome(name, False, f"cannot import seamless_remote.daskserver_remote: {exc}")
    handle_class: Any = getattr(daskserver_remote, "DaskserverLaunchedHandle", None)
    original: Any = getattr(handle_class, "config", None)
    if original is None:
        return FixOutcome(name, False, "DaskserverLaunchedHandle.config not found")
    if getattr(original, "_seamless_config_exclusive_fix", False):
        return FixOutcome(name, True, "already applied")

    def config(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        launch_config = getattr(self, "launch_config", None)
        file_parameters = launch_config.get("file_parameters") if isinstance(launch_config, dict) else None
        if isinstance(file_parameters, dict) and file_parameters.get("exclusive") is True:
            self.cores = 1  # the wrapper's exclusive workers have one thread: one Seamless worker each

    config._seamless_config_exclusive_fix = True  # type: ignore[attr-defined]
    # keep the marker of the wrapped fix, so that applying both again wraps neither twice
    config._seamless_config_fix = getattr(original, "_seamless_config_fix", False)  # type: ignore[attr-defined]
    handle_class.config = config
    return FixOutcome(name, True, f"seamless-remote {remote_version} / seamless-dask {dask_version}: "
                                  "an exclusive queue's workers get one Seamless worker each")


# --- small synchronous HTTP helpers (the workarounds' own requests) ---------------------------------

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _request(url: str, method: str, path: str, *, body: bytes | None = None,
             timeout: float = REQUEST_TIMEOUT) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if method == "GET" and body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def stored_lengths(url: str, checksums: list[str], timeout: float = REQUEST_TIMEOUT) -> list[Any]:
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


def _is_stored(length: Any) -> bool:
    return isinstance(length, int) and not isinstance(length, bool) and length > 0


def _write_urls() -> list[str]:
    from seamless_remote import buffer_remote

    return [c.url.rstrip("/") for c in list(buffer_remote._write_server_clients) if getattr(c, "url", None)]


def ensure_stored(buffers: dict[str, bytes], *, timeout: float = REQUEST_TIMEOUT) -> dict[str, list[str]]:
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
        missing = [cs for cs, length in zip(checksums, lengths) if not _is_stored(length)]
        still: list[str] = []
        for cs in missing:
            stored = False
            for _attempt in range(3):
                try:
                    status, _ = _request(url, "PUT", "/" + cs, body=bytes(buffers[cs]), timeout=timeout)
                    stored = status in (200, 201) or _is_stored(stored_lengths(url, [cs], timeout)[0])
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


# --- flush-aborts-inflight-uploads (seamless-core 0.1.4) --------------------------------------------


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
    missing = ensure_stored(contents, timeout=REQUEST_TIMEOUT if timeout is None else max(1.0, timeout))
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


def _fix_flush() -> FixOutcome:
    name = "flush-aborts-inflight-uploads"
    version = _version("seamless-core")
    if version not in FLUSH_ABORTS_UPLOADS_AFFECTED:
        return FixOutcome(name, False, f"seamless-core {version} is not a known affected version")
    try:
        from seamless.caching import buffer_writer
        from seamless_remote import buffer_remote
    except ImportError as exc:
        return FixOutcome(name, False, f"cannot import the affected modules: {exc}")
    original: Any = getattr(buffer_writer, "flush", None)
    if getattr(original, "_seamless_config_fix", False):
        return FixOutcome(name, True, "already applied")
    needed = ("_entries", "_lock", "_stop_worker")
    if (getattr(original, "__module__", None) != buffer_writer.__name__
            or not all(hasattr(buffer_writer, n) for n in needed)
            or not hasattr(buffer_remote, "_write_server_clients")):
        return FixOutcome(name, False, "seamless.caching.buffer_writer.flush is not the analysed code")

    def flush(timeout: float | None = None) -> None:
        _flush_safely(original, timeout)

    flush._seamless_config_fix = True  # type: ignore[attr-defined]
    flush.__wrapped__ = original  # type: ignore[attr-defined]
    buffer_writer.flush = flush
    return FixOutcome(name, True, f"seamless-core {version}: flush() lets in-flight uploads finish and "
                                  "verifies every pending buffer on the hashserver")


# --- jobserver-wait-unbounded (seamless-remote 0.4.0) -----------------------------------------------


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


def _local_buffer(checksum_hex: str) -> bytes | None:
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
                code, data = _request(self.jobserver_url, "GET", f"/transformation-status/{self.tf_checksum}")
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
        checksums = sorted(self.checksums)
        for url in _write_urls() if checksums else []:
            try:
                lengths = stored_lengths(url, checksums)
            except (OSError, ValueError) as exc:
                logger.debug("cannot check the buffers on %s: %s", url, exc)
                continue
            for cs, length in zip(checksums, lengths):
                promised_only = length is True
                if self._strike("promised:" + cs, promised_only) < 2:
                    continue
                content = _local_buffer(cs)
                if content is not None and not ensure_stored({cs: content}).get(url):
                    self.strikes["promised:" + cs] = 0
                    continue
                if self.strikes["promised:" + cs] >= WATCH_STRIKES:
                    return StalledRunError(
                        f"the jobserver waits for buffer {cs}, which the hashserver at {url} was promised but "
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
    watch = RunWatch(tf_hex, frozenset(checksums_in(transformation_dict) | {tf_hex}), urls[0] if urls else None)
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
                await asyncio.wait_for(task, REQUEST_TIMEOUT)
            except BaseException as exc:  # the cancelled request's own end; the caller gets our reason
                logger.debug("jobserver request for %s ended with %r after cancel", tf_hex, exc)


def _fix_jobserver_wait() -> FixOutcome:
    name = "jobserver-wait-unbounded"
    version = _version("seamless-remote")
    if version not in JOBSERVER_WAIT_AFFECTED:
        return FixOutcome(name, False, f"seamless-remote {version} is not a known affected version")
    try:
        from seamless_remote import jobserver_remote
    except ImportError as exc:
        return FixOutcome(name, False, f"cannot import seamless_remote.jobserver_remote: {exc}")
    original: Any = getattr(jobserver_remote, "run_transformation", None)
    if getattr(original, "_seamless_config_fix", False):
        return FixOutcome(name, True, "already applied")
    if not asyncio.iscoroutinefunction(original) or not hasattr(jobserver_remote, "_jobserver_clients"):
        return FixOutcome(name, False, "seamless_remote.jobserver_remote.run_transformation is not the analysed code")

    async def run_transformation(transformation_dict: Any, *, tf_checksum: Any, **kwargs: Any) -> Any:
        return await watched_jobserver_run(original, transformation_dict, tf_checksum=tf_checksum, **kwargs)

    run_transformation._seamless_config_fix = True  # type: ignore[attr-defined]
    run_transformation.__wrapped__ = original  # type: ignore[attr-defined]
    jobserver_remote.run_transformation = run_transformation
    return FixOutcome(name, True, f"seamless-remote {version}: the wait for the jobserver is watched")


_FIXES = (_fix_close_all_clients, _fix_daskserver_conda, _fix_daskserver_exclusive_workers, _fix_flush,
          _fix_jobserver_wait)


def apply_all() -> tuple[FixOutcome, ...]:
    """Apply every workaround that applies to the installed packages (idempotent, thread-safe)."""
    outcomes = []
    with _lock:
        for fix in _FIXES:
            outcome = fix()
            previous = _applied.get(outcome.name)
            if previous is None or previous.applied != outcome.applied:
                logger.debug("upstream fix %s: %s (%s)", outcome.name,
                             "applied" if outcome.applied else "not applied", outcome.reason)
            _applied[outcome.name] = outcome
            outcomes.append(outcome)
    return tuple(outcomes)


def applied() -> dict[str, FixOutcome]:
    """The outcome of every workaround tried so far in this process, by name."""
    with _lock:
        return dict(_applied)


__all__ = ["FixOutcome", "RunWatch", "apply_all", "applied", "checksums_in", "close_calling_thread_clients",
           "ensure_stored", "stored_lengths", "watched_jobserver_run", "CLOSE_ALL_CLIENTS_AFFECTED",
           "DASKSERVER_CONDA_AFFECTED", "DASKSERVER_EXCLUSIVE_AFFECTED", "FLUSH_ABORTS_UPLOADS_AFFECTED", "JOBSERVER_WAIT_AFFECTED"]
