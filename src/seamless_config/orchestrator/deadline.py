"""One time budget per bring-up: a value object, and the absolute deadline it becomes.

``Timeout(total=180)`` is what callers pass (``init(timeout=...)``,
``seamless-init --timeout``); when a bring-up starts it becomes one
``Deadline`` (an instant on the event loop's clock). Every step, every wait
inside a step and the synchronous caller's wait derive from that one instant:

- each service step gets ``deadline.remaining()`` (the job backend, which
  waits for the storage services first, gets no budget of its own);
- the runner stops waiting at ``deadline + report_grace`` and reports every
  step that had not finished as failed ("deadline passed"); the grace is the
  time a step that hit the deadline needs to read its log tail and clean up;
- a synchronous ``init()`` waits ``total + report_grace + handoff`` at most,
  and even then raises ``BringUpTimeout`` with the partial report.

``USE_DEFAULT`` (distinct from ``None``) means "the default deadline".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final


class _UseDefault:
    def __repr__(self) -> str:
        return "USE_DEFAULT"


USE_DEFAULT: Final[Any] = _UseDefault()

DEFAULT_TOTAL = 180.0


@dataclass(frozen=True)
class Timeout:
    """The budget of one bring-up (seconds)."""

    total: float = DEFAULT_TOTAL
    # After the deadline: how long steps may take to report (log tail, shielded cleanup).
    report_grace: float = 12.0
    # On top of that, for a synchronous caller: the hand-off between threads.
    handoff: float = 5.0

    def __post_init__(self) -> None:
        for name in ("total", "report_grace", "handoff"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or value == float("inf"):
                from ..errors import UsageError

                raise UsageError(f"Timeout.{name} must be a finite number of seconds >= 0, not {value!r}")

    @classmethod
    def of(cls, value: Timeout | float | Any = USE_DEFAULT) -> Timeout:
        """A ``Timeout`` from a ``Timeout``, a number of seconds (the total) or ``USE_DEFAULT``."""
        if value is USE_DEFAULT or value is None:
            return cls()
        if isinstance(value, Timeout):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            from ..errors import UsageError

            raise UsageError(f"timeout must be a number of seconds or a Timeout, not {value!r}")
        return cls(total=float(value))

    @property
    def sync_wait(self) -> float:
        """How long a synchronous caller waits for the report, at most."""
        return self.total + self.report_grace + self.handoff

    def start(self) -> Deadline:
        """The deadline of a bring-up starting now (call on the event loop)."""
        import anyio  # not at import time: seamless-init's warm path has no event loop

        return Deadline(anyio.current_time() + self.total, self)


@dataclass(frozen=True)
class Deadline:
    """An instant on the event loop's clock, and the budget it came from."""

    at: float
    budget: Timeout

    def remaining(self) -> float:
        import anyio

        return max(0.0, self.at - anyio.current_time())

    @property
    def hard_stop(self) -> float:
        """When the runner stops waiting for steps that have not reported."""
        return self.at + self.budget.report_grace
