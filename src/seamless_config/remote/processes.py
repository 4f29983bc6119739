"""Local processes: liveness, identity, and the one guarded way to signal a service.

A PID in a state file is only a hint: the service may have died and the kernel
may have given its PID to an unrelated process. Before this package signals a
PID it checks that the process *is* the recorded service:

- its command line matches the state's ``command`` (the recorded argv's
  arguments end the process's argv, and the recorded program is one of the
  words before them: ``hashserver ...`` runs as ``python /venv/bin/hashserver ...``);
- its start time matches: exactly, if the state records ``pid_start_ticks``
  (our launcher does), else it must not be later than the state file's last
  write (the service started before its state was written; a recycled PID
  starts after).

This module uses the standard library only and has no relative imports: the
same source runs on SSH hosts (see ``state_store``).
"""

from __future__ import annotations

import os
import shlex
import signal
import time
from dataclasses import dataclass
from typing import Any

_PF_EXITING = 0x4  # Linux task flag: the process is in do_exit()
START_TOLERANCE = 2.0  # seconds: /proc's boot time has a one-second resolution


def pid_alive(pid: int) -> bool:
    """True if ``pid`` runs (or exists but belongs to another user).

    Without a reaping init (containers), a dead service stays a zombie, and a
    killed process can linger in do_exit(): /proc tells them apart on Linux.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return fields[0] not in ("Z", "X") and not int(fields[6]) & _PF_EXITING
    except (OSError, IndexError, ValueError):
        return True


@dataclass(frozen=True)
class ProcessInfo:
    """What /proc says about a live process."""

    pid: int
    argv: tuple[str, ...]
    start_ticks: int  # clock ticks after boot (/proc/PID/stat field 22)
    start_time: float  # the same, as a wall-clock time

    @property
    def command(self) -> str:
        return shlex.join(self.argv)


def _boot_time() -> float:
    with open("/proc/stat", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("btime "):
                return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def process_info(pid: int) -> ProcessInfo | None:
    """The live process ``pid``, or None (gone, a zombie, or /proc unreadable)."""
    if not pid_alive(pid):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read()
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 overall; fields[0] is field 3
        start = _boot_time() + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None
    argv = tuple(part.decode(errors="replace") for part in raw.rstrip(b"\0").split(b"\0")) if raw else ()
    return ProcessInfo(pid, argv, ticks, start)


def settled_process_info(pid: int, within: float = 1.0) -> ProcessInfo | None:
    """``process_info``, waiting (bounded) while the argv reads empty: right after fork, during exec, or
    while exiting, /proc/PID/cmdline is empty and says nothing about identity."""
    deadline = time.monotonic() + within
    info = process_info(pid)
    while info is not None and not info.argv and time.monotonic() < deadline:
        time.sleep(0.01)
        info = process_info(pid)
    return info


def start_ticks(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks after boot (recorded in state files at launch)."""
    info = process_info(pid)
    return info.start_ticks if info is not None else None


def command_matches(recorded: str, argv: tuple[str, ...]) -> bool:
    """Does a process running ``argv`` run the recorded ``command``?"""
    try:
        words = shlex.split(recorded)
    except ValueError:
        return False
    if not words or not argv:
        return False
    program, args = os.path.basename(words[0]), words[1:]
    if len(args) > len(argv) - 1:
        return False
    if args and tuple(argv[len(argv) - len(args):]) != tuple(args):
        return False
    head = argv[: len(argv) - len(args)]
    return any(os.path.basename(word) == program for word in head)


def check_identity(state: dict[str, Any], state_mtime: float | None) -> tuple[ProcessInfo | None, str]:
    """Is the state's PID the recorded service? ``(info, "")`` if so, else ``(None|info, reason)``.

    The reason is empty when the process matches, else says why it does not
    (``"gone"`` when nothing runs under that PID).
    """
    pid = state.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None, "no valid pid"
    info = settled_process_info(pid)
    if info is None:
        return None, "gone"
    command = state.get("command")
    if not isinstance(command, str) or not command_matches(command, info.argv):
        return info, f"pid {pid} is now `{info.command[:120]}`, not the recorded service"
    ticks = state.get("pid_start_ticks")
    if isinstance(ticks, int) and not isinstance(ticks, bool):
        if ticks != info.start_ticks:
            return info, f"pid {pid} started at another time than the recorded service"
    elif state_mtime is not None and info.start_time > state_mtime + START_TOLERANCE:
        return info, f"pid {pid} started after its state file was written"
    return info, ""


def _send(pid: int, sig: int, *, group: bool = False) -> str | None:
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        return "gone"
    except PermissionError:
        return "permission denied"
    return None


def _same_process(info: ProcessInfo) -> bool:
    """Is ``info.pid`` still that process? (By start time: an exiting process's argv reads as empty.)"""
    now = process_info(info.pid)
    return now is not None and now.start_ticks == info.start_ticks


def _wait_gone(info: ProcessInfo, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _same_process(info):
            return True
        time.sleep(0.02)
    return not _same_process(info)


def signal_guarded(info: ProcessInfo, sig: int, *, group: bool = False) -> str | None:
    """Send ``sig`` to ``info.pid`` (its process group if ``group``) if it is still that very process; None if sent."""
    if not _same_process(info):
        return "gone"
    return _send(info.pid, sig, group=group)


def stop_guarded(info: ProcessInfo, grace: float = 5.0, *, group: bool = False) -> str:
    """SIGINT, then SIGTERM, then SIGKILL (each after ``grace`` s), re-checking identity each time.

    With ``group``, each signal goes to the leader's whole process group, so that
    a service's children (a wrapper's shell, a jobserver's workers) go with it.

    Returns "stopped", "kill required", "gone" or "permission denied".
    """
    for number, sig in enumerate((signal.SIGINT, signal.SIGTERM, signal.SIGKILL)):
        problem = signal_guarded(info, sig, group=group)
        if problem == "gone":
            return "gone" if number == 0 else "stopped"
        if problem is not None:
            return problem
        if _wait_gone(info, grace):
            return "kill required" if sig == signal.SIGKILL else "stopped"
    return "kill required"


def _launched_group_leader(state: dict[str, Any], info: ProcessInfo) -> bool:
    """Signal the whole group only of a process this package launched (exact start time recorded)
    into a session of its own: a forged or foreign state never widens a signal beyond one PID."""
    ticks = state.get("pid_start_ticks")
    if not isinstance(ticks, int) or isinstance(ticks, bool) or ticks != info.start_ticks:
        return False
    try:
        return os.getpgid(info.pid) == info.pid
    except OSError:
        return False


def stop_recorded(state: dict[str, Any], state_mtime: float | None, grace: float = 5.0) -> tuple[str, str]:
    """Stop the service a state describes, only if its PID is still that service.

    Returns ``(outcome, detail)``; outcome is one of "stopped", "kill required",
    "not running" (nothing under that PID), "pid reused" (an unrelated process
    has the PID: it is left alone) or "permission denied".
    """
    info, reason = check_identity(state, state_mtime)
    if info is None:
        return "not running", reason
    if reason:
        return "pid reused", reason
    outcome = stop_guarded(info, grace, group=_launched_group_leader(state, info))
    return ("not running", "gone") if outcome == "gone" else (outcome, "")
