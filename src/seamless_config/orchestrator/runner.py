"""Run a plan: every step in one anyio task group, each step waiting only for what it needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from ..errors import ConnectionFailedError, ServiceError
from .plan import Plan, Step
from .report import Report, ServiceOutcome

# progress(service, phase, detail): called on every phase change, from the event loop.
Progress = Callable[[str, str, str], None]

DEFAULT_TIMEOUT = 180.0


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


async def run_plan(
    plan: Plan,
    *,
    pool: Any,
    progress: Progress | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Report:
    """Bring up every step of *plan* concurrently; never raises for a service failure (see the report)."""
    from ..remote import ensure_service

    start = anyio.current_time()
    opened_before = getattr(pool, "connections_opened", 0)
    done: dict[str, anyio.Event] = {step.name: anyio.Event() for step in plan.steps}
    outcomes: dict[str, ServiceOutcome] = {}
    connections: dict[str, dict[str, Any]] = {}

    def note(service: str, phase: str, detail: str) -> None:
        if progress is not None:
            progress(service, phase, detail)

    async def wait_for_dependencies(step: Step) -> list[str]:
        """Wait for the steps *step* needs; the names of those that failed."""
        for dependency in step.after:
            await done[dependency].wait()
        return [d for d in step.after if outcomes[d].status != "ok"]

    def skip(step: Step, failed: list[str]) -> None:
        outcomes[step.name] = ServiceOutcome(step.name, step.host, "skipped", reason=f"needs {', '.join(failed)}")
        note(step.name, "skipped", f"needs {', '.join(failed)}")

    async def run_step(step: Step) -> None:
        try:
            late = None
            if step.after and step.parameters_from_after:

                async def late() -> dict[str, Any]:
                    failed = await wait_for_dependencies(step)
                    if failed:
                        raise _DependencyFailed(failed)
                    parameters: dict[str, Any] = step.build(connections)["file_parameters"]
                    return parameters

            elif step.after:
                failed = await wait_for_dependencies(step)
                if failed:
                    skip(step, failed)
                    return
            t0 = anyio.current_time()
            phases: list[str] = []

            def on_phase(phase: str, result: str) -> None:
                phases.append(phase)
                note(step.name, phase, result)

            try:
                conf = step.build(connections)
                # A step that waits for its dependencies inside ensure_service gets their budget too.
                budget = timeout * (1 + len(step.after)) if late is not None else timeout
                connection = await ensure_service(
                    conf, pool=pool, on_phase=on_phase, timeout=budget, late_parameters=late
                )
            except _DependencyFailed as exc:
                skip(step, exc.failed)
                return
            except ServiceError as exc:
                reason, tail = _short_reason(exc.reason or str(exc), exc.log_tail)
                last = _last_line(tail)
                if last and last not in reason:
                    reason = f"{reason}: {last}"  # usually the service's own error message
                outcomes[step.name] = ServiceOutcome(
                    step.name, exc.host or step.host, "failed", anyio.current_time() - t0,
                    reason=reason, log_path=exc.log_path, log_tail=tail,
                )
                note(step.name, "failed", str(exc))
                return
            except Exception as exc:  # a bug or a bad launch dict: report it with the others
                outcomes[step.name] = ServiceOutcome(
                    step.name, step.host, "failed", anyio.current_time() - t0,
                    reason=f"{type(exc).__name__}: {exc}",
                )
                note(step.name, "failed", str(exc))
                return
            connections[step.name] = connection
            reused = "launch" not in phases
            outcomes[step.name] = ServiceOutcome(
                step.name, step.host, "ok", anyio.current_time() - t0, connection=connection, reused=reused
            )
            note(step.name, "ready", f"{connection.get('hostname')}:{connection.get('port')}")
        finally:
            done[step.name].set()

    refused = await _conda_preflight(plan, pool, timeout)
    if refused:  # a named conda environment is missing: launch nothing at all
        for step in plan.steps:
            outcome = refused.get(step.name)
            if outcome is None:
                outcome = ServiceOutcome(step.name, step.host, "skipped",
                                         reason=f"not started: {', '.join(refused)} cannot run (conda)")
            outcomes[step.name] = outcome
            note(step.name, outcome.status, outcome.reason or "")
    else:
        async with anyio.create_task_group() as tg:
            for step in plan.steps:
                tg.start_soon(run_step, step)
    return Report(
        tuple(outcomes[s.name] for s in plan.steps),
        anyio.current_time() - start,
        getattr(pool, "connections_opened", 0) - opened_before,
    )
