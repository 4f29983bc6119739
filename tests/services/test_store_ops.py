"""Unit tests of the host-side state store operations and the PID guard (no services)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from seamless_config.remote import store_ops
from seamless_config.remote.processes import check_identity, command_matches, process_info
from seamless_config.remote.state_store import host_script


def test_command_matches() -> None:
    argv = ("/venv/bin/python", "/venv/bin/hashserver", "--port-range", "1", "2", "/data")
    assert command_matches("hashserver --port-range 1 2 /data", argv)
    assert not command_matches("hashserver --port-range 1 3 /data", argv)
    assert not command_matches("seamless-database --port-range 1 2 /data", argv)
    assert not command_matches("hashserver --port-range 1 2 /data", ("sleep", "300"))
    assert not command_matches("", argv)


def test_identity_needs_command_and_start_time(tmp_path: Path) -> None:
    sleep = subprocess.Popen(["sleep", "300"])
    try:
        info = process_info(sleep.pid)
        assert info is not None
        state = {"pid": sleep.pid, "command": "sleep 300", "pid_start_ticks": info.start_ticks}
        assert check_identity(state, None)[1] == ""
        assert "another time" in check_identity(state | {"pid_start_ticks": info.start_ticks + 1}, None)[1]
        assert "not the recorded service" in check_identity(state | {"command": "hashserver 300"}, None)[1]
        legacy = {"pid": sleep.pid, "command": "sleep 300"}  # no ticks: the state file's time bounds the start
        assert check_identity(legacy, time.time())[1] == ""
        assert "after its state file" in check_identity(legacy, info.start_time - 60)[1]
    finally:
        sleep.kill()
        sleep.wait()
    reason = check_identity({"pid": sleep.pid, "command": "sleep 300"}, None)[1]
    assert reason == "gone" or "not the recorded service" in reason  # (the PID may already be someone else's)


def test_clear_refuses_paths_outside_the_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (outside).mkdir(parents=True)
    (outside / "seamless.db").write_bytes(b"x")
    root.mkdir()
    (root / "proj").symlink_to(outside)
    base = str(tmp_path / "launcher")
    for workdir in (root / "proj", root, tmp_path, Path("/")):
        answer = store_ops.execute({"op": "clear", "service": "database", "root": str(root), "workdir": str(workdir),
                                    "base": base})
        assert not answer["ok"], (workdir, answer)
    assert (outside / "seamless.db").exists()


def test_host_script_runs_standalone(tmp_path: Path) -> None:
    """The source shipped to SSH hosts works without the package (stdlib only)."""
    server = tmp_path / "server"
    server.mkdir()
    (server / "k.json").write_text(json.dumps({"pid": 999999999, "status": "running", "command": "x"}))
    request = json.dumps({"op": "list", "base": str(tmp_path)})
    done = subprocess.run([sys.executable, "-I", "-c", host_script(), request], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    answer = json.loads(done.stdout)
    assert answer["ok"] and answer["result"][0]["status"] == "stale", done.stderr
