"""``seamless-init`` against a real local cluster: cold and warm runs, the JSON report, exit codes.

Every run is a subprocess with ``cwd`` = the project and ``HOME`` = the test's
own directory; services are stopped by PID at teardown (conftest.py).
"""

from __future__ import annotations

import re

import pytest
from orch_helpers import SERVICES, OrchProject, occupied

from seamless_config.remote.processes import pid_alive

TOP_KEYS = {"ok", "seconds", "ssh_connections_opened", "services", "warnings"}
SERVICE_KEYS = {"service", "host", "status", "seconds", "address", "reused", "reason", "log_path", "log_tail"}


def by_service(report: dict) -> dict[str, dict]:
    return {entry["service"]: entry for entry in report["services"]}


def check_shape(report: dict) -> None:
    assert TOP_KEYS <= set(report), sorted(report)
    assert isinstance(report["ok"], bool)
    assert isinstance(report["seconds"], (int, float)) and report["seconds"] >= 0
    assert isinstance(report["ssh_connections_opened"], int)
    assert isinstance(report["warnings"], list)
    assert [e["service"] for e in report["services"]] == list(SERVICES)  # storage first, then the job backend
    for entry in report["services"]:
        assert set(entry) == SERVICE_KEYS, sorted(entry)
        assert entry["status"] in ("ok", "failed", "skipped")
        assert isinstance(entry["reused"], bool)
        assert isinstance(entry["seconds"], (int, float)) and entry["seconds"] >= 0


def check_all_ok(proj: OrchProject, report: dict, *, reused: bool) -> dict[str, str]:
    """Every service ok, reused or not, on 127.0.0.1 within its port range; the addresses."""
    check_shape(report)
    assert report["ok"] is True
    assert report["ssh_connections_opened"] == 0, "a local cluster needs no SSH"
    addresses = {}
    for name, entry in by_service(report).items():
        assert entry["status"] == "ok", entry
        assert entry["reused"] is reused, entry
        assert entry["host"] == "localhost"
        assert entry["reason"] is None and entry["log_tail"] is None
        host, port = entry["address"].rsplit(":", 1)
        lo, hi = proj.ports[name]
        assert host == "127.0.0.1" and lo <= int(port) <= hi, entry
        addresses[name] = entry["address"]
    return addresses


# ----------------------------------------------------------------------------- cold / warm


@pytest.mark.slow
def test_cold_then_warm(project: OrchProject) -> None:
    cold = project.init("--json")
    assert cold.returncode == 0, cold.describe()
    report = cold.json
    addresses = check_all_ok(project, report, reused=False)
    assert report["warnings"] == []
    assert report.get("stage") is None and report.get("substage") is None

    states = project.server_states()
    assert len(states) == 3, sorted(states)
    pids = {}
    for name in SERVICES:
        key, state = project.state_for(name)
        assert state["status"] == "running" and pid_alive(state["pid"]), state
        assert f"127.0.0.1:{state['port']}" == addresses[name]
        assert state["meta"]["project"] == project.project and state["meta"]["cluster"] == project.cluster
        pids[key] = state["pid"]
    assert set(project.client_records()) == set(states), "one client record per service"
    assert {k: sorted(v) for k, v in project.service_processes().items()} == {k: [p] for k, p in pids.items()}

    # The jobserver was told where the storage services are.
    _, job_state = project.state_for("jobserver")
    params = job_state["parameters"]
    assert params["buffer"][0]["url"] == f"http://{addresses['hashserver']}"
    assert params["database"][0]["url"] == f"http://{addresses['database']}"

    warm = project.init("--json")
    assert warm.returncode == 0, warm.describe()
    assert check_all_ok(project, warm.json, reused=True) == addresses
    assert {k: s["pid"] for k, s in project.server_states().items()} == pids

    # Human-readable summary (stdout is not a TTY): one line per service, reused.
    human = project.init()
    assert human.returncode == 0, human.describe()
    for name in SERVICES:
        assert re.search(rf"^\s*ok\s+{name}\s+localhost\s+{re.escape(addresses[name])}\s+\(reused", human.stdout, re.MULTILINE), (
            human.describe()
        )
    quiet = project.init("--quiet")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == "", quiet.describe()
    assert {k: s["pid"] for k, s in project.server_states().items()} == pids
    assert {k: sorted(v) for k, v in project.service_processes().items()} == {k: [p] for k, p in pids.items()}


# ----------------------------------------------------------------------------- configuration errors: 3


def assert_nothing_started(proj: OrchProject) -> None:
    assert not proj.server_dir.exists() or not list(proj.server_dir.glob("*.json")), list(proj.server_dir.iterdir())
    assert proj.service_processes() == {}


def test_malformed_yaml_exits_3_naming_file_and_line(project: OrchProject) -> None:
    good = project.profile_path.read_text()
    # Line 3 opens a flow sequence that never closes.
    project.profile_path.write_text(good + '- execution: remote\n- queue: [a, b\n')
    line_count = len(project.profile_path.read_text().splitlines())

    run = project.init()
    assert run.returncode == 3, run.describe()
    assert run.stdout == ""
    m = re.search(rf"{re.escape(str(project.profile_path))}:(\d+)(?::\d+)?: .*malformed YAML", run.stderr)
    assert m, run.describe()
    assert line_count - 1 <= int(m.group(1)) <= line_count + 1, run.describe()
    assert "configuration error" in run.stderr

    as_json = project.init("--json")
    assert as_json.returncode == 3, as_json.describe()
    report = as_json.json
    assert report["ok"] is False and report["error"] == "configuration"
    assert re.search(rf"{re.escape(str(project.profile_path))}:\d+", report["message"]), report
    assert_nothing_started(project)


