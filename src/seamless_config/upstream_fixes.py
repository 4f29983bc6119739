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

``daskserver-requires-conda`` (seamless-remote 0.4.0)
    ``DaskserverLaunchedHandle`` asserts that the launch dict names a conda
    environment, so a queue without ``conda`` (absent or ``null``: "run
    without conda", as for every other service) fails with a bare
    ``AssertionError``. The workaround sets ``conda: ""`` in that handle's
    launch dict, which remote-http-launcher reads as "no conda" too; the
    dict ``configure_daskserver()`` returns is unchanged.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("seamless_config.upstream_fixes")

# The seamless-transformer versions whose sync wrappers close every thread's clients.
CLOSE_ALL_CLIENTS_AFFECTED = frozenset({"0.6.1"})
# The seamless-remote versions whose daskserver handle asserts that the queue names a conda environment.
DASKSERVER_CONDA_AFFECTED = frozenset({"0.4.0"})


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


_FIXES = (_fix_close_all_clients, _fix_daskserver_conda)


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


__all__ = ["FixOutcome", "apply_all", "applied", "close_calling_thread_clients",
           "CLOSE_ALL_CLIENTS_AFFECTED", "DASKSERVER_CONDA_AFFECTED"]
