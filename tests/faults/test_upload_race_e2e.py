"""The soak's last hang, reproduced on a real local cluster: a hashserver that stalls during the dispatch flush.

``scripts/bench/repro_upload_race.py`` runs new transformations through the
jobserver while the hashserver is stopped for 1 s right after the flush's
first ``/has-now`` (what a loaded machine does to it). As published, every
such run hung (8 of 8: the input's upload was aborted and counted as done);
with seamless-config's workarounds none may.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench" / "repro_upload_race.py"


def test_a_stalled_hashserver_during_the_flush_does_not_hang_the_run() -> None:
    argv = [sys.executable, str(SCRIPT), "--cycles", "3", "--no-kill", "--pause-hashserver", "1",
            "--hang-after", "60", "--start", "7000"]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    summary = [line for line in run.stdout.splitlines() if line.startswith("REPRO ")]
    assert summary, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(summary[-1].split(" ", 1)[1])
    assert result["hangs"] == 0 and result["survivors"] == [], run.stdout[-6000:]
    assert run.returncode == 0
