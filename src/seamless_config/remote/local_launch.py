"""Start a service on this machine the way ``rhl-launch-service`` does, without its process.

``rhl-launch-service`` is a Python program: on a local frontend, running it
costs a fresh interpreter (~0.3 s on a busy 2-core machine) per service, on the
critical path of every cold start. For launches without a conda environment
this module does the same steps in-process — detached service process, log
file, initial state JSON (``status: starting``) in the same place and format —
so the service is indistinguishable from one the helper started (``rhl-ps``,
``rhl-stop`` and the reference launcher see the same files). Launches with a
conda environment still go through the helper, which knows how to activate it.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .processes import start_ticks

HELPER = "rhl-launch-service"


@dataclass(frozen=True)
class LaunchRequest:
    """One launch, as a value: what ``rhl-launch-service`` takes (built by ``LaunchConfig.launch_request``)."""

    key: str
    workdir: str
    service_argv: tuple[str, ...]
    conda_env: str | None = None
    network_interface: str | None = None
    parameters: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None

    def helper_argv(self) -> list[str]:
        """The ``rhl-launch-service`` argv for this request (where the helper really runs: SSH, conda)."""
        argv = [HELPER, "--key", self.key, "--workdir", self.workdir]
        if self.conda_env:
            argv += ["--conda-env", self.conda_env]
        if self.network_interface:
            argv += ["--network-interface", self.network_interface]
        if self.parameters is not None:
            argv += ["--parameters", json.dumps(self.parameters)]
        if self.meta is not None:
            argv += ["--meta", json.dumps(self.meta)]
        return argv + ["--", *self.service_argv]


def _expand(arg: str) -> str:
    return Path(arg).expanduser().as_posix() if arg == "~" or arg.startswith("~/") else arg


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Spawned:
    pid: int
    log_path: Path
    argv: tuple[str, ...]


def spawn_service(request: LaunchRequest, server_dir: Path, env: dict[str, str]) -> Spawned:
    """Start the service process detached, logging to ``<key>.log``; no state file yet. Raises OSError.

    *env* is the environment the helper would have run with (its PATH finds the services).
    """
    argv = [_expand(a) for a in request.service_argv]
    executable = shutil.which(argv[0], path=env.get("PATH"))
    if executable is None:
        raise FileNotFoundError(f"'{argv[0]}' is not on PATH; install it (the [local] extra) or fix PATH")
    workdir = Path(_expand(request.workdir))
    server_dir.mkdir(parents=True, exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = server_dir / f"{request.key}.log"
    with log_path.open("wb", buffering=0) as log:
        process = subprocess.Popen(  # noqa: S603 - argv from our own validated launch dict
            [executable, *argv[1:]], cwd=workdir, env=env,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # the service outlives this process, as with the helper
        )
    # Unlike the helper's, this process stays our child: reap it when it exits, or it would linger as a
    # zombie that looks alive to `kill -0` (rhl-stop would wait 10 s for it, other launchers reuse it).
    threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
    return Spawned(process.pid, log_path, tuple(argv))


def write_starting_state(request: LaunchRequest, server_dir: Path, spawned: Spawned) -> None:
    """The initial state JSON the helper writes (``status: starting``); services wait for it."""
    data: dict[str, Any] = {
        "workdir": request.workdir,
        "log": spawned.log_path.as_posix(),
        "command": shlex.join(spawned.argv),
        "uid": os.getuid(),
        "pid": spawned.pid,
        "status": "starting",
    }
    ticks = start_ticks(spawned.pid)
    if ticks is not None:  # lets the PID guard (processes.py) tell this process from a recycled PID
        data["pid_start_ticks"] = ticks
    if request.network_interface is not None:
        data["network_interface"] = request.network_interface
    if request.parameters is not None:
        data["parameters"] = request.parameters
    if request.meta is not None:
        data["meta"] = request.meta
    _write_atomically(server_dir / f"{request.key}.json", data)


def write_state_or_stop(request: LaunchRequest, server_dir: Path, spawned: Spawned) -> None:
    """``write_starting_state``; if that fails (disk full, read-only), stop the process just spawned. Raises OSError.

    Without its state file nothing would ever find the process again: it would
    run unrecorded and the next launch would start a second one. It is our own
    fresh session (``start_new_session``, not yet reaped), so its PID and
    process group cannot belong to anyone else.
    """
    try:
        write_starting_state(request, server_dir, spawned)
    except OSError:
        try:
            os.killpg(spawned.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        raise


def launch_locally(request: LaunchRequest, server_dir: Path, env: dict[str, str]) -> int:
    """Start the service and write its initial state; return its PID. Raises OSError."""
    spawned = spawn_service(request, server_dir, env)
    write_state_or_stop(request, server_dir, spawned)
    return spawned.pid
