"""Is a local PID alive? (Zombies and exiting processes count as dead.)"""

from __future__ import annotations

import os

_PF_EXITING = 0x4  # Linux task flag: the process is in do_exit()


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
