"""Run a plan: every step in one anyio task group, each step waiting only for what it needs.

One ``PlanRun`` per bring-up. Its steps share one ``Deadline``: each step's
``ensure_service`` gets what is left of it, and at ``deadline + report_grace``
the runner stops waiting and reports every unfinished step as failed. The
report can also be read from another thread while the run is under way
(``PlanRun.report()``): that is what a synchronous caller shows when even
its own bounded wait runs out.

A step never raises: a ``ServiceError`` (the remote layer's translated
errors) becomes a "failed" outcome with the service's log tail, anything
else (a bug, a bad launch dict) a "failed" outcome naming the exception, and
both are logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import anyio

from .._log import get_logger
from ..errors import ConnectionFailedError, ServiceError
from .deadline import Deadline, Timeout
from .plan import Plan, Step
from .report import Report, ServiceOutcome

log = get_logger(__name__)

# progress(service, phase, detail): called on every phase change, from the event loop.
Progress = Callable[[str, str, str], None]

DEFAULT_TIMEOUT = Timeout().total


class _DependencyFailed(Exception):
    def __init__(self, failed: list[str]) -> None:
        super().__init__(", ".join(failed))
        self.failed = failed


def _short_reason(reason: str, tail: str | None) -> tuple[str, str | None]:
    """A short reason; a long one (a helper's traceback on stderr) moves into the tail."""
    lines = [line for line in reason.strip().splitlines() if line.strip()]
    if len(lines) <= 2:
        return reason.strip(), tail
    return lines[-1].strip(), "\n".join(lines[:-1]) + ("\n" + tail if tail else "")


def _last_line(text: str | None) -> str | None:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else None


async def _conda_preflight(plan: Plan, pool: Any, timeout: float) -> dict[str, ServiceOutcome]:
    """Check every named conda environment of *plan* on its host, concurrently; the failures by step."""
    from ..remote.launcher import check_conda

    refused: dict[str, ServiceOutcome] = {}

    async def check(step: Step, conf: dict[str, Any]) -> None:
        try:
            await check_conda(conf, pool=pool, timeout=min(timeout, 60.0))
        except ConnectionFailedError:
            return  # the step itself reports an unreachable host, as without conda
        except ServiceError as exc:
            refused[step.name] = ServiceOutcome(step.name, exc.host or step.host, "failed",
                                                reason=exc.reason or str(exc))
        except TimeoutError:
            refused[step.name] = ServiceOutcome(step.name, step.host, "failed",
                                                reason="timed out checking its conda environment")

    async with anyio.create_task_group() as tg:
        for step in plan.steps:
            try:
                conf = step.build({})
            except Exception:  # reported by the step itself when it runs
                continue
            if conf.get("conda"):
                tg.start_soon(check, step, conf)
    return refused


def _addresses(parameters: Any) -> set[tuple[str, str]]:
    """The (kind, url) pairs of a ``file_parameters`` / recorded ``parameters`` block."""
    found: set[tuple[str, str]] = set()
    if isinstance(parameters, dict):
        for kind in ("database", "buffer"):
            entries = parameters.get(kind)
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    found.add((kind, str(entry.get("remote_url") or entry.get("url"))))
    return found


class PlanRun:
    """One bring-up of *plan* over *pool*, bounded by *budget*."""

    def __init__(self, plan: Plan, *, progress: Progress | None = None, budget: Timeout | None = None) -> None:
        self.plan = plan
        self.pool: Any = None
        self.progress = progress
        self.budget = budget or Timeout()
        self.deadline: Deadline | None = None
        self._lock = threading.Lock()  # outcomes are read by report() from other threads
        self._outcomes: dict[str, ServiceOutcome] = {}
        self._phase: dict[str, str] = {}
        self._connections: dict[str, dict[str, Any]] = {}
        self._done: dict[str, anyio.Event] = {}
        # A step's address is known (its tunnel is open; the handshake may still be under way), or
        # the step is done: what a job backend's parameters wait for (set by on_address or at the end).
        self._addressed: dict[str, anyio.Event] = {}
        self._early: dict[str, dict[str, Any]] = {}
        self._started: float | None = None
        self._opened_before = 0
        self._deadline_passed = False

    # -- bookkeeping ------------------------------------------------------------

    def _note(self, service: str, phase: str, detail: str) -> None:
        self._phase[service] = phase
        log.debug("%s: %s %s", service, phase, detail)
        if self.progress is not None:
            try:
                self.progress(service, phase, detail)
            except Exception:  # a display must not break a bring-up
                log.exception("progress callback failed for %s %s", service, phase)

    def _record(self, outcome: ServiceOutcome) -> None:
        with self._lock:
            self._outcomes[outcome.service] = outcome
        if outcome.status == "ok":
            log.info(
                "%s on %s: %s at %s (%.2fs)", outcome.service, outcome.host,
                "reused" if outcome.reused else "started", outcome.address, outcome.seconds,
            )
        elif outcome.status == "skipped":
            log.warning("%s on %s: skipped (%s)", outcome.service, outcome.host, outcome.reason)
        else:
            log.warning("%s on %s: failed: %s (log: %s)", outcome.service, outcome.host, outcome.reason, outcome.log_path)

    def report(self, pending_reason: str | None = None) -> Report:
        """The outcomes so far; a step without one is "failed" with *pending_reason* (default: still running)."""
        if pending_reason is not None:
            self._deadline_passed = True
        with self._lock:
            outcomes = dict(self._outcomes)
        now = time.monotonic()
        elapsed = now - self._started if self._started is not None else 0.0
        result = []
        for step in self.plan.steps:
            outcome = outcomes.get(step.name)
            if outcome is None:
                phase = self._phase.get(step.name, "waiting")
                reason = pending_reason or "still starting"
                outcome = ServiceOutcome(step.name, step.host, "failed", elapsed, reason=f"{reason} (last phase: {phase})")
            result.append(outcome)
        opened = getattr(self.pool, "connections_opened", 0) - self._opened_before
        return Report(tuple(result), elapsed, opened, deadline_passed=self._deadline_passed)

    # -- running ----------------------------------------------------------------

    async def run(self, pool: Any) -> Report:
        """Bring up every step concurrently over *pool*; never raises for a service failure (see the report)."""
        self.pool = pool
        self._opened_before = getattr(pool, "connections_opened", 0)
        self._started = time.monotonic()
        self.deadline = self.budget.start()
        self._done = {step.name: anyio.Event() for step in self.plan.steps}
        self._addressed = {step.name: anyio.Event() for step in self.plan.steps}
        log.info("bringing up %s (deadline %gs)", ", ".join(self.plan.names), self.budget.total)
        with anyio.move_on_after(self.budget.total + self.budget.report_grace) as scope:
            refused = await _conda_preflight(self.plan, pool, self.deadline.remaining())
            if refused:  # a named conda environment is missing: launch nothing at all
                for step in self.plan.steps:
                    outcome = refused.get(step.name) or ServiceOutcome(
                        step.name, step.host, "skipped", reason=f"not started: {', '.join(refused)} cannot run (conda)"
                    )
                    self._record(outcome)
                    self._note(step.name, outcome.status, outcome.reason or "")
            else:
                async with anyio.create_task_group() as tg:
                    for step in self.plan.steps:
                        tg.start_soon(self._run_step, step)
        failed = any(o.status != "ok" for o in self._outcomes.values()) or len(self._outcomes) < len(self.plan.steps)
        self._deadline_passed = failed and anyio.current_time() >= self.deadline.at - 0.05
        if scope.cancelled_caught:
            self._deadline_passed = True
            log.warning("deadline of %gs passed; reporting the services that had not finished", self.budget.total)
            report = self.report(f"the deadline of {self.budget.total:g}s passed")
            for outcome in report.outcomes:
                if outcome.service not in self._outcomes:
                    self._record(outcome)
        return self.report()

    async def _wait_for_dependencies(self, step: Step) -> list[str]:
        """Wait for the steps *step* needs; the names of those that failed."""
        for dependency in step.after:
            await self._done[dependency].wait()
        return [d for d in step.after if self._outcomes[d].status != "ok"]

    async def _wait_for_addresses(self, step: Step) -> list[str]:
        """Wait until the steps *step* needs have an address (or are done); the names of those that failed.

        A dependency whose handshake fails after that still fails its own step, and the job
        backend is then reported skipped (see ``_attempt``); the one started with its address is
        replaced at the next bring-up if the storage service comes back elsewhere
        (``_replace_if_outdated``).
        """
        for dependency in step.after:
            await self._addressed[dependency].wait()
        failed = []
        for dependency in step.after:
            outcome = self._outcomes.get(dependency)
            known_failed = outcome is not None and outcome.status != "ok"
            if known_failed or (outcome is None and dependency not in self._early):
                failed.append(dependency)
        return failed

    def _on_address(self, step: Step, connection: dict[str, Any]) -> None:
        self._early[step.name] = connection
        self._addressed[step.name].set()

    def _skip(self, step: Step, failed: list[str]) -> None:
        self._record(ServiceOutcome(step.name, step.host, "skipped", reason=f"needs {', '.join(failed)}"))
        self._note(step.name, "skipped", f"needs {', '.join(failed)}")

    async def _replace_if_outdated(
        self, step: Step, connection: dict[str, Any], on_phase: Callable[[str, str], None], deadline: Deadline
    ) -> dict[str, Any]:
        """A reused service that was given other dependencies' addresses (a storage service restarted
        elsewhere since) is stopped and launched again with the current ones."""
        from ..remote import ensure_service, stop_service

        failed = await self._wait_for_dependencies(step)
        if failed:
            raise _DependencyFailed(failed)
        conf = step.build(self._connections)
        wanted = _addresses(conf.get("file_parameters"))
        have = _addresses(connection.get("parameters"))
        if wanted == have:
            return connection
        log.warning(
            "%s was started for %s but the storage services now run at %s: relaunching it",
            step.name, sorted(have), sorted(wanted),
        )
        on_phase("outdated", "relaunch")
        await stop_service(conf, pool=self.pool, timeout=min(deadline.remaining(), 60.0))
        on_phase("launch", "replacing")
        return await ensure_service(conf, pool=self.pool, on_phase=on_phase, timeout=deadline.remaining())

    async def _run_step(self, step: Step) -> None:
        try:
            await self._attempt(step)
        finally:
            self._done[step.name].set()
            self._addressed[step.name].set()

    async def _attempt(self, step: Step) -> None:
        from ..remote import ensure_service

        deadline = self.deadline or self.budget.start()  # run() set it
        late = None
        if step.after and step.parameters_from_after:

            async def late() -> dict[str, Any]:
                # The storage addresses as soon as the tunnels to them are open: the job backend
                # (spawned already, importing) then starts while their handshakes are under way.
                failed = await self._wait_for_addresses(step)
                if failed:
                    raise _DependencyFailed(failed)
                parameters: dict[str, Any] = step.build(self._early | self._connections)["file_parameters"]
                return parameters

        elif step.after:
            failed = await self._wait_for_dependencies(step)
            if failed:
                self._skip(step, failed)
                return
        t0 = time.monotonic()
        phases: list[str] = []

        def on_phase(phase: str, result: str) -> None:
            phases.append(phase)
            self._note(step.name, phase, result)

        try:
            conf = step.build(self._connections)
            connection = await ensure_service(
                conf, pool=self.pool, on_phase=on_phase, timeout=deadline.remaining(), late_parameters=late,
                on_address=lambda address: self._on_address(step, address),
            )
            if step.parameters_from_after and "launch" not in phases:
                connection = await self._replace_if_outdated(step, connection, on_phase, deadline)
            if late is not None:
                # It got the storage addresses before their handshakes: it counts only if they passed.
                failed = await self._wait_for_dependencies(step)
                if failed:
                    log.warning("%s was started, but %s failed its handshake: reporting it skipped",
                                step.name, ", ".join(failed))
                    raise _DependencyFailed(failed)
        except _DependencyFailed as exc:
            self._skip(step, exc.failed)
            return
        except ServiceError as exc:
            reason, tail = _short_reason(exc.reason or str(exc), exc.log_tail)
            last = _last_line(tail)
            if last and last not in reason:
                reason = f"{reason}: {last}"  # usually the service's own error message
            self._record(ServiceOutcome(
                step.name, exc.host or step.host, "failed", time.monotonic() - t0,
                reason=reason, log_path=exc.log_path, log_tail=tail,
            ))
            self._note(step.name, "failed", str(exc))
            return
        except Exception as exc:  # a bug or a bad launch dict: report it with the others
            log.exception("%s: unexpected error during bring-up", step.name)
            self._record(ServiceOutcome(
                step.name, step.host, "failed", time.monotonic() - t0, reason=f"{type(exc).__name__}: {exc}",
            ))
            self._note(step.name, "failed", str(exc))
            return
        self._connections[step.name] = connection
        self._record(ServiceOutcome(
            step.name, step.host, "ok", time.monotonic() - t0, connection=connection, reused="launch" not in phases,
        ))
        self._note(step.name, "ready", f"{connection.get('hostname')}:{connection.get('port')}")


async def run_plan(
    plan: Plan,
    *,
    pool: Any,
    progress: Progress | None = None,
    timeout: Timeout | float = DEFAULT_TIMEOUT,
) -> Report:
    """Bring up every step of *plan* concurrently within one deadline; never raises for a service failure."""
    return await PlanRun(plan, progress=progress, budget=Timeout.of(timeout)).run(pool)
