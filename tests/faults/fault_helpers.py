"""Helpers for the fault, concurrency and soak suites: faults to inject and what must hold afterwards.

Built on the orchestrator helpers (``tests/orchestrator/orch_helpers.py``:
projects with an isolated HOME and their own port ranges, ``seamless-init``
runs, teardown by PID) and ``tests/e2e/local_cluster.py``.

Killing a service: only a PID whose command line names that project's own
status file (``_is_service_of``), never by name. Leaks are found by
environment: every process this suite causes runs with ``HOME=<project
home>``, so a /proc scan for that HOME finds all of them, recorded or not.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
for _path in (str(TESTS / "orchestrator"), str(TESTS / "e2e"), str(TESTS)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import orch_helpers  # noqa: E402
from local_cluster import _cmdline, _descendants, pid_alive  # noqa: E402
from orch_helpers import OrchProject, _record_ports  # noqa: E402

# Our own port blocks (63000-64999), apart from the orchestrator suite's (61000+): when several test
# runs share a machine, two services racing for one port is a fault of its own (hashserver 1.1.0
# writes "running" before uvicorn binds, so the loser exits after reporting success and a
# health check may reach the winner); the fault suites must see only the faults they inject.
if orch_helpers.PORT_BASE < 63000:
    orch_helpers.PORT_BASE = 63000 + 1000 * (os.getpid() % 2)

from seamless_config.remote import find_tunnel_pids  # noqa: E402

# The user's script: init(), then the transformations add(k, 1000) for every k
# given; the function body appends "<k> <pid>" to the marker file, so each
# line is one real execution.
TRANSFORM_SCRIPT = """
import faulthandler, json, os, sys, time

faulthandler.dump_traceback_later(float(os.environ.get("FAULTS_HANG_AFTER", "75")), exit=True)
t0 = time.monotonic()
import seamless
import seamless.config
from seamless.transformer import delayed

seamless.config.init()
t_init = time.monotonic() - t0


@delayed
def add(a, b, marker):
    import os
    with open(marker, "a") as f:
        f.write(f"{a} {os.getpid()}\\n")
    return a + b


marker = sys.argv[1]
results = {}
t1 = time.monotonic()
for k in json.loads(sys.argv[2]):
    # run() only: seamless-transformer 0.6.1's is_cached() before run() can
    # abort input uploads (see /work/shared/evidence/upload-race.md).
    results[str(k)] = add(k, 1000, marker).run()
payload = {"results": results, "init_seconds": round(t_init, 3), "run_seconds": round(time.monotonic() - t1, 3),
           "client_pid": os.getpid()}
print("FAULTS-RESULT", json.dumps(payload), flush=True)
seamless.close()
"""


def executions(marker: Path) -> dict[int, int]:
    """How many times the body of add(k, ...) ran, per k."""
    counts: dict[int, int] = {}
    if marker.exists():
        for line in marker.read_text().splitlines():
            parts = line.split()
            if parts:
                counts[int(parts[0])] = counts.get(int(parts[0]), 0) + 1
    return counts


def _is_service_of(pid: int, home: Path, key: str) -> bool:
    """Does *pid* run with ``--status-file <home>/.remote-http-launcher/server/<key>.json``?"""
    cmd = _cmdline(pid)
    suffix = f".remote-http-launcher/server/{key}.json"
    return f"{home}/{suffix}" in cmd or f"~/{suffix}" in cmd


def service_pid(proj: OrchProject, service: str) -> int:
    key, state = proj.state_for(service)
    pid = state["pid"]
    assert isinstance(pid, int) and pid_alive(pid), (service, state)
    assert _is_service_of(pid, proj.server_home, key), f"pid {pid} is not {service} of this project"
    return pid


def kill_service(proj: OrchProject, service: str, sig: signal.Signals = signal.SIGKILL, timeout: float = 10.0) -> int:
    """Send *sig* to the project's *service* (identity checked by its command line); wait until it is gone."""
    pid = service_pid(proj, service)
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not pid_alive(pid), f"{service} (pid {pid}) survived {sig.name}"
    return pid


