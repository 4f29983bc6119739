"""Fault scenarios on a real local cluster (hashserver, database, jobserver on 127.0.0.1).

Each test injects one fault with real processes and checks what a cluster
admin expects afterwards: a clear per-service report, nothing launched twice,
no process or half-written state left behind, and a clean recovery once the
fault is gone. Timings are printed (``-s``), never asserted.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fault_helpers import (
    TRANSFORM_SCRIPT,
    all_json_parses,
    assert_clean,
    census,
    executions,
    kill_service,
    report_services,
    service_pid,
)
from orch_helpers import SERVICES, OrchProject, occupied

pytestmark = pytest.mark.slow

Factory = Callable[..., OrchProject]


def fake_service(proj: OrchProject, name: str, body: str) -> Path:
    """A ``name`` executable first on the project's PATH (a broken or hanging service)."""
    bindir = proj.root / "fakebin"
    bindir.mkdir(exist_ok=True)
    path = bindir / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(0o755)
    proj.env["PATH"] = f"{bindir}{os.pathsep}{proj.env['PATH']}"
    return path


def drop_fake(proj: OrchProject) -> None:
    bindir = str(proj.root / "fakebin")
    proj.env["PATH"] = os.pathsep.join(p for p in proj.env["PATH"].split(os.pathsep) if p != bindir)


def launched(report: dict[str, object]) -> dict[str, bool]:
    """service -> True if this run launched it (not reused)."""
    return {name: not entry["reused"] for name, entry in report_services(report).items() if entry["status"] == "ok"}


# ----------------------------------------------------------------------------- start-up faults


def test_service_dies_during_start(project_factory: Factory) -> None:
    proj = project_factory()
    fake_service(proj, "hashserver", """\
        echo "simulated crash: cannot open the buffer index" >&2
        sleep 0.3
        exit 3
        """)
    run = proj.init("--json")
    assert run.returncode == 4, run.describe()
    services = report_services(run.json)
    assert services["hashserver"]["status"] == "failed"
    assert "exited before it was ready" in services["hashserver"]["reason"], services["hashserver"]
    assert "simulated crash" in (services["hashserver"]["log_tail"] or "") + services["hashserver"]["reason"]
    assert services["hashserver"]["log_path"]
    assert services["database"]["status"] == "ok"
    assert services["jobserver"]["status"] == "skipped" and "hashserver" in services["jobserver"]["reason"]
    assert not all_json_parses(proj.server_dir) and not all_json_parses(proj.client_dir)
    assert_clean(proj)
    # The failed launch left no state behind: with the real binary the next run launches it once.
    drop_fake(proj)
    again = proj.init("--json")
    assert again.returncode == 0, again.describe()
    assert launched(again.json) == {"hashserver": True, "database": False, "jobserver": True}
    assert_clean(proj)


def test_service_reports_failed_but_its_process_lives_on(project_factory: Factory) -> None:
    """A service that writes status "failed" and hangs instead of exiting (seen with seamless-jobserver when
    its port is taken between its check and its bind): reported, and stopped rather than left unrecorded."""
    proj = project_factory()
    fake_service(proj, "hashserver", """\
        f=""; prev=""
        for a in "$@"; do [ "$prev" = "--status-file" ] && f="$a"; prev="$a"; done
        i=0; while [ ! -s "$f" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i+1)); done
        echo "ERROR: 127.0.0.1 port 61999 already in use"
        sed 's/"status": "starting"/"status": "failed"/' "$f" > "$f.tmp" && mv "$f.tmp" "$f"
        sleep 300
        """)
    run = proj.init("--json")
    assert run.returncode == 4, run.describe()
    services = report_services(run.json)
    assert services["hashserver"]["status"] == "failed"
    assert "already in use" in services["hashserver"]["reason"], services["hashserver"]
    assert_clean(proj)  # the hanging process was stopped: no unrecorded service
    drop_fake(proj)
    again = proj.init("--json")
    assert again.returncode == 0, again.describe()
    assert_clean(proj)


