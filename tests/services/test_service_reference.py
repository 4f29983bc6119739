"""``resolve`` and ``ps --json`` keep the reference's JSON keys (seamless-config 0.3.2, same configuration).

The reference's commands run from the venv of ``scripts/make_reference_venv.sh``
with the same HOME and working directory as ours, against the same running
services. Our objects may carry more keys (``mode``, ``host``), never fewer,
and agree on the values the reference gets right.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from orch_helpers import OrchProject
from svc_helpers import json_lines, svc

REPO = Path(__file__).resolve().parents[2]


def _reference_bin() -> Path:
    venv = REPO / ".cache" / "reference-venv"
    if not (venv / "bin" / "seamless-service-resolve").exists():
        try:
            proc = subprocess.run(["bash", str(REPO / "scripts" / "make_reference_venv.sh")], capture_output=True,
                                  text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            proc = None
            reason = repr(exc)
        else:
            reason = proc.stderr[-2000:]
        if proc is None or proc.returncode != 0 or not (venv / "bin" / "seamless-service-resolve").exists():
            if os.environ.get("CI"):
                pytest.fail(f"reference venv could not be built: {reason}")
            pytest.skip(f"reference venv could not be built: {reason}")
    return venv / "bin"


def _reference(proj: OrchProject, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    bindir = _reference_bin()
    env = dict(proj.env, PATH=f"{bindir}{os.pathsep}{proj.env['PATH']}")
    return subprocess.run([str(bindir / f"seamless-service-{name}"), *args], cwd=proj.project_dir, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def test_resolve_and_ps_keys_match_the_reference(project: OrchProject) -> None:
    proj = project
    _reference_bin()
    frontend = proj.frontend()
    frontend["jobserver"]["conda"] = ""  # the reference requires the key; "" means no conda in both
    proj.write_config(frontend)
    init = proj.init()
    assert init.returncode == 0, init.describe()

    for service in ("hashserver", "database", "jobserver"):
        # the reference reads the directory's files only with --workdir
        theirs_run = _reference(proj, "resolve", "--service", service, "--workdir", str(proj.project_dir))
        assert theirs_run.returncode == 0, theirs_run.stderr
        theirs = json.loads(theirs_run.stdout)
        ours = json.loads(svc(proj, "resolve", "--service", service).stdout)
        assert set(ours) == set(theirs), (service, sorted(ours), sorted(theirs))
        for name in ("key", "ssh_hostname", "workdir", "service", "cluster", "project", "stage", "mode"):
            assert ours[name] == theirs[name], (service, name, ours[name], theirs[name])
        # ours is the real path on this machine (the reference's "~" ignores $REMOTE_HTTP_LAUNCHER_DIR)
        assert ours["log_path"] == theirs["log_path"].replace("~", str(proj.home), 1)

    for args in ((), ("--cluster", proj.cluster), ("--cluster", proj.cluster, "--persistent")):
        theirs_run = _reference(proj, "ps", "--json", *args)
        assert theirs_run.returncode == 0, theirs_run.stderr
        theirs_rows = [json.loads(line) for line in theirs_run.stdout.splitlines() if line.strip()]
        ours_rows = json_lines(svc(proj, "ps", "--json", *args))
        assert theirs_rows, args
        for theirs in theirs_rows:
            match = [o for o in ours_rows if (o["key"], o.get("path")) == (theirs["key"], theirs.get("path"))
                     or (theirs["key"] is not None and o["key"] == theirs["key"])]
            assert match, (args, theirs, ours_rows)
            ours = match[0]
            assert set(theirs) <= set(ours), (args, sorted(theirs), sorted(ours))
            for name in ("service", "cluster", "project", "stage", "process", "port", "persistent"):
                assert ours[name] == theirs[name], (args, name, ours, theirs)
