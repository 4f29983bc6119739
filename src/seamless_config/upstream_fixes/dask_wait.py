"""``dask-wait-unbounded`` (seamless-dask 0.4).

With ``remote: daskserver`` the client waits for a transformation's result in
``TransformationDaskMixin._compute_with_dask`` (and its async twin) with
``futures.thin.result()``: a ``distributed.Future.result()`` without a
timeout. If an input buffer that the hashserver was promised is never stored
(the upload race of ``docs/upstream-issues.md`` §1 and §3), the Dask worker
waits for it until the promise expires (10 minutes), and the client with it;
if the scheduler goes away the client waits on its reconnection.

The workaround gives that wait the jobserver path's watch
(:mod:`.jobserver_wait`): ``_ensure_dask_futures`` is wrapped so that the
``thin`` future it returns gets a ``result()`` of its own (on that future
instance only; the future Dask sees is unchanged). Without a timeout it waits
in slices of :data:`.jobserver_wait.WATCH_INTERVAL` seconds and after each
slice checks:

- the transformation's buffers on every write hashserver
  (:meth:`.jobserver_wait.RunWatch.check_buffers`): promised but not stored at
  two checks in a row is uploaded again from this process if it still holds
  the buffer; if it cannot be, at :data:`.jobserver_wait.WATCH_STRIKES` checks
  the run fails with a :class:`~seamless_config.errors.StalledRunError` naming
  the hashserver and the buffer;
- the Dask scheduler (``get_task_status`` of the future's key): if it does not
  answer, or no longer knows the task, for ``WATCH_STRIKES`` checks in a row,
  the run fails with a ``StalledRunError`` naming the daskserver.

A long task that is processing with its inputs stored is waited for as before.
"""

from __future__ import annotations

import inspect
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import StalledRunError
from . import FixOutcome, Workaround, hashserver_buffers, jobserver_wait

logger = logging.getLogger("seamless_config.upstream_fixes")

NAME = "dask-wait-unbounded"
# The seamless-dask versions whose client waits for a result with an unbounded distributed.Future.result().
AFFECTED = frozenset({"0.4"})


