"""The entry points the façades call: bring up what a resolved configuration needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..core.resolved import ResolvedConfig
from .loop import RUNNER
from .plan import make_plan, without_disabled
from .report import Report, ServicesUnavailable
from .runner import DEFAULT_TIMEOUT, Progress, run_plan

def _runner(config: ResolvedConfig, progress: Progress | None, timeout: float) -> Callable[[], Awaitable[Report]] | None:
    """The coroutine factory that brings *config*'s services up on the background loop (None: nothing to do)."""
    plan = without_disabled(make_plan(config))
    if not plan:
        return None
    plan.validate()  # configuration errors before anything starts

    async def run() -> Report:
        return await run_plan(plan, pool=await RUNNER.pool(), progress=progress, timeout=timeout)

    return run


def _checked(report: Report) -> Report:
    if not report.ok:
        raise ServicesUnavailable(report)
    return report


async def bring_up(
    config: ResolvedConfig, *, progress: Progress | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Report:
    """Bring up every service of *config* on the background loop; raise if any fails."""
    run = _runner(config, progress, timeout)
    return Report() if run is None else _checked(await RUNNER.arun(run))


def bring_up_sync(
    config: ResolvedConfig, *, progress: Progress | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Report:
    """``bring_up`` for synchronous callers (also from inside a running event loop)."""
    run = _runner(config, progress, timeout)
    return Report() if run is None else _checked(RUNNER.run(run, timeout=timeout + 30))
