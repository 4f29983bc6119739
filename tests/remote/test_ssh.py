"""ensure_service on an SSH frontend, against a real sshd on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal

import anyio
import pytest
from remote_helpers import RemoteEnv

from seamless_config.errors import ConnectionFailedError, ServiceError
from seamless_config.remote import ConnectionPool, close_tunnels, ensure_service, find_tunnel_pids
from seamless_config.remote.processes import pid_alive

pytestmark = [pytest.mark.slow, pytest.mark.ssh]


async def test_three_services_one_connection(ssh_env: RemoteEnv) -> None:
    confs = [ssh_env.conf(s, ssh=True) for s in ("hashserver", "database", "jobserver")]
    results: dict[str, dict] = {}  # type: ignore[type-arg]

    async with ssh_env.pool() as pool:

        async def one(conf: dict) -> None:  # type: ignore[type-arg]
            results[conf["key"]] = await ensure_service(conf, pool=pool, timeout=90)

        async with anyio.create_task_group() as tg:
            for conf in confs:
                tg.start_soon(one, conf)
        assert pool.connections_opened == 1
        # Warm: all three from the client files, no new connection.
        warm: list[str] = []
        async with anyio.create_task_group() as tg:
            for conf in confs:
                tg.start_soon(
                    lambda c: ensure_service(
                        c,
                        pool=pool,
                        timeout=30,
                        on_phase=lambda p, r: warm.append(r) if p == "done" else None,
                    ),
                    conf,
                )
        assert warm == ["reused-local"] * 3
        assert pool.connections_opened == 1
    for conf in confs:
        key = ssh_env.key(conf)
        result = results[conf["key"]]
        assert result == {
            "hostname": "localhost",
            "port": result["port"],
            "ssh_hostname": "rhl-test",
        }
        assert ssh_env.server_state(key)["status"] == "running"  # type: ignore[index]


async def test_reference_interop_both_directions(ssh_env: RemoteEnv) -> None:
    ours_conf = ssh_env.conf(ssh=True, name="ours")
    ours_key = ssh_env.key(ours_conf)
    async with ssh_env.pool() as pool:
        ours = await ensure_service(ours_conf, pool=pool, timeout=60)
    pid = ssh_env.server_state(ours_key)["pid"]  # type: ignore[index]
    # The reference reuses ours, from the client file and then over ssh from the server state.
    assert (await ssh_env.run_process("ref", ours_conf))["result"] == ours
    (ssh_env.launcher_dir / "client" / f"{ours_key}.json").unlink()
    ref = await ssh_env.run_process("ref", ours_conf)
    assert ref["result"] == ours, ref
    assert ssh_env.server_state(ours_key)["pid"] == pid  # type: ignore[index]

    # We reuse what the reference launched over ssh.
    ref_conf = ssh_env.conf(ssh=True, name="ref")
    ref_key = ssh_env.key(ref_conf)
    ref = await ssh_env.run_process("ref", ref_conf)
    assert ref["returncode"] == 0, ref
    ref_pid = ssh_env.server_state(ref_key)["pid"]  # type: ignore[index]
    (ssh_env.launcher_dir / "client" / f"{ref_key}.json").unlink()
    phases: list[tuple[str, str]] = []
    async with ssh_env.pool() as pool:
        ours = await ensure_service(
            ref_conf, pool=pool, timeout=60, on_phase=lambda p, r: phases.append((p, r))
        )
    assert phases[-1] == ("done", "reused-remote")
    assert ours == ref["result"]
    assert ssh_env.server_state(ref_key)["pid"] == ref_pid  # type: ignore[index]
    with anyio.fail_after(30):
        ps = await anyio.run_process(
            ["ssh", "rhl-test", "rhl-ps", "--key"], env=ssh_env.env
        )
    assert sorted(ps.stdout.decode().split()) == sorted([ours_key, ref_key])


async def test_tunnel_reused_by_next_process(ssh_env: RemoteEnv) -> None:
    conf = ssh_env.conf(ssh=True, tunnel=True)
    key = ssh_env.key(conf)
    async with ssh_env.pool() as pool:
        first = await ensure_service(conf, pool=pool, timeout=60)
    state = ssh_env.server_state(key)
    assert state is not None
    assert first == {
        "hostname": "localhost",
        "port": first["port"],
        "tunneled-host": "rhl-test",
        "tunneled-port": state["port"],
        "tunneled-network-interface": "127.0.0.1",
    }
    tunnel_pids = find_tunnel_pids(first["port"])
    assert len(tunnel_pids) == 1
    # Our pool (and its connection) is gone; the tunnel lives on for the next process.
    second = await ssh_env.run_process("ours", conf)
    assert second["outcome"] == "reused-local" and second["result"] == first
    assert second["connections"] == 0
    ref = await ssh_env.run_process("ref", conf)
    assert ref["result"] == first
    assert find_tunnel_pids(first["port"]) == tunnel_pids


async def test_dead_service_behind_live_tunnel(ssh_env: RemoteEnv) -> None:
    conf = ssh_env.conf(ssh=True, tunnel=True)
    key = ssh_env.key(conf)
    async with ssh_env.pool() as pool:
        first = await ensure_service(conf, pool=pool, timeout=60)
        old_tunnels = find_tunnel_pids(first["port"])
        old_pid = ssh_env.server_state(key)["pid"]  # type: ignore[index]
        os.kill(old_pid, signal.SIGKILL)
        assert all(
            pid_alive(pid) for pid in old_tunnels
        )  # the trap: tunnel up, service gone
        phases: list[tuple[str, str]] = []
        second = await ensure_service(
            conf, pool=pool, timeout=60, on_phase=lambda p, r: phases.append((p, r))
        )
    assert ("local_check", "stale") in phases and phases[-1] == ("done", "launched"), (
        phases
    )
    assert not any(pid_alive(pid) for pid in old_tunnels)
    new_state = ssh_env.server_state(key)
    assert new_state is not None and new_state["pid"] != old_pid
    assert second["tunneled-port"] == new_state["port"]
    assert ssh_env.client_record(key) == second
    assert len(find_tunnel_pids(second["port"])) == 1


async def test_user_controlmaster_carries_everything(ssh_env: RemoteEnv) -> None:
    """ControlMaster auto + ControlPath + ControlPersist in the user's config: one connection for all."""
    from sshd import accepted_connections

    assert ssh_env.sshd is not None
    conf = ssh_env.conf(ssh=True, tunnel=True, alias=ssh_env.sshd.cm_alias)
    key = ssh_env.key(conf)
    before = accepted_connections(ssh_env.sshd)
    with anyio.fail_after(60):
        first = await ssh_env.run_process("ours", conf)
    assert first["returncode"] == 0, first
    assert first["outcome"] == "launched"
    # The user's socket holds the master, and the tunnel is a forward on it.
    sockets = list(ssh_env.sshd.root.glob("cm-*"))
    assert len(sockets) == 1, sockets
    pids = find_tunnel_pids(first["result"]["port"])
    assert len(pids) == 1 and pid_alive(pids[0])
    second = await ssh_env.run_process("ours", conf)
    assert second["outcome"] == "reused-local" and second["result"] == first["result"]
    # A later process that needs the host rides the same master.
    (ssh_env.launcher_dir / "client" / f"{key}.json").unlink()
    third = await ssh_env.run_process("ours", conf)
    assert third["returncode"] == 0 and third["outcome"] == "reused-remote", third
    assert accepted_connections(ssh_env.sshd) - before == 1, "one SSH connection for everything"


