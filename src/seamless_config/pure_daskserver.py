"""Pure Dask mode: a Dask scheduler without Seamless persistence, and a ``distributed.Client`` to it."""

from __future__ import annotations

import json
import sys
from typing import Any

from .errors import ConfigurationError

DISABLED = False  # tests set this to stop automatic launching

_payloads: dict[str, dict[str, Any]] = {}
_handle: PureDaskserverLaunchedHandle | None = None


class PureDaskserverLaunchedHandle:
    """A launched (or reused) pure daskserver and the client connected to it."""

    def __init__(self, cluster: str, queue: str | None, frontend_name: str | None) -> None:
        from .tools import configure_pure_daskserver

        self.dashboard_url: str | None = None
        self.launch_config = configure_pure_daskserver(cluster=cluster, queue=queue, frontend_name=frontend_name)
        cache_key = json.dumps(self.launch_config, sort_keys=True)
        payload = _payloads.get(cache_key)
        if payload is None:
            import remote_http_launcher

            print("Launch daskserver...", file=sys.stderr)
            payload = remote_http_launcher.run(self.launch_config)
            _payloads[cache_key] = payload
        self.launch_payload = payload
        hostname = payload.get("hostname", "localhost")
        dashboard_port = payload.get("dashboard_port")
        if dashboard_port is not None:
            try:
                self.dashboard_url = f"http://{hostname}:{int(dashboard_port)}"
            except (TypeError, ValueError):
                self.dashboard_url = None
        from distributed import Client

        self.client: Any = Client(f"tcp://{hostname}:{int(payload['port'])}", timeout="10s", set_as_default=True)


def activate(*, no_main: bool = False, queue: str | None = None) -> None:
    """Launch (or reuse) the daskserver of the selected cluster and connect a client."""
    global _handle
    if DISABLED or no_main:
        return
    from .state import STATE

    cluster = STATE.selection.cluster
    if cluster is None:
        raise ConfigurationError("No cluster defined: add 'cluster: <name>' to seamless.profile.yaml")
    _handle = PureDaskserverLaunchedHandle(cluster, queue, None)
    if _handle.dashboard_url:
        print(f"Dask dashboard: {_handle.dashboard_url}")


def deactivate() -> None:
    global _handle
    if _handle is None:
        return
    try:
        _handle.client.close(timeout="2s")
    except Exception:
        pass
    _handle = None


def get_client() -> Any:
    """The ``distributed.Client`` of pure Dask mode, or None."""
    return _handle.client if _handle is not None else None


__all__ = ["activate", "deactivate", "get_client", "PureDaskserverLaunchedHandle"]
