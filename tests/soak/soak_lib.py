"""The soak: cycles of init / random kill of a service (or tunnel) / init / a transformation.

Each cycle, on one long-lived project (a local cluster; with ``ssh=`` an SSH
frontend with tunnels):

1. ``seamless-init --json`` must succeed;
2. one fault: SIGKILL of a random service (hashserver, database, jobserver)
   or, with SSH, of a random service's tunnel;
3. ``seamless-init --json`` must succeed again (what it relaunched, and how
   long it took, is recorded);
4. a script calls ``init()`` and runs the new transformation ``add(cycle, 1000)``
   through the jobserver; every ``verify_every`` cycles and in the last one it
   also re-runs every earlier transformation: each must give its result
   without its body running again (served from seamless-database);
5. the process table is checked: one process per service (the recorded one),
   no duplicate, no leaked process or tunnel.

``run_soak`` returns the counts; it raises nothing for a failed cycle (the
counts say what failed), so a 200-cycle run always ends with its numbers.
"""

from __future__ import annotations

import json
import random
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FAULTS = HERE.parent / "faults"
if str(FAULTS) not in sys.path:
    sys.path.insert(0, str(FAULTS))

from fault_helpers import (  # noqa: E402
    TRANSFORM_SCRIPT,
    census,
    executions,
    kill_pids_checked,
    kill_service,
    tunnel_pids,
)
from orch_helpers import SERVICES, OrchProject  # noqa: E402


