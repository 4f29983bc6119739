"""The Dask path's wait is watched (``upstream_fixes.dask_wait``), on a real daskserver + LocalCluster.

An input's upload is counted as written but never reaches the hashserver, which keeps the promise
(the upload race's signature): the Dask worker waits for it. The watch uploads it again when this
process still holds it, and fails the run with ``StalledRunError`` naming the hashserver when it
does not. A normal run is unaffected. The three runs share one cluster (the lost run goes last: its
worker stays blocked on the promise until the services are stopped).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from modes_cluster import LocalClusterProject, run_bounded

pytestmark = pytest.mark.slow

LOST_INPUT = """
    import faulthandler, json, os, sys, time

    faulthandler.dump_traceback_later(float(os.environ.get("MODES_DUMP_AFTER", "80")), exit=True)
    import seamless
    import seamless.config
    from seamless.transformer import delayed

    seamless.config.init()
    from seamless_config.upstream_fixes import applied, hashserver_buffers, jobserver_wait
    from seamless_remote import buffer_remote

    jobserver_wait.WATCH_INTERVAL = 1.0
    marker, mode = sys.argv[1], sys.argv[2]
    salt = f"lost-input-{mode}-{time.time_ns()}"
    dropped, written = [], []
    if mode != "normal":
        original_write = buffer_remote.write_buffer

        async def write_buffer(checksum, buffer):
            # The upload race: the promise was sent, the upload is "done", the hashserver never got it.
            if salt.encode() in bytes(buffer.content) and (mode == "lost" or not dropped):
                dropped.append(checksum.hex())
                return True
            written.append(checksum.hex())
            return await original_write(checksum, buffer)

        buffer_remote.write_buffer = write_buffer
    if mode == "lost":
        held = hashserver_buffers.local_buffer  # this process no longer holds the lost buffer (only that one)
        hashserver_buffers.local_buffer = lambda checksum: None if checksum in dropped else held(checksum)

    @delayed
    def add(a, b, marker, salt):
        import os
        with open(marker, "a") as f:
            f.write(f"{os.getpid()}\\n")
        return a + b

    tf = add(19, 23, marker, salt)
    t0 = time.monotonic()
    try:
        result, error = tf.run(), None
    except Exception as exc:
        result, error = None, f"{type(exc).__name__}: {exc}"
    stored_after = [hashserver_buffers.is_stored(hashserver_buffers.stored_lengths(url, dropped)[0])
                    for url in hashserver_buffers.write_urls()] if dropped else []
    print("MODES-RESULT", json.dumps({"stored_after": stored_after,
        "result": result, "error": error, "exception": tf.exception, "dropped": dropped, "written": written,
        "seconds": round(time.monotonic() - t0, 3),
        "fix": applied()["dask-wait-unbounded"].applied,
    }), flush=True)
    seamless.close()
"""


def test_dask_wait_reuploads_a_lost_input_and_fails_when_it_cannot(
        modes_project: Callable[..., LocalClusterProject]) -> None:
    proj = modes_project(backend="daskserver", omit_queue_conda=True)
    script = proj.write_script("lost_input.py", LOST_INPUT)
    marker = proj.root / "executions.txt"

    normal = run_bounded(proj, script, str(marker), "normal")
    assert normal.returncode == 0, normal.describe() + "\n" + proj.diagnostics()
    out = normal.tagged("MODES-RESULT")
    assert out["fix"] is True
    assert out["result"] == 42 and out["error"] is None and out["dropped"] == [], out

    reupload = run_bounded(proj, script, str(marker), "reupload")
    assert reupload.returncode == 0, reupload.describe() + "\n" + proj.diagnostics()
    out = reupload.tagged("MODES-RESULT")
    assert len(out["dropped"]) == 1, out  # the input's upload was lost ...
    assert out["result"] == 42 and out["error"] is None, out  # ... and the run completed anyway
    assert out["stored_after"] == [True], out  # the watch uploaded it again

    lost = run_bounded(proj, script, str(marker), "lost")
    assert lost.returncode == 0, lost.describe() + "\n" + proj.diagnostics()
    out = lost.tagged("MODES-RESULT")
    assert len(out["dropped"]) == 1 and out["result"] is None, out
    text = f"{out['error']}\n{out['exception']}"
    assert "StalledRunError" in text and "hashserver at http://127.0.0.1:" in text, text
    named = sorted(set(re.findall(r"waits for buffer ([0-9a-f]{64})", text)))
    print("DASK-WAIT-LOST", json.dumps({"named": named, "dropped": out["dropped"], "written": out["written"]}))
    assert out["dropped"][0] in text, (named, out["dropped"], out["written"])
    assert len(marker.read_text().split()) == 2, "the normal and the re-uploaded run executed, the lost one did not"
