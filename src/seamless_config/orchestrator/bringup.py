"""The one bring-up entry point: what ``init()``, ``ainit()`` and ``seamless-init`` call.

- ``prepare(config)``: the plan (configuration errors surface here, before anything starts);
- ``warm_report(plan)``: a report without an event loop when every service's
  client record answers right now (``seamless-init``'s warm path);
- ``execute(plan, ...)``: the async bring-up itself, one ``PlanRun`` under one
  deadline, over a given connection pool or a fresh one; returns the report;
- ``bring_up`` / ``bring_up_sync``: ``execute`` on the persistent background
  loop (``loop.py``), raising ``ServicesUnavailable`` or ``BringUpTimeout``
  (both carry the report) for ``ainit()`` and ``init()``.

``seamless-init`` (a short-lived process) runs ``execute`` with ``anyio.run``
and prints the report; nothing else differs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._log import get_logger
from ..errors import BringUpTimeout
from .deadline import USE_DEFAULT, Timeout
from .plan import Plan, make_plan, without_disabled
from .report import Report, ServiceOutcome, ServicesUnavailable

if TYPE_CHECKING:  # the runner (anyio) and the background loop (asyncio) are imported when a bring-up runs:
    # seamless-init's warm path (prepare + warm_report) needs neither
    from collections.abc import Awaitable, Callable

    from ..core.resolved import ResolvedConfig
    from .runner import PlanRun, Progress

log = get_logger(__name__)


def prepare(config: ResolvedConfig) -> Plan:
    """The plan of *config*'s enabled services, every launch dict built once (raises ConfigurationError)."""
    plan = without_disabled(make_plan(config))
    plan.validate()
    return plan


def warm_report(plan: Plan) -> Report | None:
    """A report if every service of *plan* is recorded and answering right now, else None (no event loop)."""
    from ..remote.quick import reusable_all

    outcomes = []
    checks = reusable_all([step.build({}) for step in plan.steps])  # dependencies only matter for a launch
    for step, found in zip(plan.steps, checks):
        if found is None:
            return None
        connection, seconds = found
        outcomes.append(ServiceOutcome(step.name, step.host, "ok", seconds, connection=connection, reused=True))
    return Report(tuple(outcomes), sum(o.seconds for o in outcomes), 0)


async def execute(
    plan: Plan,
    *,
    timeout: Timeout | float | Any = USE_DEFAULT,
    progress: Progress | None = None,
    pool: Any = None,
    run: PlanRun | None = None,
) -> Report:
    """Bring *plan* up within one deadline and return the report (never raises for a service failure).

    *pool*: the ``ConnectionPool`` to use; a fresh one (closed afterwards) if None.
    *run*: a ``PlanRun`` made by the caller, to read a partial report from another thread.
    """
    from .runner import PlanRun

    run = run or PlanRun(plan, progress=progress, budget=Timeout.of(timeout))
    if pool is not None:
        return await run.run(pool)
    from ..remote import ConnectionPool

    async with ConnectionPool() as own_pool:
        return await run.run(own_pool)


def _checked(report: Report, budget: Timeout) -> Report:
    if report.ok:
        return report
    if report.deadline_passed:
        raise BringUpTimeout(budget.total, report)
    raise ServicesUnavailable(report)


def _stage(
    config: ResolvedConfig, progress: Progress | None, timeout: Timeout | float | Any
) -> tuple[Timeout, PlanRun, Callable[[], Awaitable[Report]]] | None:
    """The plan's run and the coroutine function that executes it on the background loop; None if
    there is nothing to bring up (what ``bring_up`` and ``bring_up_sync`` share)."""
    from .loop import RUNNER
    from .runner import PlanRun

    plan = prepare(config)
    if not plan:
        return None
    budget = Timeout.of(timeout)
    run = PlanRun(plan, progress=progress, budget=budget)

    async def go() -> Report:
        return await execute(plan, pool=await RUNNER.pool(), run=run)

    return budget, run, go


def _timed_out(budget: Timeout, run: PlanRun) -> BringUpTimeout:
    return BringUpTimeout(budget.total, run.report(f"the deadline of {budget.total:g}s passed"))


async def bring_up(
    config: ResolvedConfig, *, progress: Progress | None = None, timeout: Timeout | float | Any = USE_DEFAULT
) -> Report:
    """Bring up every service of *config* on the background loop; raise if any fails.

    Called from the caller's event loop: the work runs on the background loop,
    this coroutine only waits for it (at most the budget's ``sync_wait``).
    """
    import anyio

    from .loop import RUNNER

    staged = _stage(config, progress, timeout)
    if staged is None:
        return Report()
    budget, run, go = staged
    with anyio.move_on_after(budget.sync_wait) as scope:
        report = await RUNNER.arun(go)
    if scope.cancelled_caught:
        raise _timed_out(budget, run) from None
    return _checked(report, budget)


def bring_up_sync(
    config: ResolvedConfig, *, progress: Progress | None = None, timeout: Timeout | float | Any = USE_DEFAULT
) -> Report:
    """``bring_up`` for synchronous callers (also from inside a running event loop)."""
    from .loop import RUNNER

    staged = _stage(config, progress, timeout)
    if staged is None:
        return Report()
    budget, run, go = staged
    try:
        report = RUNNER.run(go, timeout=budget.sync_wait)
    except BringUpTimeout:
        raise _timed_out(budget, run) from None
    return _checked(report, budget)
