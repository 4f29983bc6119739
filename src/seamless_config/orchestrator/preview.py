"""What ``init()`` would bring up, and what it would still refuse, found without side effects.

``seamless-config show`` prints :func:`planned_services`; ``seamless-config validate`` adds
:func:`combination_problems` to the per-file problems. Both run the orchestrator's own
plan (:func:`.plan.make_plan` and each step's launch dict), so they say what a bring-up
would do, not a reconstruction of it. Nothing is launched or contacted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.explain import explain
from ..core.resolved import ResolvedConfig
from ..core.validate import Problem, project_stages
from ..errors import ConfigurationError
from .plan import make_plan

__all__ = ["combination_problems", "planned_services"]


def planned_services(config: ResolvedConfig) -> tuple[list[dict[str, Any]], list[str]]:
    """The plan init() would run: service, host, storage path, launcher key (no side effects)."""
    services: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        plan = make_plan(config)
    except (ConfigurationError, KeyError) as exc:
        return [], [str(exc)]
    for step in plan.steps:
        entry: dict[str, Any] = {"service": step.name, "host": step.host, "after": list(step.after)}
        try:
            conf = step.build({})
        except (ConfigurationError, ValueError, KeyError) as exc:
            entry["error"] = str(exc)
            problems.append(f"{step.name}: {exc}")
        else:
            entry.update(workdir=conf.get("workdir"), key=conf.get("key"), hostname=conf.get("hostname"),
                         tunnel=conf.get("tunnel", False), ports=[conf.get("port_start"), conf.get("port_end")])
        services.append(entry)
    return services, problems


def combination_problems(workdir: Path, home: str) -> list[Problem]:
    """What init() would still refuse in a project whose files are each right: settings wrong together
    (execution remote without a cluster, a jobserver without workers, no queue for a daskserver, ...),
    found as show finds them, for no stage and each stage of the files. Nothing is launched."""
    problems: list[Problem] = []
    for stage in project_stages(workdir):
        where = f" (stage {stage})" if stage is not None else ""
        try:
            expl = explain(workdir, home, stage)  # the files, even under SEAMLESS_CACHE
        except ConfigurationError as exc:
            problems.append(Problem(str(workdir), None, None, f"{exc}{where}"))
            continue
        problems += [Problem(str(workdir), None, None, f"{text}{where}") for text in planned_services(expl.config)[1]]
    return problems
