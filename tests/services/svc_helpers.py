"""Running the ``seamless-service-*`` commands in a test project (HOME isolated, bounded)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from orch_helpers import OrchProject, Run

BIN = Path(sys.executable).parent
RUN_TIMEOUT = 90.0


def svc(proj: OrchProject, name: str, *args: str, env: dict[str, str] | None = None,
        timeout: float = RUN_TIMEOUT, cwd: Path | None = None) -> Run:
    argv = [str(BIN / f"seamless-service-{name}"), *args]
    start = time.monotonic()
    done = subprocess.run(argv, cwd=cwd or proj.project_dir, env=env or proj.env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    print(f"{time.monotonic() - start:6.2f}s {name} {args}")
    return Run(argv, done.returncode, done.stdout, done.stderr, time.monotonic() - start)


def json_lines(run: Run) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run.stdout.splitlines() if line.strip()]


def put_buffer(port: int, data: bytes) -> str:
    """Store *data* in the hashserver on 127.0.0.1:*port*; its checksum."""
    checksum = hashlib.sha256(data).hexdigest()  # the hashserver's default algorithm
    request = urllib.request.Request(f"http://127.0.0.1:{port}/{checksum}", data=data, method="PUT")
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status in (200, 201), response.status
    return checksum


def tree_digest(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under *root* (byte-for-byte comparison)."""
    found: dict[str, str] = {}
    if not root.exists():
        return found
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def start_sleep() -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL)


def alias_config(sshd: Any, root: Path, aliases: list[str], blackhole: tuple[str, int] | None = None) -> tuple[Path, Path]:
    """An ssh_config with *aliases* of the test sshd (and a *blackhole* alias: TCP that never answers).

    Returns (config path, bin dir with an ``ssh`` wrapper that reads it), so that
    asyncssh (SEAMLESS_SSH_CONFIG) and OpenSSH subprocesses (the reference) agree.
    """
    root.mkdir(parents=True, exist_ok=True)
    base = sshd.config_path.read_text()
    start = base.index(f"Host {sshd.alias} ")
    body = base[start:].split("\n", 1)[1]
    text = f"Host {sshd.alias} {' '.join(aliases)}\n{body}"
    if blackhole is not None:
        name, port = blackhole
        text += (f"\nHost {name}\n    HostName 127.0.0.1\n    Port {port}\n    BatchMode yes\n"
                 f"    ConnectTimeout 3\n    StrictHostKeyChecking no\n    UserKnownHostsFile /dev/null\n")
    config = root / "ssh_config"
    config.write_text(text)
    bindir = root / "bin"
    bindir.mkdir(exist_ok=True)
    wrapper = bindir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F {config} "$@"\n')
    wrapper.chmod(0o755)
    return config, bindir


def ssh_clusters(aliases: list[str], tunnel: bool = False) -> dict[str, Any]:
    """One cluster per alias (``fe-<alias>``), its frontend ``hostname: <alias>`` only (no ssh_hostname)."""
    return {f"fe-{alias}": {"type": "local", "tunnel": tunnel, "workers": 1,
                            "frontends": [{"hostname": alias, "hashserver": {"bufferdir": "/tmp/unused-buffers"}}]}
            for alias in aliases}