def test_unknown_command_exits_3_naming_file_and_line(project: OrchProject) -> None:
    seamless_yaml = project.project_dir / "seamless.yaml"
    seamless_yaml.write_text(seamless_yaml.read_text() + "- frobnicate: 3\n")
    run = project.init()
    assert run.returncode == 3, run.describe()
    assert re.search(rf"{re.escape(str(seamless_yaml))}:2(:\d+)?: .*frobnicate", run.stderr), run.describe()

    as_json = project.init("--json")
    assert as_json.returncode == 3, as_json.describe()
    assert as_json.json["error"] == "configuration"
    assert f"{seamless_yaml}:2" in as_json.json["message"]
    assert_nothing_started(project)


# ----------------------------------------------------------------------------- usage: 2, --help, SEAMLESS_REMOTE_CLIENTS


@pytest.mark.parametrize("stage", ["", ":gpu"])
def test_empty_stage_is_a_usage_error(project: OrchProject, stage: str) -> None:
    run = project.init("--stage", stage, "--json")
    assert run.returncode == 2, run.describe()
    assert "--stage" in run.stderr, run.describe()
    assert_nothing_started(project)


def test_unknown_option_is_a_usage_error(project: OrchProject) -> None:
    run = project.init("--no-such-option")
    assert run.returncode == 2, run.describe()
    assert "--no-such-option" in run.stderr
    assert_nothing_started(project)


def test_help(project: OrchProject) -> None:
    run = project.init("--help")
    assert run.returncode == 0, run.describe()
    assert run.stdout.startswith("Usage: seamless-init"), run.describe()
    for option in ("--stage", "--json", "--timeout", "--quiet"):
        assert option in run.stdout
    assert_nothing_started(project)


def test_remote_clients_set_exits_0_at_once(project: OrchProject) -> None:
    """A worker with forwarded clients: exit 0 without reading options or configuration."""
    project.profile_path.write_text("- [unclosed\n")  # would be exit 3
    env = dict(project.env, SEAMLESS_REMOTE_CLIENTS='{"buffer": [], "database": []}')
    for args in ((), ("--json",), ("--no-such-option",)):
        run = project.init(*args, env=env, timeout=30)
        assert run.returncode == 0, run.describe()
        assert run.stdout == "" and run.stderr == "", run.describe()
    assert_nothing_started(project)
    assert not (project.home / ".remote-http-launcher").exists()


# ----------------------------------------------------------------------------- a service fails: 4


def check_failed_report(report: dict) -> dict[str, dict]:
    """hashserver failed, database ok, jobserver skipped (it needs the hashserver); all three listed."""
    check_shape(report)
    assert report["ok"] is False
    services = by_service(report)
    hs, db, js = services["hashserver"], services["database"], services["jobserver"]
    assert hs["status"] == "failed" and hs["reason"] and hs["address"] is None, hs
    assert db["status"] == "ok" and db["address"], db
    assert js["status"] == "skipped" and "hashserver" in js["reason"], js
    return services


@pytest.mark.slow
def test_port_range_fully_occupied_exits_4_with_log_tail(project: OrchProject) -> None:
    lo, hi = project.ports["hashserver"]
    with occupied(lo, hi):
        run = project.init("--json")
        assert run.returncode == 4, run.describe()
        hs = check_failed_report(run.json)["hashserver"]
        assert hs["log_path"] and hs["log_path"].endswith(".log"), hs
        assert f"No free port available in range {lo}-{hi}" in hs["log_tail"], hs
        assert "No free port" in hs["reason"], hs

        # Without --json: the report on stderr, every service listed, the log tail shown.
        human = project.init()
        assert human.returncode == 4, human.describe()
        assert re.search(r"FAILED\s+hashserver", human.stderr), human.describe()
        assert re.search(r"ok\s+database\s+.*\(reused", human.stderr), human.describe()
        assert re.search(r"skipped\s+jobserver\s+.*needs hashserver", human.stderr), human.describe()
        assert "No free port available" in human.stderr
        assert "some services are not available" in human.stderr
    # Only the database is running; no hashserver or jobserver process was left behind.
    procs = project.service_processes()
    assert [project.state_for("database")[0]] == list(procs), procs


@pytest.mark.slow
def test_bufferdir_that_cannot_be_created_exits_4(project: OrchProject) -> None:
    # A path below a regular file cannot be created, not even by root (unlike a read-only directory).
    blocker = project.root / "not-a-directory"
    blocker.write_text("")
    frontend = project.frontend()
    frontend["hashserver"]["bufferdir"] = str(blocker / "buffers")
    project.write_config(frontend)

    run = project.init("--json")
    assert run.returncode == 4, run.describe()
    hs = check_failed_report(run.json)["hashserver"]
    assert str(blocker / "buffers") in hs["reason"], hs
    assert "Not a directory" in hs["reason"], hs
    procs = project.service_processes()
    assert [project.state_for("database")[0]] == list(procs), procs


@pytest.mark.slow
def test_failed_service_reason_and_log_tail_are_not_mixed_up(project: OrchProject) -> None:
    lo, hi = project.ports["hashserver"]
    with occupied(lo, hi):
        run = project.init("--json")
    assert run.returncode == 4, run.describe()
    hs = check_failed_report(run.json)["hashserver"]
    assert "exited before it was ready" in hs["reason"], hs["reason"]
    assert hs["log_tail"].count("Traceback (most recent call last)") == 1, hs["log_tail"]
