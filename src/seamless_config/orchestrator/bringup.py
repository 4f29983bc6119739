"""The entry points the façades call: bring up what a resolved configuration needs."""

from __future__ import annotations

import sys

from ..core.resolved import ResolvedConfig
from .loop import RUNNER
from .plan import Plan, make_plan
from .report import Report, ServicesUnavailable
from .runner import DEFAULT_TIMEOUT, Progress, run_plan

# Which module's DISABLED flag stops which service (tests set them).
_DISABLING_MODULE = {
    "hashserver": "seamless_remote.buffer_remote",
    "database": "seamless_remote.database_remote",
    "jobserver": "seamless_remote.jobserver_remote",
    "daskserver": "seamless_remote.daskserver_remote",
    "pure_daskserver": "seamless_config.pure_daskserver",
}


def without_disabled(plan: Plan) -> Plan:
    """Drop the steps whose seamless_remote module has ``DISABLED = True``."""
    steps = []
    for step in plan.steps:
        module = sys.modules.get(_DISABLING_MODULE[step.name])
        if not getattr(module, "DISABLED", False):
            steps.append(step)
    kept = {s.name for s in steps}
    return Plan(tuple(s for s in steps if all(d in kept for d in s.after)))


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
