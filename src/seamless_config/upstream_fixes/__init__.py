"""Workarounds for defects in published Seamless packages, each guarded by the versions it is known for.

Every workaround here is minimal, applied once, before the first
transformation (``activation.activate_backends`` and
``extern_clients.set_remote_clients`` call :func:`apply_all`), only when the
installed version is one where the defect was shown, and only when the code
it replaces is still the code that was analysed. Each one is described, with
an upstream bug report, in ``docs/upstream-issues.md``.

One module per workaround (its docstring says what and why):

``close-all-clients-after-sync-call`` (seamless-transformer 0.6.1)
    :mod:`.close_all_clients`: sync calls close only their own thread's HTTP sessions.
``daskserver-requires-conda`` (seamless-remote 0.4.0)
    :mod:`.daskserver_conda`: a daskserver queue without ``conda`` launches without conda.
``daskserver-exclusive-worker-count`` (seamless-remote 0.4.0 with seamless-dask 0.4)
    :mod:`.daskserver_exclusive`: an exclusive queue's Dask workers get one Seamless worker each.
``flush-aborts-inflight-uploads`` (seamless-core 0.1.4)
    :mod:`.buffer_flush`: the dispatch flush lets in-flight uploads finish and verifies them.
``jobserver-wait-unbounded`` (seamless-remote 0.4.0)
    :mod:`.jobserver_wait`: the wait for a jobserver's answer is watched (:class:`~.jobserver_wait.RunWatch`).
``dask-wait-unbounded`` (seamless-dask 0.4)
    :mod:`.dask_wait`: the wait for a Dask result gets the same watch, plus the scheduler's.

What they share, the hashserver checks (``/buffer-length``, re-upload, the
write URLs, the checksums of a transformation dict), is in
:mod:`.hashserver_buffers`. This module is the registry: :class:`FixOutcome`,
the version lookup, :func:`apply_all` and :func:`applied`.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger("seamless_config.upstream_fixes")


@dataclass(frozen=True)
class FixOutcome:
    """What :func:`apply_all` did for one workaround (``applied``, or why not)."""

    name: str
    applied: bool
    reason: str


@dataclass(frozen=True)
class Workaround:
    """One workaround: its name, the distribution and versions it is for, and how to apply it.

    ``apply`` gets the installed version (one of ``affected``) and checks that the code it
    replaces is still the analysed code before it replaces anything. ``also`` names further
    distributions that must be at an affected version too (a defect between two packages).
    """

    name: str
    distribution: str
    affected: frozenset[str]
    apply: Callable[[str], FixOutcome]
    also: tuple[tuple[str, frozenset[str]], ...] = ()


_applied: dict[str, FixOutcome] = {}
_lock = threading.Lock()


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _workarounds() -> tuple[Workaround, ...]:
    # Imported here, not at the top: each module imports FixOutcome / Workaround from this one.
    from . import buffer_flush, close_all_clients, dask_wait, daskserver_conda, daskserver_exclusive, jobserver_wait

    return (close_all_clients.WORKAROUND, daskserver_conda.WORKAROUND, daskserver_exclusive.WORKAROUND,
            buffer_flush.WORKAROUND, jobserver_wait.WORKAROUND, dask_wait.WORKAROUND)


# The workarounds apply_all() tries, by name (a reproducer may drop some to show the published behaviour).
_FIXES: tuple[str, ...] = ("close-all-clients-after-sync-call", "daskserver-requires-conda",
                           "daskserver-exclusive-worker-count", "flush-aborts-inflight-uploads",
                           "jobserver-wait-unbounded", "dask-wait-unbounded")


def _apply_one(workaround: Workaround) -> FixOutcome:
    version = _version(workaround.distribution)
    if workaround.also:
        others = [(dist, _version(dist), affected) for dist, affected in workaround.also]
        if version not in workaround.affected or any(v not in affected for _, v, affected in others):
            names = " / ".join([workaround.distribution] + [dist for dist, _, _ in others])
            versions = " / ".join([str(version)] + [str(v) for _, v, _ in others])
            return FixOutcome(workaround.name, False, f"{names} {versions} is not a known affected pair")
    elif version not in workaround.affected:
        return FixOutcome(workaround.name, False,
                          f"{workaround.distribution} {version} is not a known affected version")
    assert version is not None
    return workaround.apply(version)


def apply_all() -> tuple[FixOutcome, ...]:
    """Apply every workaround that applies to the installed packages (idempotent, thread-safe)."""
    outcomes = []
    with _lock:
        for workaround in _workarounds():
            if workaround.name not in _FIXES:
                continue
            outcome = _apply_one(workaround)
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


__all__ = ["FixOutcome", "Workaround", "apply_all", "applied"]
