"""ensure_service on the local frontend (no hostname): real services, real helpers."""

from __future__ import annotations

import json
import os
import signal

import anyio
import pytest
from remote_helpers import RemoteEnv

from seamless_config.errors import ServiceError
from seamless_config.remote import ensure_service

pytestmark = pytest.mark.slow


async def test_cold_then_warm(local_env: RemoteEnv) -> None:
    conf = local_env.conf()
    key = local_env.key(conf)
    phases: list[tuple[str, str]] = []
    async with local_env.pool() as pool:
        first = await ensure_service(
            conf, pool=pool, timeout=60, on_phase=lambda p, r: phases.append((p, r))
        )
        assert ("done", "launched") in phases
        phases.clear()
        second = await ensure_service(
            conf, pool=pool, timeout=60, on_phase=lambda p, r: phases.append((p, r))
        )
        assert pool.connections_opened == 0
    assert phases == [("local_check", "reused"), ("done", "reused-local")]
    assert first == second == {"hostname": "127.0.0.1", "port": first["port"]}
    assert 55100 <= first["port"] <= 55199
    # Same on-disk protocol as the reference: client file, server state, rhl-ps.
    assert local_env.client_record(key) == first
    state = local_env.server_state(key)
    assert (
        state is not None
        and state["status"] == "running"
        and state["port"] == first["port"]
    )
    assert state["command"].startswith(
        "hashserver --port-range 55100 55199 --status-file "
    )
    with anyio.fail_after(30):
        ps = await anyio.run_process(["rhl-ps", "--json"], env=local_env.env)
    rows = [json.loads(line) for line in ps.stdout.decode().splitlines()]
    assert [(r["key"], r["status"]) for r in rows] == [(key, "running")]


async def test_reference_reuses_ours(local_env: RemoteEnv) -> None:
    conf = local_env.conf()
    key = local_env.key(conf)
    async with local_env.pool() as pool:
        ours = await ensure_service(conf, pool=pool, timeout=60)
    pid = local_env.server_state(key)["pid"]  # type: ignore[index]
    ref = await local_env.run_process("ref", conf)
    assert ref["result"] == ours
    # Without the client file the reference must still find our service on the "server".
    (local_env.launcher_dir / "client" / f"{key}.json").unlink()
    ref = await local_env.run_process("ref", conf)
    assert ref["result"] == ours
    assert local_env.server_state(key)["pid"] == pid  # type: ignore[index]
    assert local_env.log_text(key).count("Started server process") == 1


async def test_we_reuse_reference(local_env: RemoteEnv) -> None:
    conf = local_env.conf()
    key = local_env.key(conf)
    ref = await local_env.run_process("ref", conf)
    assert ref["returncode"] == 0, ref
    pid = local_env.server_state(key)["pid"]  # type: ignore[index]
    phases: list[tuple[str, str]] = []
    async with local_env.pool() as pool:
        ours = await ensure_service(
            conf, pool=pool, timeout=60, on_phase=lambda p, r: phases.append((p, r))
        )
        assert ours == ref["result"]
        assert phases[-1] == ("done", "reused-local")
        (local_env.launcher_dir / "client" / f"{key}.json").unlink()
        phases.clear()
        ours = await ensure_service(
            conf, pool=pool, timeout=60, on_phase=lambda p, r: phases.append((p, r))
        )
    assert phases[-1] == ("done", "reused-remote")
    assert ours == ref["result"]
    assert local_env.server_state(key)["pid"] == pid  # type: ignore[index]


async def test_failing_service_reports_log_tail(local_env: RemoteEnv) -> None:
    conf = local_env.conf(extra_args=" --layout bogus")
    key = local_env.key(conf)
    async with local_env.pool() as pool:
        with pytest.raises(ServiceError) as info:
            await ensure_service(conf, pool=pool, timeout=60)
    exc = info.value
    assert exc.host == "localhost"
    assert exc.log_path is not None and exc.log_path.endswith(f"{key}.log")
    assert (
        exc.log_tail is not None and "Layout must be 'flat' or 'prefix'" in exc.log_tail
    )
    assert "Layout must be" in str(exc) and key in str(exc)
    assert local_env.server_state(key) is None  # cleaned up, like the reference
    assert local_env.client_record(key) is None


async def test_dead_service_is_relaunched(local_env: RemoteEnv) -> None:
    conf = local_env.conf()
    key = local_env.key(conf)
    async with local_env.pool() as pool:
        first = await ensure_service(conf, pool=pool, timeout=60)
        old_pid = local_env.server_state(key)["pid"]  # type: ignore[index]
        os.kill(old_pid, signal.SIGKILL)
        phases: list[tuple[str, str]] = []
        second = await ensure_service(
            conf, pool=pool, timeout=60, on_phase=lambda p, r: phases.append((p, r))
        )
    assert ("local_check", "stale") in phases and phases[-1] == ("done", "launched")
    assert local_env.server_state(key)["pid"] != old_pid  # type: ignore[index]
    assert second["hostname"] == first["hostname"]


async def test_four_processes_launch_once(local_env: RemoteEnv) -> None:
    conf = local_env.conf()
    key = local_env.key(conf)
    results: list[dict] = []  # type: ignore[type-arg]

    async def one() -> None:
        results.append(await local_env.run_process("ours", conf))

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(one)
    assert all(r["returncode"] == 0 for r in results), results
    assert sorted(r["outcome"] for r in results).count("launched") == 1, results
    assert len({json.dumps(r["result"], sort_keys=True) for r in results}) == 1
    assert local_env.log_text(key).count("Started server process") == 1
