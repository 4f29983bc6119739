"""Pure Dask (``persistent: false`` + ``remote: daskserver``): one scheduler, the one bring-up started.

- ``init()`` brings the pure daskserver up through the orchestrator and
  ``seamless_config.pure_daskserver.get_client()`` is a ``distributed.Client``
  (Dask's default client) connected to exactly that scheduler;
- no hashserver, no database, no second launch (the reference launcher is never called);
- a plain Dask computation and a Seamless transformation (inside a Dask worker) both run;
- under ``ainit()`` the caller's loop keeps running;
- after the scheduler dies, the next activation (``set_stage(...)``) finds it dead, brings up a
  new one and the client follows it (nothing cached from the first activation).
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable

import pytest

from modes_cluster import LocalClusterProject, run_bounded

pytestmark = pytest.mark.slow

SCRIPT = """
    import asyncio, faulthandler, json, os, sys, time
    faulthandler.dump_traceback_later(100, exit=True)
    import remote_http_launcher
    def no_second_launch(conf):
        raise AssertionError("remote_http_launcher.run() called: " + conf.get("key", "?"))
    remote_http_launcher.run = no_second_launch

    t0 = time.monotonic()
    import seamless
    import seamless.config
    from seamless_config import pure_daskserver
    from seamless.transformer import delayed

    ticks = 0
    async def main():
        global ticks
        async def ticker():
            global ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1
        task = asyncio.create_task(ticker())
        await seamless.config.ainit()
        task.cancel()

    if sys.argv[1] == "ainit":
        asyncio.run(main())
    else:
        seamless.config.init()
    t_init = time.monotonic() - t0
    client = pure_daskserver.get_client()
    import distributed
    assert isinstance(client, distributed.Client), client
    assert distributed.get_client() is client   # Dask's default client, as in the reference

    plain = client.submit(lambda x: x + 1, 41, pure=False).result(timeout=60)

    @delayed
    def add(a, b):
        import os
        return [a + b, os.getpid()]

    def seamless_in_worker(a, b):
        return add(a, b).run()

    tf_result, tf_pid = client.submit(seamless_in_worker, 19, 23, pure=False).result(timeout=60)
    t_result = time.monotonic() - t0
    out = {"plain": plain, "tf": tf_result, "tf_pid": tf_pid, "client_pid": os.getpid(),
           "scheduler": client.scheduler.address, "ticks": ticks,
           "init_seconds": round(t_init, 3), "first_result_seconds": round(t_result, 3)}
    if len(sys.argv) > 2 and sys.argv[2] == "restage":
        os.kill(int(sys.argv[3]), 0)
        print("MODES-READY", json.dumps(out), flush=True)
        line = sys.stdin.readline()   # the test kills the scheduler, then says go
        seamless.config.set_stage("again")   # re-activation: the dead scheduler is found dead and replaced
        client2 = pure_daskserver.get_client()
        out["scheduler2"] = client2.scheduler.address
        out["plain2"] = client2.submit(lambda x: x * 2, 21, pure=False).result(timeout=60)
    print("MODES-RESULT", json.dumps(out), flush=True)
    seamless.close()
"""


def _check_pure(proj: LocalClusterProject, out: dict) -> dict:
    assert out["plain"] == 42 and out["tf"] == 42
    assert out["tf_pid"] != out["client_pid"], "the Seamless transformation did not run in a Dask worker"
    states = proj.server_states()
    assert sorted(states) == ["pure-daskserver-modeslocal-main"], sorted(states)  # no hashserver, no database
    state = states["pure-daskserver-modeslocal-main"]
    assert out["scheduler"] == f"tcp://127.0.0.1:{state['port']}", (out["scheduler"], state)
    assert state["parameters"].get("pure_dask") is True
    return state


@pytest.mark.parametrize("entry", ["init", "ainit"])
def test_pure_dask_uses_the_scheduler_bring_up_started(
    modes_project: Callable[..., LocalClusterProject], entry: str
) -> None:
    proj = modes_project(backend="daskserver", persistent=False)
    script = proj.write_script("pure.py", SCRIPT)
    run = run_bounded(proj, script, entry, timeout=110)
    assert run.returncode == 0, run.describe() + "\n" + proj.diagnostics()
    out = run.tagged("MODES-RESULT")
    _check_pure(proj, out)
    log = proj.service_log("pure_daskserver")
    assert "Launch daskserver" not in run.stderr
    if entry == "ainit":
        assert out["ticks"] > 0, "the caller's event loop was blocked during ainit()"
    print(f"\npure Dask ({entry}): first result {out['first_result_seconds']}s after init start")
    assert log  # the wrapper wrote its log


def test_pure_dask_follows_a_restarted_scheduler(modes_project: Callable[..., LocalClusterProject]) -> None:
    import subprocess
    import sys
    import time

    proj = modes_project(backend="daskserver", persistent=False)
    script = proj.write_script("pure.py", SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), "init", "restage", str(os.getpid())],
                            cwd=proj.project_dir, env=proj.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        deadline = time.monotonic() + 110
        line = ""
        while time.monotonic() < deadline and not line.startswith("MODES-READY"):
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
        assert line.startswith("MODES-READY"), proc.stderr.read() if proc.poll() is not None else line
        first = json.loads(line.split(" ", 1)[1])
        state = _check_pure(proj, first)
        os.kill(state["pid"], signal.SIGKILL)   # the scheduler dies under the client
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.path.exists(f"/proc/{state['pid']}"):
            time.sleep(0.1)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        stdout, stderr = proc.communicate(timeout=110)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, stdout + stderr
    out = json.loads([ln for ln in stdout.splitlines() if ln.startswith("MODES-RESULT")][-1].split(" ", 1)[1])
    new_state = proj.server_states()["pure-daskserver-modeslocal-main"]
    assert new_state["pid"] != state["pid"]
    assert out["plain2"] == 42 and out["scheduler2"] == f"tcp://127.0.0.1:{new_state['port']}"