def tunnel_pids(proj: OrchProject, service: str) -> list[int]:
    """The ``ssh -L`` processes behind *service*'s client record."""
    for record in proj.client_records().values():
        if (record.get("meta") or {}).get("service") == service:
            return sorted({pid for port in _record_ports(record) for pid in find_tunnel_pids(port)})
    return []


def _environ_home(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    for item in raw.split(b"\0"):
        if item.startswith(b"HOME="):
            return item[5:].decode(errors="replace")
    return None


def processes_with_home(*homes: Path) -> dict[int, str]:
    """Live processes whose environment has HOME set to one of *homes*: pid -> command line."""
    wanted = {str(h) for h in homes}
    found: dict[int, str] = {}
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        pid = int(entry.name)
        if _environ_home(pid) in wanted and pid_alive(pid):
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue
            found[pid] = cmd
    return found


@dataclass
class Census:
    """Who runs for a project: services (one per key?), their children, tunnels, and anything else (leaks)."""

    services: dict[str, list[int]]  # key -> live processes running with that status file
    recorded: dict[str, int]  # key -> pid in the state file
    tunnels: list[int]  # tunnel processes behind the client records
    leaked: dict[int, str] = field(default_factory=dict)  # everything else with the project's HOME

    @property
    def duplicates(self) -> dict[str, list[int]]:
        return {k: p for k, p in self.services.items() if len(p) > 1}

    def describe(self) -> str:
        return json.dumps(
            {"services": self.services, "recorded": self.recorded, "tunnels": self.tunnels, "leaked": self.leaked},
            indent=1,
        )


def census(proj: OrchProject, *, allow: tuple[int, ...] = ()) -> Census:
    services = proj.service_processes()
    recorded = {k: s["pid"] for k, s in proj.server_states().items() if isinstance(s.get("pid"), int)}
    ports = sorted({p for r in proj.client_records().values() for p in _record_ports(r)})
    tunnels = sorted({pid for port in ports for pid in find_tunnel_pids(port)})
    # A recorded PID is the service even when its command line no longer names the status file (exec).
    expected: set[int] = set(tunnels) | set(allow) | {p for p in recorded.values() if pid_alive(p)}
    for pids in services.values():
        for pid in pids:
            expected.add(pid)
            expected.update(_descendants(pid))
    homes = {proj.home, proj.server_home}
    others = {pid: cmd for pid, cmd in processes_with_home(*homes).items() if pid not in expected}
    # An sshd session process serving one of our tunnels runs with the remote HOME: it belongs to the tunnel.
    leaked = {pid: cmd for pid, cmd in others.items() if not cmd.startswith("sshd")}
    # A service process that no state file names is unrecorded: nothing would ever stop or reuse it.
    for key, pids in services.items():
        for pid in pids:
            if recorded.get(key) != pid and pid not in leaked:
                leaked[pid] = f"(unrecorded {key}) " + (processes_with_home(*homes).get(pid) or "")
    return Census(services, recorded, tunnels, leaked)


def assert_clean(proj: OrchProject, *, allow: tuple[int, ...] = (), settle: float = 5.0) -> Census:
    """One live process per service (the recorded one), no duplicate, no leaked process (waits *settle* s)."""
    deadline = time.monotonic() + settle
    while True:
        c = census(proj, allow=allow)
        ok = not c.duplicates and not c.leaked and all(
            c.services.get(k) == [pid] for k, pid in c.recorded.items() if pid_alive(pid)
        )
        if ok or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert ok, "unclean process table:\n" + c.describe()
    return c


def all_json_parses(directory: Path) -> list[str]:
    """The *.json files of *directory* that do not parse (half-written state)."""
    bad = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            json.loads(path.read_text())
        except (OSError, ValueError):
            bad.append(path.name)
    return bad


def report_services(run_json: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["service"]: entry for entry in run_json["services"]}


def kill_pids_checked(pids: list[int], sig: signal.Signals = signal.SIGKILL, timeout: float = 10.0) -> None:
    """Signal *pids* (processes this suite found as its own: tunnels, leaks of its project) and wait until gone."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    alive = [p for p in pids if pid_alive(p)]
    assert not alive, f"still alive after {sig.name}: {alive}"