async def test_failing_service_over_ssh(ssh_env: RemoteEnv) -> None:
    conf = ssh_env.conf(ssh=True, extra_args=" --layout bogus")
    key = ssh_env.key(conf)
    async with ssh_env.pool() as pool:
        with pytest.raises(ServiceError) as info:
            await ensure_service(conf, pool=pool, timeout=60)
    exc = info.value
    assert exc.host == "rhl-test"
    assert exc.log_path == str(ssh_env.launcher_dir / "server" / f"{key}.log")
    assert (
        exc.log_tail is not None and "Layout must be 'flat' or 'prefix'" in exc.log_tail
    )
    assert ssh_env.server_state(key) is None


async def test_four_processes_launch_once_over_ssh(ssh_env: RemoteEnv) -> None:
    conf = ssh_env.conf(ssh=True, tunnel=True)
    key = ssh_env.key(conf)
    results: list[dict] = []  # type: ignore[type-arg]

    async def one() -> None:
        results.append(await ssh_env.run_process("ours", conf))

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(one)
    assert all(r["returncode"] == 0 for r in results), results
    assert [r["outcome"] for r in results].count("launched") == 1, results
    assert len({json.dumps(r["result"], sort_keys=True) for r in results}) == 1
    assert ssh_env.log_text(key).count("Started server process") == 1
    assert len(find_tunnel_pids(results[0]["result"]["port"])) == 1


async def test_unknown_host_fails_cleanly(ssh_env: RemoteEnv) -> None:
    conf = ssh_env.conf(ssh=True, alias="no-such-alias.invalid")
    async with ConnectionPool(
        ssh_config=ssh_env.sshd.config_path, connect_timeout=5
    ) as pool:  # type: ignore[union-attr]
        with pytest.raises(ConnectionFailedError) as info:
            await ensure_service(conf, pool=pool, timeout=20)
    assert info.value.host == "no-such-alias.invalid"


async def test_dead_master_tunnel_is_detected_and_replaced(ssh_env: RemoteEnv) -> None:
    """The master carrying a tunnel is killed: the next process reconnects and tunnels anew."""
    conf = ssh_env.conf(ssh=True, tunnel=True)
    first = await ssh_env.run_process("ours", conf)
    assert first["returncode"] == 0 and first["outcome"] == "launched", first
    [master] = find_tunnel_pids(first["result"]["port"])
    os.kill(master, signal.SIGKILL)
    with anyio.fail_after(10):
        while pid_alive(master):
            await anyio.sleep(0.02)
    second = await ssh_env.run_process("ours", conf)
    assert second["returncode"] == 0 and second["outcome"] == "reused-remote", second
    assert second["connections"] == 1, "a new master (the stale socket removed)"
    assert second["result"]["tunneled-port"] == first["result"]["tunneled-port"]
    [new_master] = find_tunnel_pids(second["result"]["port"])
    assert new_master != master and pid_alive(new_master)
    # Closing the last tunnel on it (the services were stopped) ends the master.
    await close_tunnels([second["result"]["port"]])
    with anyio.fail_after(10):
        while pid_alive(new_master):
            await anyio.sleep(0.02)


async def test_asyncssh_transport_still_works(ssh_env: RemoteEnv) -> None:
    """SEAMLESS_SSH_TRANSPORT=asyncssh: one in-process connection, tunnels as `ssh -N -L` processes."""
    assert ssh_env.sshd is not None
    conf = ssh_env.conf(ssh=True, tunnel=True)
    async with ConnectionPool(ssh_config=ssh_env.sshd.config_path, transport="asyncssh") as pool:
        assert pool.transport == "asyncssh"
        result = await ensure_service(conf, pool=pool, timeout=60)
        assert pool.connections_opened == 1
    pids = find_tunnel_pids(result["port"])
    assert len(pids) == 1 and pid_alive(pids[0])
    assert list(ssh_env.sshd.root.glob("cm-*")) == []
