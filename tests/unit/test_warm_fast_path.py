"""seamless-init's warm path: the handshakes of the last good run start first (prefetch hint), the
answers are used only for the URLs the resolved client records name, and the everyday invocations
run without typer, anyio or asyncio (fresh interpreters, real HTTP on 127.0.0.1, no mocks)."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from seamless_config.cli.init import _simple_invocation
from seamless_config.remote import prefetch, quick


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/healthcheck"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


def _conf(key: str) -> dict[str, object]:
    return {"key": key, "workdir": "/tmp", "command": "true", "handshake": "healthcheck"}


def _record(key: str, url: str) -> None:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    directory = Path.home() / ".remote-http-launcher" / "client"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{key}.json").write_text(json.dumps({"hostname": "127.0.0.1", "port": port}))


def test_prefetched_answer_is_taken_once_and_only_for_its_url(server: str, tmp_path: Path) -> None:
    hint = prefetch.hint_path(str(tmp_path), None, None)
    prefetch.remember(hint, [server, "http://127.0.0.1:1/healthcheck"])
    assert prefetch.prefetch(hint) == 2
    assert prefetch.answer(server) is True
    assert prefetch.answer(server) is None  # taken: the next check makes its own GET
    assert prefetch.answer("http://127.0.0.1:1/healthcheck") is False  # nothing listens there
    assert prefetch.answer("http://127.0.0.1:2/other") is None  # never prefetched


def test_reusable_needs_the_record_not_only_a_prefetched_answer(server: str, tmp_path: Path) -> None:
    hint = prefetch.hint_path(str(tmp_path), "prod", None)
    prefetch.remember(hint, [server])
    prefetch.prefetch(hint)
    assert quick.reusable(_conf("svc-a")) is None  # a good answer, but no client record for the key
    _record("svc-a", server)
    found = quick.reusable(_conf("svc-a"))
    assert found is not None and found[0]["port"] == int(server.rsplit(":", 1)[1].split("/")[0])
    quick.remember(hint, [_conf("svc-a"), _conf("svc-missing")])
    assert json.loads(Path(hint).read_text()) == ["http://127.0.0.1:%d/healthcheck" % found[0]["port"]]


def test_a_dead_service_is_not_reused_through_a_stale_hint(server: str, tmp_path: Path) -> None:
    _record("svc-b", server)
    hint = prefetch.hint_path(str(tmp_path), None, None)
    prefetch.remember(hint, [server])
    _Health.status = 503  # the service answers, but not healthy
    try:
        prefetch.prefetch(hint)
        assert quick.reusable(_conf("svc-b")) is None
    finally:
        _Health.status = 200
    prefetch.prefetch(hint)
    assert quick.reusable(_conf("svc-b")) is not None


def test_hints_are_per_directory_stage_and_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = {prefetch.hint_path(str(tmp_path), None, None), prefetch.hint_path(str(tmp_path / "x"), None, None),
             prefetch.hint_path(str(tmp_path), "prod", None), prefetch.hint_path(str(tmp_path), "prod", "a")}
    monkeypatch.setenv("REMOTE_HTTP_LAUNCHER_DIR", str(tmp_path / "rhl"))
    paths.add(prefetch.hint_path(str(tmp_path), None, None))
    assert len(paths) == 5
    assert all(Path(p).is_relative_to(Path.home()) for p in paths)


@pytest.mark.parametrize(("argv", "expected"), [
    ([], (None, False, False)),
    (["--json"], (None, True, False)),
    (["-q", "--stage", "prod:sub"], ("prod:sub", False, True)),
    (["--stage=prod", "--quiet", "--json"], ("prod", True, True)),
    (["--stage", "a", "--stage", "b"], ("b", False, False)),
    (["--help"], None), (["--version"], None), (["-v"], None), (["--timeout", "5"], None),
    (["--stage"], None), (["--stage", "--json"], None), (["--stage", ":x"], None), (["--stage="], None),
    (["extra"], None),
])
def test_simple_invocations_only(argv: list[str], expected: object) -> None:
    assert _simple_invocation(argv) == expected


def test_warm_seamless_init_imports_no_typer_anyio_or_asyncio(server: str, tmp_path: Path) -> None:
    """A warm run (every client record answering): report ok, and none of the heavy modules loaded."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "seamless.yaml").write_text("- project: p\n")
    (project / "seamless.profile.yaml").write_text(
        "- clusters:\n"
        "    c:\n"
        "      type: local\n"
        "      frontends:\n"
        "      - hostname: localhost\n"
        f"        hashserver: {{bufferdir: {tmp_path}/b, network_interface: 127.0.0.1, port_start: 64980, port_end: 64989}}\n"
        f"        database: {{database_dir: {tmp_path}/d, network_interface: 127.0.0.1, port_start: 64990, port_end: 64999}}\n"
        "    local_cluster: c\n"
        "- cluster: c\n"
    )
    code = (
        "import json, sys\n"
        "from seamless_config.state import STATE\n"
        "from seamless_config import _configure\n"
        "from seamless_config.orchestrator.bringup import prepare\n"
        "from seamless_config.remote.launch_config import LaunchConfig\n"
        "STATE.set_workdir('.'); _configure(None, None)\n"
        "print(json.dumps([LaunchConfig.from_mapping(s.build({})).key for s in prepare(STATE.snapshot()).steps]))\n"
    )
    # No service executables on PATH: should the warm check miss, the cold path fails instead of launching.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLESS_")} | {"PATH": "/usr/bin:/bin"}
    keys = json.loads(subprocess.run([sys.executable, "-c", code], cwd=project, env=env, capture_output=True,
                                     text=True, timeout=60, check=True).stdout)
    assert len(keys) == 2
    for key in keys:
        _record(key, server)
    cli = (
        "import json, sys\n"
        "sys.argv = ['seamless-init', '--json']\n"
        "from seamless_config.cli.init import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    sys.stderr.write(json.dumps({'exit': exc.code, 'heavy': sorted(m for m in sys.modules\n"
        "        if m.split('.')[0] in ('typer', 'click', 'anyio', 'asyncio', 'asyncssh', 'aiohttp'))}) + '\\n')\n"
    )
    for _ in range(2):  # the first run writes the hint, the second prefetches it
        done = subprocess.run([sys.executable, "-c", cli], cwd=project, env=env, capture_output=True, text=True,
                              timeout=60, check=False)
        result = json.loads(done.stderr.strip().splitlines()[-1])
        assert result == {"exit": 0, "heavy": []}, done.stderr
        report = json.loads(done.stdout)
        assert report["ok"] and all(s["reused"] for s in report["services"]), report
    hints = list((Path.home() / ".cache" / "seamless-config" / "warm-hints").glob("*.json"))
    assert len(hints) == 1 and json.loads(hints[0].read_text()) == [server, server]