@dataclass
class SoakResult:
    cycles: int = 0
    faults: dict[str, int] = field(default_factory=dict)  # what was killed, how often
    init_failures: int = 0
    transform_failures: int = 0
    upstream_hangs: int = 0  # runs that hung with the upload-race signature (docs/upstream-issues.md): failures too
    duplicates: int = 0  # cycles that saw two processes for one service
    leaked: int = 0  # processes found that belong to no service / tunnel
    lost_results: int = 0  # earlier results whose body ran again or that came back wrong
    wrong_results: int = 0
    verified: int = 0  # earlier results checked
    recovery_seconds: list[float] = field(default_factory=list)  # init after a kill
    cold_seconds: float = 0.0
    cycle_seconds: list[float] = field(default_factory=list)
    transform_seconds: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        rec = sorted(self.recovery_seconds)
        data = asdict(self)
        for name in ("recovery_seconds", "cycle_seconds", "transform_seconds"):
            values = sorted(data.pop(name))
            if values:
                data[name.replace("_seconds", "_median_s")] = round(values[len(values) // 2], 3)
        data["problems"] = self.problems[:20]
        if rec:
            data["recovery_max_s"] = round(rec[-1], 3)
        data["faults_injected"] = sum(self.faults.values())
        return data

    @property
    def clean(self) -> bool:
        return not (self.init_failures or self.transform_failures or self.upstream_hangs or self.duplicates
                    or self.leaked or self.lost_results or self.wrong_results)


def _hung_on_upload_race(server_dir: Path, since: dict[str, int]) -> bool:
    import re

    pattern = re.compile(r"PUT [0-9a-f]{64} client disconnected")
    for log in server_dir.glob("hashserver-*.log"):
        text = log.read_text(errors="replace")
        if pattern.search(text[since.get(log.name, 0):]):
            return True
    return False


INIT_ARGS = ("--json", "--timeout", "60", "-vv")  # a report, with the log, well before the 90 s run bound


def _init(proj: OrchProject) -> Any:
    """One seamless-init run; a run that does not even finish counts as a failed one (returncode -1)."""
    try:
        return proj.init(*INIT_ARGS)
    except AssertionError as exc:
        from orch_helpers import Run

        return Run(list(INIT_ARGS), -1, "", str(exc), 90.0)


def run_soak(
    proj: OrchProject,
    cycles: int,
    *,
    seed: int = 0,
    verify_every: int = 10,
    tunnels: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> SoakResult:
    rng = random.Random(seed)
    result = SoakResult()
    marker = proj.root / "soak-executions.txt"
    targets = [("service", s) for s in SERVICES] + ([("tunnel", s) for s in SERVICES] if tunnels else [])
    expected: dict[int, int] = {}

    t0 = time.monotonic()
    cold = _init(proj)
    result.cold_seconds = time.monotonic() - t0
    if cold.returncode != 0:
        result.init_failures += 1
        result.problems.append("cold init: " + cold.describe()[-2000:])
        return result

    order: list[tuple[str, str]] = []
    for cycle in range(cycles):
        result.cycles += 1
        if not order:  # every target once per round, in a random order
            order = rng.sample(targets, len(targets))
        kind, service = order.pop()
        tc = time.monotonic()
        first = _init(proj)
        if first.returncode != 0:
            result.init_failures += 1
            result.problems.append(f"cycle {cycle} init 1: " + first.describe()[-6000:])
            say(f"cycle {cycle + 1}/{cycles}: init FAILED (exit {first.returncode})")
            continue
        try:
            if kind == "service":
                kill_service(proj, service)
            else:
                pids = tunnel_pids(proj, service)
                if not pids:
                    raise AssertionError(f"no tunnel behind {service}")
                kill_pids_checked(pids, signal.SIGKILL)
        except AssertionError as exc:
            result.problems.append(f"cycle {cycle} fault {kind}:{service}: {exc}")
            continue
        label = f"{kind}:{service}"
        result.faults[label] = result.faults.get(label, 0) + 1

        t1 = time.monotonic()
        second = _init(proj)
        if second.returncode != 0:
            result.init_failures += 1
            result.problems.append(f"cycle {cycle} init after {label}: " + second.describe()[-6000:])
            say(f"cycle {cycle + 1}/{cycles}: init after {label} FAILED (exit {second.returncode})")
            continue
        result.recovery_seconds.append(time.monotonic() - t1)

        verify = cycle == cycles - 1 or (verify_every and cycle % verify_every == verify_every - 1)
        ks = [cycle] + (sorted(expected) if verify else [])
        logs_before = {p.name: p.stat().st_size for p in proj.server_dir.glob("hashserver-*.log")}
        before = executions(marker)
        try:
            run = proj.run_script("soak_transform.py", TRANSFORM_SCRIPT, str(marker), json.dumps(ks), timeout=120)
        except AssertionError as exc:
            from orch_helpers import Run

            run = Run(["soak_transform.py"], -1, "", str(exc), 120.0)
        if run.returncode != 0:
            if _hung_on_upload_race(proj.server_dir, logs_before):
                result.upstream_hangs += 1
                result.problems.append(f"cycle {cycle} (upstream upload race) after {label}: " + run.stderr[-800:])
            else:
                result.transform_failures += 1
                result.problems.append(f"cycle {cycle} transformation after {label}: " + run.describe()[-2500:])
        else:
            out = run.tagged("FAULTS-RESULT")["results"]
            after = executions(marker)
            for k in ks:
                if out.get(str(k)) != k + 1000:
                    result.wrong_results += 1
                    result.problems.append(f"cycle {cycle}: add({k}) gave {out.get(str(k))}")
                ran = after.get(k, 0) - before.get(k, 0)
                if k == cycle:
                    expected[k] = k + 1000
                    if ran != 1:
                        result.problems.append(f"cycle {cycle}: new transformation ran {ran} times")
                        result.lost_results += ran > 1
                else:
                    result.verified += 1
                    if ran:
                        result.lost_results += 1
                        result.problems.append(f"cycle {cycle}: earlier add({k}) ran again (result lost)")

        c = census(proj)
        if c.duplicates:
            result.duplicates += 1
            result.problems.append(f"cycle {cycle}: duplicates {c.duplicates}")
        if c.leaked:
            result.leaked += len(c.leaked)
            result.problems.append(f"cycle {cycle}: leaked {c.leaked}")
            kill_pids_checked(list(c.leaked), signal.SIGKILL)  # so the next cycle counts only its own
        result.cycle_seconds.append(time.monotonic() - tc)
        result.transform_seconds.append(run.seconds)
        say(
            f"cycle {cycle + 1}/{cycles} ({result.cycle_seconds[-1]:.1f}s, transform {run.seconds:.1f}s): "
            f"killed {label}, recovered in {result.recovery_seconds[-1]:.2f}s, "
            f"transform {'ok' if run.returncode == 0 else 'FAILED'} ({len(ks)} checked) "
            f"dup={result.duplicates} leak={result.leaked} lost={result.lost_results}"
        )
    return result