def _hex_checksums(value: Any) -> set[str]:
    """The checksums in a transformation dict whose values may be ``Checksum`` objects or hex strings."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif type(item).__name__ == "Checksum" and callable(getattr(item, "hex", None)):
            try:
                stack.append(item.hex())
            except (TypeError, ValueError):
                logger.debug("%r has no usable hex()", item, exc_info=True)
        else:
            found |= hashserver_buffers.checksums_in(item)
    return found


@dataclass
class DaskRunWatch:
    """The checks of one Dask wait; :meth:`check` returns the error to fail with, or None.

    ``task_state`` asks the scheduler for the task's state: ``(answered, state)``; state None means
    the scheduler does not know the task.
    """

    tf_checksum: str
    checksums: frozenset[str]
    scheduler: str | None
    task_state: Callable[[], tuple[bool, str | None]]
    strikes: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    buffers: jobserver_wait.RunWatch | None = None

    def __post_init__(self) -> None:
        self.buffers = jobserver_wait.RunWatch(self.tf_checksum, self.checksums, None, started=self.started)

    def _strike(self, key: str, hit: bool) -> int:
        self.strikes[key] = self.strikes.get(key, 0) + 1 if hit else 0
        return self.strikes[key]

    def check(self) -> StalledRunError | None:
        waited = time.monotonic() - self.started
        answered, state = self.task_state()
        where = self.scheduler or "(unknown address)"
        if self._strike("daskserver-down", not answered) >= jobserver_wait.WATCH_STRIKES:
            return StalledRunError(
                f"the daskserver's Dask scheduler at {where} stopped answering while this run waited "
                f"{waited:.0f}s for transformation {self.tf_checksum}; run seamless-init to bring it back, "
                "then run again", service="daskserver", url=self.scheduler,
                waited_for=f"transformation {self.tf_checksum}")
        if self._strike("daskserver-forgot", answered and state is None) >= jobserver_wait.WATCH_STRIKES:
            return StalledRunError(
                f"the daskserver's Dask scheduler at {where} no longer knows the task of transformation "
                f"{self.tf_checksum} while this run has waited {waited:.0f}s for it (was the daskserver "
                "restarted?); run again", service="daskserver", url=self.scheduler,
                waited_for=f"transformation {self.tf_checksum}")
        assert self.buffers is not None
        return self.buffers.check_buffers("Dask worker")


class _FutureRef:
    """A weak reference to a ``distributed.Future`` that the watched ``result()`` stored on it may hold.

    (A strong one would make a cycle: the future would then be released, and its key on the
    scheduler, only at the next garbage collection.)
    """

    def __init__(self, future: Any) -> None:
        self._ref = weakref.ref(future)
        self._class = type(future)

    def get(self) -> Any:
        future = self._ref()
        if future is None:
            raise RuntimeError("the Dask future was released while its result was awaited")
        return future

    def done(self) -> bool:
        return bool(self.get().done())

    def result(self, timeout: float | None = None) -> Any:
        return self._class.result(self.get(), timeout)


def _scheduler_task_state(ref: _FutureRef) -> Callable[[], tuple[bool, str | None]]:
    def task_state() -> tuple[bool, str | None]:
        future = ref.get()
        client = future.client
        try:
            states = client.sync(client.scheduler.get_task_status, keys=[future.key],
                                 callback_timeout=hashserver_buffers.REQUEST_TIMEOUT)
        except Exception as exc:  # an unreachable scheduler is what this check is for
            logger.debug("the Dask scheduler did not answer get_task_status: %r", exc)
            return False, None
        state = states.get(future.key) if isinstance(states, dict) else None
        return True, None if state is None else str(state)

    return task_state


def _scheduler_address(future: Any) -> str | None:
    try:
        return str(future.client.scheduler.address)
    except AttributeError:
        return None


def watched_result(future: Any, original: Callable[..., Any], watch: Any,
                   cancel: Callable[[], None]) -> Callable[..., Any]:
    """A ``result(timeout=None)`` for *future* that waits like *original* while *watch* finds no fault."""

    def result(timeout: float | None = None) -> Any:
        if timeout is not None:
            return original(timeout)
        while True:
            try:
                return original(jobserver_wait.WATCH_INTERVAL)
            except TimeoutError:
                if future.done():  # the task's own TimeoutError, not our slice's
                    return original()
            problem = watch.check()
            if problem is not None:
                logger.error("%s", problem)
                if problem.service != "daskserver":  # a scheduler that is gone cannot be asked to cancel
                    cancel()
                raise problem

    result._seamless_config_fix = True  # type: ignore[attr-defined]
    return result


def watch_futures(transformation: Any, seamless_client: Any, futures: Any) -> None:
    """Give ``futures.thin`` (a ``distributed.Future``) the watched ``result()`` (once)."""
    thin = getattr(futures, "thin", None)
    if thin is None or "result" in vars(thin):  # already watched (or someone else's result())
        return
    tf_hex = str(getattr(futures, "tf_checksum", None) or "")
    template = getattr(transformation, "_definition_payload_template", None)
    checksums = _hex_checksums(template) | ({tf_hex} if tf_hex else set())
    ref = _FutureRef(thin)
    watch = DaskRunWatch(tf_hex or "(not yet known)", frozenset(checksums), _scheduler_address(thin),
                         _scheduler_task_state(ref))

    def cancel() -> None:
        if not tf_hex:
            return
        try:
            seamless_client.cancel_by_checksum(tf_hex)
        except Exception as exc:  # the run fails with our reason either way
            logger.warning("cancelling transformation %s on the daskserver failed: %r", tf_hex, exc)

    thin.result = watched_result(ref, ref.result, watch, cancel)


def _analysed(mixin: Any) -> str | None:
    """Why the installed seamless-dask is not the analysed code, or None when it is."""
    for name, needle in (("_compute_with_dask", "futures.thin.result()"),
                         ("_compute_with_dask_async", "futures.thin.result")):
        try:
            source = inspect.getsource(getattr(mixin, name))
        except (AttributeError, OSError, TypeError):
            return f"TransformationDaskMixin.{name} not found"
        if needle not in source:
            return f"TransformationDaskMixin.{name} no longer waits with {needle}"
    if not callable(getattr(mixin, "_ensure_dask_futures", None)):
        return "TransformationDaskMixin._ensure_dask_futures not found"
    return None


def apply(version: str) -> FixOutcome:
    try:
        import distributed
        from seamless_dask.transformation_mixin import TransformationDaskMixin
    except ImportError as exc:  # seamless-dask's dependencies are optional
        return FixOutcome(NAME, False, f"cannot import seamless_dask.transformation_mixin: {exc}")
    original: Any = getattr(TransformationDaskMixin, "_ensure_dask_futures", None)
    if getattr(original, "_seamless_config_fix", False):
        return FixOutcome(NAME, True, "already applied")
    reason = _analysed(TransformationDaskMixin)
    if reason is not None:
        return FixOutcome(NAME, False, reason + ": not the analysed code")
    if not distributed.Future.__dictoffset__:  # the watched result() is set on the future instance
        return FixOutcome(NAME, False, "distributed.Future instances take no attributes")

    def _ensure_dask_futures(self: Any, client: Any, *args: Any, **kwargs: Any) -> Any:
        futures = original(self, client, *args, **kwargs)
        try:
            watch_futures(self, client, futures)
        except Exception:  # the run proceeds as published, unwatched
            logger.warning("cannot watch the Dask wait of %r", self, exc_info=True)
        return futures

    _ensure_dask_futures._seamless_config_fix = True  # type: ignore[attr-defined]
    _ensure_dask_futures.__wrapped__ = original  # type: ignore[attr-defined]
    TransformationDaskMixin._ensure_dask_futures = _ensure_dask_futures
    return FixOutcome(NAME, True, f"seamless-dask {version}: the wait for a Dask result is watched")


WORKAROUND = Workaround(NAME, "seamless-dask", AFFECTED, apply)
