"""``close-all-clients-after-sync-call`` (seamless-transformer 0.6.1).

``is_cached_sync()`` and ``run_sync()`` run their coroutine on a throw-away
event loop and then, in ``finally``, call
``seamless_remote.client.close_all_clients()``. That closes the HTTP sessions
of *every* thread, including the one of seamless's background buffer writer,
which at that moment is still uploading the transformation's input buffers to
the hashserver (it has already sent ``PUT /promise/<checksum>``). The upload
dies ("Connector is closed"), the retry's health check raises a
``RuntimeError`` that is not retried, and the buffer is never written; the
Dask worker (or jobserver) then waits forever for the promised buffer, and
``run()`` never returns.

The workaround replaces the function that seamless-transformer calls there by
one that closes only the sessions of the *calling* thread — those bound to the
throw-away loop that is about to be closed, which is what the call is for.
Sessions of other threads (the buffer writer, the keep-alive worker) are left
alone; ``seamless.close()`` still closes everything at exit.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from . import FixOutcome, Workaround

logger = logging.getLogger("seamless_config.upstream_fixes")

NAME = "close-all-clients-after-sync-call"
# The seamless-transformer versions whose sync wrappers close every thread's clients.
AFFECTED = frozenset({"0.6.1"})


def close_calling_thread_clients() -> None:
    """Close the seamless-remote HTTP sessions of the calling thread only (see the module docstring)."""
    from seamless_remote import client as client_module

    thread = threading.current_thread()
    for client in list(client_module._clients):
        try:
            client._close_sessions_for_thread(thread)
        except Exception:  # one client's failure to close must not stop the others
            logger.debug("closing %r's session of thread %s failed", client, thread.name, exc_info=True)


def apply(version: str) -> FixOutcome:
    try:
        from seamless_remote import client as client_module
        from seamless_transformer import transformation_cache
    except ImportError as exc:
        return FixOutcome(NAME, False, f"cannot import the affected modules: {exc}")
    current: Any = getattr(transformation_cache, "_close_all_clients", None)
    if current is close_calling_thread_clients:
        return FixOutcome(NAME, True, "already applied")
    if current is not getattr(client_module, "close_all_clients", None):
        # Not the code that was analysed (patched by someone else, or changed): leave it alone.
        return FixOutcome(NAME, False, "seamless_transformer.transformation_cache._close_all_clients "
                                       "is not seamless_remote.client.close_all_clients")
    if not hasattr(client_module, "_clients") or not hasattr(client_module.Client, "_close_sessions_for_thread"):
        return FixOutcome(NAME, False, "seamless_remote.client has no per-thread session close")
    transformation_cache._close_all_clients = close_calling_thread_clients
    return FixOutcome(NAME, True, f"seamless-transformer {version}: sync calls close only their own thread's sessions")


WORKAROUND = Workaround(NAME, "seamless-transformer", AFFECTED, apply)
