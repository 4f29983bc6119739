"""Launch-dict evaluation, command quoting and directory rules (no services)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from remote_helpers import HASHSERVER_COMMAND, RemoteEnv

from seamless_config.errors import ServiceError
from seamless_config.remote import (
    LaunchConfig,
    client_directory,
    ensure_service,
    remote_command,
)


def _conf(**extra: object) -> dict[str, object]:
    conf: dict[str, object] = {
        "workdir": "/tmp/buffers/proj",
        "key": 'hashserver-c-rw-{"/proj/STAGE-a".strip("/").replace("/", "--")}',
        "command": HASHSERVER_COMMAND,
        "extra_args": "",
        "handshake": "healthcheck",
        "network_interface": "127.0.0.1",
        "port_start": 55100,
        "port_end": 55199,
        "timeout": 600,
    }
    conf.update(extra)
    return conf


def test_key_and_command_evaluated_like_the_reference() -> None:
    import remote_http_launcher as rhl

    conf = _conf(meta={"service": "hashserver"}, file_parameters={"a": 1})
    cfg = LaunchConfig.from_mapping(conf)
    ref = rhl.Configuration.from_mapping(dict(conf))
    assert cfg.key == ref.key == "hashserver-c-rw-proj--STAGE-a"
    status_dir = "~/.remote-http-launcher/server"
    ref_command = rhl.RemoteState(None, ref, status_dir).evaluate_command()  # type: ignore[arg-type]
    assert cfg.service_argv(status_dir) == shlex.split(ref_command)
    argv = cfg.launch_argv(status_dir)
    assert argv[:5] == [
        "rhl-launch-service",
        "--key",
        cfg.key,
        "--workdir",
        "/tmp/buffers/proj",
    ]
    assert argv[argv.index("--parameters") + 1] == '{"a": 1}'
    assert argv[argv.index("--meta") + 1] == '{"service": "hashserver"}'
    assert cfg.service_name == "hashserver"
    assert cfg.handshake is not None
    assert cfg.handshake.url("localhost", 1234) == "http://localhost:1234/healthcheck"


def test_templates_have_no_builtins() -> None:
    with pytest.raises(ServiceError, match="Invalid launch dict"):
        LaunchConfig.from_mapping(_conf(key="x-{__import__('os').getpid()}"))
    with pytest.raises(ServiceError, match="plausible file name"):
        LaunchConfig.from_mapping(_conf(key="a/../b"))
    with pytest.raises(ServiceError, match="hostname"):
        LaunchConfig.from_mapping(_conf(hostname="bad host; rm -rf /"))


def test_remote_command_quotes_every_word() -> None:
    command = remote_command(["rhl-launch-service", "--meta", '{"x": "a b; $(boom)"}'])
    assert command.startswith(
        'PATH="$HOME/miniforge3/bin:$HOME/miniconda3/bin:$PATH"; export PATH; exec '
    )
    assert command.endswith(
        shlex.join(["rhl-launch-service", "--meta", '{"x": "a b; $(boom)"}'])
    )


def test_client_directory_follows_reference(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import remote_http_launcher as rhl

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("REMOTE_HTTP_LAUNCHER_DIR", raising=False)
    assert client_directory() == rhl._default_client_directory()
    monkeypatch.setenv("REMOTE_HTTP_LAUNCHER_DIR", str(tmp_path / "rhl"))
    assert client_directory() == rhl._default_client_directory() == tmp_path / "rhl"


@pytest.mark.slow
async def test_launcher_dir_env(
    local_env: RemoteEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With REMOTE_HTTP_LAUNCHER_DIR: client file in $DIR (as the reference's run()
    reads it), server state in $DIR/server (as the helpers write it)."""
    base = local_env.root / "rhl"
    monkeypatch.setenv("REMOTE_HTTP_LAUNCHER_DIR", str(base))
    local_env.env["REMOTE_HTTP_LAUNCHER_DIR"] = str(base)
    conf = local_env.conf()
    key = local_env.key(conf)
    try:
        async with local_env.pool() as pool:
            ours = await ensure_service(conf, pool=pool, timeout=60)
        assert (base / f"{key}.json").exists()
        assert (base / "server" / f"{key}.json").exists()
        ref = await local_env.run_process("ref", conf)
        assert ref["result"] == ours
    finally:
        import json

        state = json.loads((base / "server" / f"{key}.json").read_text())
        local_env.extra_pids.append(state["pid"])
