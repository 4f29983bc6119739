"""SSH errors that say what to do, against the real sshd: changed host key, refused key, closed port.

Each runs with both transports (OpenSSH master and asyncssh).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import anyio
import pytest
from remote_helpers import RemoteEnv
from sshd import free_port, variant_config

from seamless_config.errors import (
    AuthenticationRefusedError,
    HostKeyChangedError,
    HostUnreachableError,
    SSHError,
)
from seamless_config.remote import ConnectionPool, ensure_service

pytestmark = [pytest.mark.slow, pytest.mark.ssh]
TRANSPORTS = ["openssh", "asyncssh"]


def _key(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, capture_output=True)
    return path.with_suffix(".pub").read_text().strip()


async def _fail(renv: RemoteEnv, config: Path, transport: str, services: int = 1) -> list[BaseException]:
    assert renv.sshd is not None
    confs = [renv.conf(s, ssh=True) for s in ("hashserver", "database", "jobserver")[:services]]
    errors: list[BaseException] = []
    async with ConnectionPool(ssh_config=config, transport=transport, connect_timeout=10) as pool:

        async def one(conf: dict) -> None:  # type: ignore[type-arg]
            try:
                await ensure_service(conf, pool=pool, timeout=40)
            except SSHError as exc:
                errors.append(exc)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for conf in confs:
                    tg.start_soon(one, conf)
        assert pool.connections_opened == 0
    assert len(errors) == services, errors
    return errors


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_changed_host_key_is_refused_with_the_line_to_fix(ssh_env: RemoteEnv, transport: str) -> None:
    assert ssh_env.sshd is not None
    known = ssh_env.root / "known_hosts"
    other = _key(ssh_env.root / "impostor")
    known.write_text(f"# first line\n[127.0.0.1]:{ssh_env.sshd.port} {other}\n")
    config = variant_config(ssh_env.sshd, ssh_env.root / "ssh_config", UserKnownHostsFile=str(known))
    [exc] = await _fail(ssh_env, config, transport)
    assert isinstance(exc, HostKeyChangedError), exc
    assert exc.known_hosts == f"{known}:2", exc.known_hosts
    message = str(exc)
    assert "CHANGED" in message and "Refusing" in message
    assert f"ssh-keygen -f {known} -R '[127.0.0.1]:{ssh_env.sshd.port}'" in message, message
    assert exc.host == "rhl-test"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_refused_key_names_the_identities_and_ssh_G(ssh_env: RemoteEnv, transport: str) -> None:
    assert ssh_env.sshd is not None
    stranger = ssh_env.root / "id_stranger"
    _key(stranger)
    config = variant_config(ssh_env.sshd, ssh_env.root / "ssh_config", IdentityFile=str(stranger))
    [exc] = await _fail(ssh_env, config, transport)
    assert isinstance(exc, AuthenticationRefusedError), exc
    assert exc.identities == (str(stranger),)
    message = str(exc)
    assert str(stranger) in message and "ssh -G rhl-test" in message, message


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_closed_port_fails_once_for_all_services(ssh_env: RemoteEnv, transport: str) -> None:
    assert ssh_env.sshd is not None
    config = variant_config(ssh_env.sshd, ssh_env.root / "ssh_config", Port=str(free_port()))
    errors = await _fail(ssh_env, config, transport, services=3)
    assert all(isinstance(e, HostUnreachableError) for e in errors), errors
    assert len({id(e) for e in errors}) == 1, "one attempt, one error, for the three services of the host"
    message = str(errors[0])
    assert "connection refused" in message and "ssh -G rhl-test" in message, message
