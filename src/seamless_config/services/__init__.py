"""Service management: the operations behind the ``seamless-service-*`` commands, as a typed Python API.

    from seamless_config.services import ServiceQuery, ps_sync, resolve_service, stop_sync

    print(resolve_service(ServiceQuery(service="hashserver")).key)

    rows, failures = ps_sync(ServiceQuery(cluster="mycluster"))
    for outcome in stop_sync(ServiceQuery(cluster="mycluster")):
        print(outcome.key, outcome.outcome)

The async functions (``ps``, ``stop``, ...) are in ``services.api``; the
``*_sync`` forms run them on a private event loop (not inside a running one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .model import (
    SERVICES, ClearPlan, ClearResult, HostFailure, KeyOutcome, PsRow, ServiceQuery, ServiceTarget,
)

T = TypeVar("T")


def _run(make: Callable[[], Awaitable[T]]) -> T:
    import anyio

    async def go() -> T:
        return await make()

    return anyio.run(go)


def resolve_service(query: ServiceQuery) -> ServiceTarget:
    """Key, host, workdir and log path of one service (``seamless-service-resolve``); no side effects."""
    from .resolve import resolve_target

    return resolve_target(query)


def ps_sync(query: ServiceQuery = ServiceQuery(), **kwargs: Any) -> tuple[list[PsRow], list[HostFailure]]:
    from . import api

    return _run(lambda: api.ps(query, **kwargs))


def stop_sync(query: ServiceQuery, **kwargs: Any) -> list[KeyOutcome]:
    from . import api

    return _run(lambda: api.stop(query, **kwargs))


def rm_sync(query: ServiceQuery, **kwargs: Any) -> list[KeyOutcome]:
    from . import api

    return _run(lambda: api.rm(query, **kwargs))


def inspect_sync(query: ServiceQuery) -> tuple[ServiceTarget, dict[str, Any] | None]:
    from . import api

    return _run(lambda: api.inspect(query))


def logs_sync(query: ServiceQuery, tail: int | None = None) -> tuple[ServiceTarget, str | None]:
    from . import api

    return _run(lambda: api.logs(query, tail=tail))


def plan_clear_sync(query: ServiceQuery) -> ClearPlan:
    from . import api

    return _run(lambda: api.plan_clear(query))


def clear_sync(plan: ClearPlan, *, force: bool = False) -> ClearResult:
    from . import api

    return _run(lambda: api.clear(plan, force=force))


__all__ = [
    "SERVICES", "ClearPlan", "ClearResult", "HostFailure", "KeyOutcome", "PsRow", "ServiceQuery", "ServiceTarget",
    "clear_sync", "inspect_sync", "logs_sync", "plan_clear_sync", "ps_sync", "resolve_service", "rm_sync", "stop_sync",
]
