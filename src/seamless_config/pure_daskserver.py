"""Pure Dask mode: a Dask scheduler without Seamless persistence, and a ``distributed.Client`` to it.

The scheduler is the one bring-up (``init()``, ``ainit()``, ``seamless-init``)
brought up: activation hands its verified connection to :func:`activate`.
Only when no connection is given (``change_stage()`` called on its own, or
``activate()`` from other code) is the scheduler brought up here, through the
same orchestrator path (``remote.ensure_service`` on the background loop),
never through a second launcher. Nothing is cached between activations: each
one uses the connection that was verified for it, so a scheduler that died
is found dead (and relaunched) by the next ``set_stage()``.

:func:`get_client` keeps the reference's meaning: the ``distributed.Client``
(set as Dask's default client) of the active pure Dask mode, else ``None``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from .errors import ConfigurationError, ServiceError

DISABLED = False  # tests set this to stop automatic launching

logger = logging.getLogger("seamless_config.pure_daskserver")

CONNECT_TIMEOUT = "10s"  # distributed.Client's bound on reaching the scheduler
BRING_UP_TIMEOUT = 180.0

_handle: PureDaskserverLaunchedHandle | None = None
_lock = threading.RLock()


def _bring_up(launch_config: Mapping[str, Any]) -> dict[str, Any]:
    """Launch or reuse the scheduler through the orchestrator (one launch path); its connection."""
    from .orchestrator.loop import RUNNER
    from .remote import ensure_service

    async def run() -> dict[str, Any]:
        return await ensure_service(launch_config, pool=await RUNNER.pool(), timeout=BRING_UP_TIMEOUT)

    return RUNNER.run(run, timeout=BRING_UP_TIMEOUT + 30)


class PureDaskserverLaunchedHandle:
    """A pure daskserver (its launch dict and verified connection) and the client connected to it."""

    launch_config: dict[str, Any]
    launch_payload: dict[str, Any]
    client: Any
    dashboard_url: str | None

    def __init__(
        self, cluster: str, queue: str | None, frontend_name: str | None,
        *, connection: Mapping[str, Any] | None = None,
    ) -> None:
        from .tools import configure_pure_daskserver

        self.dashboard_url = None
        self.launch_config = configure_pure_daskserver(cluster=cluster, queue=queue, frontend_name=frontend_name)
        payload = dict(connection) if connection is not None else _bring_up(self.launch_config)
        self.launch_payload = payload
        hostname = payload.get("hostname", "localhost")
        dashboard_port = payload.get("dashboard_port")
        if dashboard_port is not None:
            try:
                self.dashboard_url = f"http://{hostname}:{int(dashboard_port)}"
            except (TypeError, ValueError):
                self.dashboard_url = None
        address = f"tcp://{hostname}:{int(payload['port'])}"
        from distributed import Client

        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=True)
        except OSError as exc:  # distributed raises OSError (TimeoutError) when the scheduler does not answer
            raise ServiceError(
                f"could not connect a Dask client to the scheduler at {address} within {CONNECT_TIMEOUT}: {exc}",
                service="pure_daskserver", host=str(hostname),
            ) from None

    @property
    def scheduler_address(self) -> str:
        return f"tcp://{self.launch_payload.get('hostname', 'localhost')}:{int(self.launch_payload['port'])}"


def activate(
    *, no_main: bool = False, queue: str | None = None, connection: Mapping[str, Any] | None = None,
) -> None:
    """Connect a ``distributed.Client`` to the selected cluster's pure daskserver.

    *connection*: the scheduler's ``{"hostname", "port", ...}`` as bring-up
    verified it; without it the scheduler is brought up (or reused) first.
    """
    global _handle
    if DISABLED or no_main:
        return
    from .state import STATE

    cluster = STATE.selection.cluster
    if cluster is None:
        raise ConfigurationError("No cluster defined: add 'cluster: <name>' to seamless.profile.yaml")
    with _lock:
        deactivate()
        _handle = PureDaskserverLaunchedHandle(cluster, queue, None, connection=connection)
        if _handle.dashboard_url:
            logger.info("Dask dashboard: %s", _handle.dashboard_url)


def deactivate() -> None:
    """Close the pure Dask client (if any)."""
    global _handle
    with _lock:
        handle, _handle = _handle, None
    if handle is None:
        return
    try:
        handle.client.close(timeout="2s")
    except Exception:
        logger.warning("closing the pure Dask client of %s failed", handle.scheduler_address, exc_info=True)


def get_client() -> Any:
    """The ``distributed.Client`` of pure Dask mode, or None."""
    handle = _handle
    return handle.client if handle is not None else None


def get_handle() -> PureDaskserverLaunchedHandle | None:
    """The active handle (launch dict, connection, client), or None."""
    return _handle


__all__ = ["activate", "deactivate", "get_client", "get_handle", "PureDaskserverLaunchedHandle"]