@pytest.mark.parametrize("url", [
    "http://localhost:8000/healthcheck", "http://127.0.0.1:1/", "http://h:5", "http://h:5?a=1&b=2",
    "http://[::1]:8080/x?y=z", "http://h:5/p#frag", "http://h:5/a/b?c",
])
def test_split_http_url_agrees_with_urllib(url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    assert prefetch.split_http_url(url) == (parts.hostname, parts.port, target, parts.netloc)


@pytest.mark.parametrize("url", ["https://h:5/", "http://h/", "http://h:0/", "http://h:99999/", "http://:5/",
                                 "http://u@h:5/", "ftp://h:5/", "http://h:x/",
                                 "http://h:5/x\r\nX-Injected: yes\r\n\r\nGET /second", "http://h:5/a b",
                                 "http://h:5/\t", "http://h:\uff18\uff10/", "http://h:\u00b2/", "http://h\u00e9:5/"])
def test_split_http_url_refuses(url: str) -> None:
    assert prefetch.split_http_url(url) is None


def test_tools_json_is_the_parsed_tools_yaml() -> None:
    """core.launch reads tools.json (parsing tools.yaml costs ~20 ms a run): it must be current."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    try:
        import gen_tools_json
    finally:
        sys.path.pop(0)
    assert (gen_tools_json.CORE / "tools.json").read_text("utf-8") == gen_tools_json.tools_json(), (
        "src/seamless_config/core/tools.json is stale: run .venv/bin/python scripts/gen_tools_json.py")
    from seamless_config.core.launch import tool_definitions

    assert tool_definitions() == json.loads(gen_tools_json.tools_json())["tools"]


def test_get_ok_refuses_what_would_reach_the_request_line(server: str) -> None:
    assert prefetch.get_ok(server)
    assert not prefetch.get_ok(server + "\r\nX-Injected: yes")
    assert not prefetch.get_ok("http://127.0.0.1:\u00b2/")


def test_only_loopback_urls_are_prefetched(server: str, tmp_path: Path) -> None:
    hint = prefetch.hint_path(str(tmp_path), None, None)
    prefetch.remember(hint, [server, "http://192.0.2.1:8000/healthcheck", "http://example.org:80/"])
    try:
        assert prefetch.prefetch(hint) == 1
        assert prefetch.answer("http://192.0.2.1:8000/healthcheck") is None
        assert prefetch.answer(server) is True
    finally:
        prefetch.forget()


def test_an_old_answer_is_not_taken(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that runs seamless-init twice (a notebook, CliRunner): the first run's answer says
    nothing about the service at the second."""
    hint = prefetch.hint_path(str(tmp_path), None, None)
    prefetch.remember(hint, [server])
    assert prefetch.prefetch(hint) == 1
    monkeypatch.setattr(prefetch, "FRESH_FOR", -1.0)
    assert prefetch.answer(server) is None
    assert prefetch.prefetch(hint) == 1  # a new run starts a new GET
    prefetch.forget()
    assert prefetch.answer(server) is None  # ... and its end drops it if nobody took it


def test_the_hint_is_private_and_only_read_if_ours(server: str, tmp_path: Path) -> None:
    hint = prefetch.hint_path(str(tmp_path), None, None)
    prefetch.remember(hint, [server])
    assert os.stat(hint).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(hint)).st_mode & 0o777 == 0o700
    link = tmp_path / "link.json"
    link.symlink_to(hint)
    assert prefetch.prefetch(str(link)) == 0  # not followed
    if os.getuid() == 0:  # CI runs as root: make the hint someone else's
        os.chown(hint, 12345, -1)
        assert prefetch.prefetch(hint) == 0
    prefetch.forget()
