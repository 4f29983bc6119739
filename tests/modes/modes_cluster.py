"""A real local cluster for the execution-mode tests: hashserver + database + jobserver/daskserver.

Builds on ``tests/e2e/local_cluster.py`` (isolated HOME, stop by PID) and adds
a ``daskserver:`` frontend service with a ``type: local`` queue (the scheduler
and its ``distributed.LocalCluster`` run on this machine, no ``hostname``).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
E2E = HERE.parent / "e2e"
if str(E2E) not in sys.path:
    sys.path.insert(0, str(E2E))

from local_cluster import (  # noqa: E402
    LocalClusterProject,
    isolated_env,
    stop_services,
)

# Port ranges of their own (the e2e tests use 571xx-573xx); each >= 10 ports wide.
MODES_PORTS: dict[str, tuple[int, int]] = {
    "hashserver": (58100, 58199),
    "database": (58200, 58299),
    "jobserver": (58300, 58399),
    "daskserver": (58400, 58499),
}


def _yaml_list(items: Sequence[Any]) -> str:
    return "".join(f"- {json.dumps(item)}\n" for item in items)


def write_modes_project(
    root: Path,
    *,
    backend: str = "daskserver",  # daskserver | jobserver | none
    cluster: str = "modeslocal",
    project: str = "modesproj",
    workers: int = 2,
    execution: str = "remote",
    persistent: bool = True,
    queue_conda: Any = "",
    omit_queue_conda: bool = False,
    extra_commands: Sequence[Any] = (),
    ports: dict[str, tuple[int, int]] | None = None,
) -> LocalClusterProject:
    """``root/{home,project,buffers,db}`` and the two YAML files for one execution mode."""
    ports = dict(MODES_PORTS, **(ports or {}))
    home, project_dir = root / "home", root / "project"
    bufferdir, database_dir = root / "buffers", root / "db"
    for d in (home, project_dir, bufferdir, database_dir):
        d.mkdir(parents=True, exist_ok=True)
    frontend: dict[str, Any] = {}
    if persistent:
        frontend["hostname"] = "localhost"
        frontend["hashserver"] = {
            "bufferdir": str(bufferdir), "network_interface": "127.0.0.1",
            "port_start": ports["hashserver"][0], "port_end": ports["hashserver"][1],
        }
        frontend["database"] = {
            "database_dir": str(database_dir), "network_interface": "127.0.0.1",
            "port_start": ports["database"][0], "port_end": ports["database"][1],
        }
    if backend in ("jobserver", "daskserver"):
        frontend[backend] = {
            "network_interface": "127.0.0.1",
            "port_start": ports[backend][0], "port_end": ports[backend][1],
        }
        if backend == "jobserver":
            frontend["jobserver"]["conda"] = ""  # no conda on this host (0.3.2 requires the key)
    definition: dict[str, Any] = {"type": "local", "tunnel": False, "workers": workers, "frontends": [frontend]}
    if backend == "daskserver":
        queue: dict[str, Any] = {"walltime": "00:30:00", "memory": "2GB", "cores": 1, "maximum_jobs": workers}
        if not omit_queue_conda:
            queue["conda"] = queue_conda
        definition["default_queue"] = "main"
        definition["queues"] = {"main": queue}
    clusters = {cluster: definition, "local_cluster": cluster}
    profile: list[Any] = [{"clusters": clusters}, {"cluster": cluster}, {"execution": execution}]
    if backend in ("jobserver", "daskserver") and execution == "remote":
        profile.append({"remote": backend})
    if not persistent:
        profile.append({"persistent": False})
    profile.extend(extra_commands)
    project_cmds: list[Any] = [{"project": project}] if persistent else []
    if project_cmds:
        (project_dir / "seamless.yaml").write_text(_yaml_list(project_cmds))
    (project_dir / "seamless.profile.yaml").write_text(_yaml_list(profile))
    return LocalClusterProject(
        root=root, home=home, project_dir=project_dir, bufferdir=bufferdir, database_dir=database_dir,
        cluster=cluster, project=project, ports=ports, env=isolated_env(home),
    )


__all__ = ["MODES_PORTS", "write_modes_project", "stop_services", "LocalClusterProject", "run_bounded",
           "unwritten_promises"]


# --------------------------------------------------------------------------- a run that would hang

_PROMISE = re.compile(r'"PUT /promise/([0-9a-f]{64}) HTTP')
_WRITTEN = re.compile(r'"PUT /([0-9a-f]{64}) HTTP/[0-9.]+" 20[01]')


def unwritten_promises(proj: LocalClusterProject) -> list[str]:
    """Checksums the hashserver was promised (``PUT /promise/<cs>``) but never received."""
    text = "".join(p.read_text(errors="replace") for p in proj.server_dir.glob("hashserver-*.log"))
    written = set(_WRITTEN.findall(text))
    return sorted(set(_PROMISE.findall(text)) - written)


def run_bounded(proj: LocalClusterProject, script: Path, *args: str, timeout: float = 90.0) -> Any:
    """``proj.run_script`` whose timeout says which service waited for what (never a silent hang)."""
    try:
        return proj.run_script(script, *args, timeout=timeout)
    except AssertionError as exc:
        if "did not finish" not in str(exc):
            raise
        missing = unwritten_promises(proj)
        waited = (
            f"the hashserver was promised {len(missing)} buffer(s) that never arrived ({', '.join(m[:12] for m in missing)}); "
            "the job backend waits for them"
            if missing else "no missing buffer on the hashserver: the job backend did not answer"
        )
        raise AssertionError(f"{exc}\n=> {waited}\n{proj.diagnostics()}") from None