ANSWERS_503 = """\
    python3 - "$@" <<'EOF'
    import http.server, json, os, sys, threading, time
    status_file = sys.argv[sys.argv.index("--status-file") + 1]
    for _ in range(500):
        if os.path.exists(status_file) and os.path.getsize(status_file):
            break
        time.sleep(0.02)
    class Unwell(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(503)
            self.end_headers()
        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(("127.0.0.1", 0), Unwell)
    with open(status_file) as handle:
        state = json.load(handle)
    state.update(status="running", port=server.server_address[1])
    with open(status_file + ".tmp", "w") as handle:
        json.dump(state, handle)
    os.replace(status_file + ".tmp", status_file)
    print("running on", server.server_address[1], flush=True)
    threading.Timer(120, server.shutdown).start()
    server.serve_forever()
    EOF
    """


def test_storage_that_fails_its_handshake_after_reporting_its_address(project_factory: Factory) -> None:
    """The job backend gets the storage addresses before their handshakes (to start sooner): a hashserver
    that reports "running" and then answers 503 still fails, and the jobserver is reported skipped, not ok;
    the next run relaunches both with a real hashserver and the jobserver gets the new address."""
    proj = project_factory()
    fake_service(proj, "hashserver", ANSWERS_503)
    run = proj.init("--json", "--timeout", "120")
    assert run.returncode == 4, run.describe()
    services = report_services(run.json)
    assert services["hashserver"]["status"] == "failed", services["hashserver"]
    assert "health check failed" in services["hashserver"]["reason"], services["hashserver"]
    assert services["database"]["status"] == "ok"
    assert services["jobserver"]["status"] == "skipped" and "hashserver" in services["jobserver"]["reason"], services
    # The unwell hashserver this run launched was stopped and forgotten.
    assert not [k for k, st in proj.server_states().items() if (st.get("meta") or {}).get("service") == "hashserver"]
    assert_clean(proj)
    drop_fake(proj)
    again = proj.init("--json")
    assert again.returncode == 0, again.describe()
    assert launched(again.json)["hashserver"]
    hs_port = proj.state_for("hashserver")[1]["port"]
    _, job_state = proj.state_for("jobserver")
    assert [b["url"] for b in job_state["parameters"]["buffer"]] == [f"http://127.0.0.1:{hs_port}"], job_state
    assert_clean(proj)


HUNG_START = """\
    echo "ERROR: 127.0.0.1 port 61999 already in use"
    sleep 300
    """


def test_a_start_that_hangs_is_stopped_not_waited_for_forever(project_factory: Factory) -> None:
    """seamless-jobserver 0.3.0, when its port is taken between its check and its bind, logs the error and
    stays "starting" forever. Our own launch is stopped at the deadline; one left behind by a launcher that
    was killed is stopped by the next run that waits a whole deadline for it; the run after that launches."""
    proj = project_factory()
    fake_service(proj, "seamless-jobserver", HUNG_START)
    run = proj.init("--json", "--timeout", "6")
    assert run.returncode == 4, run.describe()
    assert report_services(run.json)["jobserver"]["status"] == "failed"
    assert_clean(proj)  # our own hung launch was stopped
    # A launcher killed while it waits leaves the hung start behind ...
    process, _ = proj.popen_init("--json", "--timeout", "60")
    assert _wait_for(
        lambda: any((s.get("meta") or {}).get("service") == "jobserver" for s in proj.server_states().values()), 60
    )
    process.kill()
    process.communicate(timeout=10)
    _, state = proj.state_for("jobserver")
    assert state["status"] == "starting"
    # ... the next run waits its whole deadline for it, then stops it ...
    second = proj.init("--json", "--timeout", "6")
    assert second.returncode == 4, second.describe()
    assert "stopped it" in report_services(second.json)["jobserver"]["reason"], second.json
    assert_clean(proj)
    # ... and with a working jobserver the next run launches it.
    drop_fake(proj)
    third = proj.init("--json")
    assert third.returncode == 0, third.describe()
    assert_clean(proj)


