"""The entry points the façades call: bring up what a resolved configuration needs."""

from __future__ import annotations

from ..core.resolved import ResolvedConfig
from .loop import RUNNER
from .plan import make_plan, without_disabled
from .report import Report, ServicesUnavailable
from .runner import DEFAULT_TIMEOUT, Progress, run_plan

async def bring_up(
    config: ResolvedConfig, *, progress: Progress | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Report:
    """Bring up every service of *config* on the background loop; raise if any fails."""
    plan = without_disabled(make_plan(config))
    if not plan:
        return Report()
    plan.validate()

    async def run() -> Report:
        return await run_plan(plan, pool=await RUNNER.pool(), progress=progress, timeout=timeout)

    report = await RUNNER.arun(run)
    if not report.ok:
        raise ServicesUnavailable(report)
    return report


def bring_up_sync(
    config: ResolvedConfig, *, progress: Progress | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Report:
    plan = without_disabled(make_plan(config))
    if not plan:
        return Report()
    plan.validate()

    async def run() -> Report:
        return await run_plan(plan, pool=await RUNNER.pool(), progress=progress, timeout=timeout)

    report = RUNNER.run(run, timeout=timeout + 30)
    if not report.ok:
        raise ServicesUnavailable(report)
    return report