def test_port_range_taken(project_factory: Factory) -> None:
    proj = project_factory()
    lo, hi = proj.ports["hashserver"]
    with occupied(lo, hi):
        run = proj.init("--json")
        assert run.returncode == 4, run.describe()
        services = report_services(run.json)
        assert services["hashserver"]["status"] == "failed"
        text = (services["hashserver"]["reason"] + (services["hashserver"]["log_tail"] or "")).lower()
        assert "port" in text, services["hashserver"]
        assert services["database"]["status"] == "ok"
        assert services["jobserver"]["status"] == "skipped"
        assert_clean(proj)
        print(f"\nport range taken: report after {run.seconds:.2f}s: {services['hashserver']['reason']}")
    again = proj.init("--json")
    assert again.returncode == 0, again.describe()
    assert launched(again.json)["hashserver"]
    assert_clean(proj)


def test_stale_or_corrupt_state_json(project_factory: Factory) -> None:
    """Every service's state damaged a different way after it died: garbage, truncated, a dead PID, wrong types;
    and a corrupt client record. The next init relaunches each service once."""
    proj = project_factory()
    cold = proj.init("--json")
    assert cold.returncode == 0, cold.describe()
    states = {service: proj.state_for(service) for service in SERVICES}
    for service in SERVICES:
        kill_service(proj, service)
    (hs_key, _), (db_key, db_state), (js_key, js_state) = (states[s] for s in SERVICES)
    (proj.server_dir / f"{hs_key}.json").write_bytes(b"\x00\xff{not json")
    text = json.dumps(db_state)
    (proj.server_dir / f"{db_key}.json").write_text(text[: len(text) // 2])
    gone = subprocess.Popen(["true"])
    gone.wait()
    (proj.server_dir / f"{js_key}.json").write_text(json.dumps(js_state | {"pid": gone.pid, "status": "running"}))
    for client in proj.client_dir.glob("database-*.json"):
        client.write_text('{"hostname": ')
    for client in proj.client_dir.glob("jobserver-*.json"):
        client.write_text(json.dumps({"hostname": 7, "port": "x"}))
    run = proj.init("--json")
    assert run.returncode == 0, run.describe()
    assert launched(run.json) == {s: True for s in SERVICES}, run.json
    assert not all_json_parses(proj.server_dir) and not all_json_parses(proj.client_dir)
    assert_clean(proj)

    # Wrong types in a "running" state of a live service's key: treated as stale, not trusted.
    key, state = proj.state_for("hashserver")
    pid = state["pid"]
    kill_service(proj, "hashserver")
    (proj.server_dir / f"{key}.json").write_text(json.dumps(state | {"pid": str(pid), "port": [1], "status": 7}))
    again = proj.init("--json")
    assert again.returncode == 0, again.describe()
    assert launched(again.json)["hashserver"]
    assert_clean(proj)


# ----------------------------------------------------------------------------- killed services


def test_sigkill_of_each_service_relaunches_it(project_factory: Factory) -> None:
    proj = project_factory()
    t0 = time.monotonic()
    cold = proj.init("--json")
    cold_s = time.monotonic() - t0
    assert cold.returncode == 0, cold.describe()
    numbers = {}
    for service in SERVICES:
        old = kill_service(proj, service)
        t1 = time.monotonic()
        run = proj.init("--json", "-vv", "--timeout", "60")  # -vv: the log says where time went
        numbers[service] = time.monotonic() - t1
        assert run.returncode == 0, run.describe()
        relaunched = launched(run.json)
        assert relaunched[service], (service, run.json)
        # The others are reused; the jobserver is relaunched too when its storage moved to another port.
        for other in SERVICES:
            if other != service and other != "jobserver":
                assert not relaunched[other], (service, other, run.json)
        assert service_pid(proj, service) != old
        assert_clean(proj)
    print(
        f"\nSIGKILL recovery (seamless-init after the kill): "
        + ", ".join(f"{s} {t:.2f}s ({t / cold_s:.2f}x cold)" for s, t in numbers.items())
        + f"; cold start {cold_s:.2f}s"
    )


def test_hashserver_restarted_on_another_port_while_the_jobserver_runs(project_factory: Factory) -> None:
    proj = project_factory()
    marker = proj.root / "executions.txt"
    first = proj.run_script("t.py", TRANSFORM_SCRIPT, str(marker), "[1]", timeout=120)
    assert first.returncode == 0, first.describe()
    assert first.tagged("FAULTS-RESULT")["results"] == {"1": 1001}
    old_port = proj.state_for("hashserver")[1]["port"]
    job_pid = service_pid(proj, "jobserver")
    kill_service(proj, "hashserver")
    # Its old port now belongs to someone else: the new hashserver must start elsewhere.
    with occupied(old_port, old_port, taken_ok=True) as held:
        second = proj.run_script("t.py", TRANSFORM_SCRIPT, str(marker), "[1, 2]", timeout=120)
        assert second.returncode == 0, second.describe()
        assert second.tagged("FAULTS-RESULT")["results"] == {"1": 1001, "2": 1002}
        new_port = proj.state_for("hashserver")[1]["port"]
        _, job_state = proj.state_for("jobserver")
        urls = [b["url"] for b in job_state["parameters"]["buffer"]]
        assert urls == [f"http://127.0.0.1:{new_port}"], urls  # whichever port it got
        if held:  # the old port was ours: the hashserver moved, so the jobserver was relaunched for it
            assert new_port != old_port
            assert job_state["pid"] != job_pid
        else:  # the killed server's sockets kept the port from us for 5 s: the move was not forced
            print(f"\nport {old_port} could not be held; the hashserver came back on port {new_port}")
        assert executions(marker) == {1: 1, 2: 1}, marker.read_text()
        assert_clean(proj)


# ----------------------------------------------------------------------------- the deadline


def test_one_deadline_and_the_report_still_reaches_the_user(project_factory: Factory) -> None:
    proj = project_factory()
    fake_service(proj, "hashserver", """\
        echo "simulated hang: waiting for a lock that never comes" >&2
        sleep 300
        """)
    run = proj.init("--json", "--timeout", "4")
    assert run.returncode == 4, run.describe()
    report = run.json
    assert report["deadline_passed"] is True, report
    services = report_services(report)
    assert services["database"]["status"] == "ok"
    assert services["hashserver"]["status"] == "failed" and "timed out" in services["hashserver"]["reason"]
    assert services["jobserver"]["status"] in ("skipped", "failed")
    print(f"\n--timeout 4: seamless-init reported after {run.seconds:.2f}s")
    text = proj.init("--timeout", "3")
    assert text.returncode == 4
    assert "deadline passed" in text.stderr and "hashserver" in text.stdout + text.stderr, text.describe()

    # init(timeout=...) raises BringUpTimeout carrying the same report.
    script = """
import json, time
import seamless.config
from seamless_config.errors import BringUpTimeout, ConfigurationError, ServicesUnavailable
t0 = time.monotonic()
try:
    seamless.config.init(timeout=3)
except BringUpTimeout as exc:
    assert isinstance(exc, ServicesUnavailable) and isinstance(exc, ConfigurationError) and isinstance(exc, TimeoutError)
    print("DEADLINE", json.dumps({"seconds": time.monotonic() - t0, "report": exc.report.as_json(), "message": str(exc)}))
"""
    out = proj.run_script("deadline.py", script)
    assert out.returncode == 0, out.describe()
    data = out.tagged("DEADLINE")
    assert data["report"]["deadline_passed"] is True
    statuses = {s["service"]: s["status"] for s in data["report"]["services"]}
    assert statuses["database"] == "ok" and statuses["hashserver"] == "failed", data
    assert "within its deadline of 3s" in data["message"]
    print(f"init(timeout=3) raised BringUpTimeout after {data['seconds']:.2f}s")
    # The hanging "service" is recorded (status starting, its own PID): not an orphan.
    c = census(proj)
    assert not c.duplicates and not c.leaked, c.describe()


# ----------------------------------------------------------------------------- interrupts


INIT_AND_WAIT = """
import sys
import seamless.config
print("STARTING", flush=True)
try:
    seamless.config.init()
except KeyboardInterrupt:
    print("INTERRUPTED", flush=True)
    sys.exit(130)
print("DONE", flush=True)
"""


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("when", ["storage-starting", "jobserver-starting"])
def test_ctrl_c_in_the_middle_of_init(project_factory: Factory, when: str) -> None:
    proj = project_factory()
    path = proj.project_dir / "init_wait.py"
    path.write_text(INIT_AND_WAIT)
    process = subprocess.Popen(
        [sys.executable, str(path)], cwd=proj.project_dir, env=proj.env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    service = "hashserver" if when == "storage-starting" else "jobserver"

    def started() -> bool:
        return any((s.get("meta") or {}).get("service") == service for s in proj.server_states().values())

    try:
        assert _wait_for(started, 60), f"{service} never started"
        t0 = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        stopped = time.monotonic() - t0
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert process.returncode in (130, 1) or "KeyboardInterrupt" in err, (process.returncode, out, err)
    assert "DONE" not in out
    # No half-written state, nothing unrecorded left running.
    assert not all_json_parses(proj.server_dir) and not all_json_parses(proj.client_dir)
    time.sleep(0.5)
    c = census(proj)
    assert not c.duplicates and not c.leaked, c.describe()
    for key, pids in c.services.items():
        assert pids == [c.recorded.get(key)], (key, pids, c.recorded)
    print(f"\nCtrl-C ({when}): process gone {stopped:.2f}s after SIGINT")
    # The next init reuses what was started, launches what was not, and nothing twice.
    again = proj.init("--json")
    assert again.returncode == 0, again.describe()
    assert_clean(proj)


def test_ctrl_c_of_seamless_init(project_factory: Factory) -> None:
    proj = project_factory()
    process, argv = proj.popen_init()
    try:
        assert _wait_for(lambda: bool(proj.server_states()), 60)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert process.returncode == 130, (process.returncode, out, err)
    assert "interrupted" in err
    assert not all_json_parses(proj.server_dir) and not all_json_parses(proj.client_dir)
    c = census(proj)
    assert not c.duplicates and not c.leaked, c.describe()
    again = proj.init("--json")
    assert again.returncode == 0, again.describe()
    assert_clean(proj)


# ----------------------------------------------------------------------------- the file system


def _mount_tmpfs(target: Path, options: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True)
    return done.returncode == 0


def _umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True)


def test_read_only_bufferdir(project_factory: Factory) -> None:
    proj = project_factory()
    if not _mount_tmpfs(proj.bufferdir, "ro,size=1m"):
        pytest.skip("cannot mount a read-only tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        run = proj.init("--json")
        services = report_services(run.json)
        assert run.returncode == 4, run.describe()
        assert services["hashserver"]["status"] == "failed", services
        text = services["hashserver"]["reason"] + (services["hashserver"]["log_tail"] or "")
        assert "read-only" in text.lower() or "permission" in text.lower() or "errno" in text.lower(), text
        assert services["database"]["status"] == "ok"
        assert_clean(proj)
        print(f"\nread-only bufferdir: {services['hashserver']['reason']}")
    finally:
        _umount(proj.bufferdir)
    again = proj.init("--json")
    assert again.returncode == 0, again.describe()
    assert_clean(proj)


def test_disk_full_while_writing_state(project_factory: Factory) -> None:
    proj = project_factory()
    launcher_dir = proj.home / ".remote-http-launcher"
    if not _mount_tmpfs(launcher_dir, "size=64k"):
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        filler = launcher_dir / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:  # fill it up, to the last byte
            for size in (4096, 512, 64, 1):
                try:
                    while True:
                        os.write(fd, b"x" * size)
                except OSError:
                    pass
        finally:
            os.close(fd)
        run = proj.init("--json", "--timeout", "30")
        assert run.returncode in (3, 4), run.describe()
        assert "Traceback" not in run.stderr, run.describe()
        if run.returncode == 4:
            failed = [s for s in run.json["services"] if s["status"] != "ok"]
            assert failed, run.json
            print(f"\ndisk full: {[(s['service'], s['reason']) for s in failed]}")
        assert not all_json_parses(proj.server_dir) and not all_json_parses(proj.client_dir)
        c = census(proj)
        assert not c.duplicates and not c.leaked, c.describe()
        filler.unlink()
        again = proj.init("--json")
        assert again.returncode == 0, again.describe()
        assert_clean(proj)
    finally:
        from orch_helpers import teardown_project

        teardown_project(proj)  # its state lives on the tmpfs: stop before unmounting
        _umount(launcher_dir)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
