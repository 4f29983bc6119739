"""Cluster-wide ps/stop over several SSH frontends at once; an unreachable frontend gets its own row."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from orch_helpers import OrchProject, yaml_list
from svc_helpers import alias_config, json_lines, ssh_clusters, svc


def test_all_clusters_with_an_unreachable_frontend(ssh_project: OrchProject, sshd: object, tmp_path: Path) -> None:
    proj = ssh_project
    init = proj.init()
    assert init.returncode == 0, init.describe()
    listener = socket.socket()  # accepts TCP (the kernel's backlog) but never says a word
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        config, bindir = alias_config(sshd, tmp_path / "ssh", ["fe1", "fe2"], ("blackhole", listener.getsockname()[1]))
        # the project's own cluster, two more frontends of the same sshd (hostname only), and a dead one
        profile = [json.loads(line[2:]) for line in proj.profile_path.read_text().splitlines()]
        clusters = profile[0]["clusters"] | ssh_clusters(["fe1", "fe2", "blackhole"])
        proj.profile_path.write_text(yaml_list([{"clusters": clusters}] + profile[1:]))
        env = dict(proj.env, SEAMLESS_SSH_CONFIG=str(config), PATH=f"{bindir}:{proj.env['PATH']}")

        run = svc(proj, "ps", "--all-clusters", "--json", "--connect-timeout", "2", env=env)
        assert run.returncode == 4, run.describe()
        rows = json_lines(run)
        errors = [r for r in rows if r.get("error")]
        assert [r["cluster"] for r in errors] == ["fe-blackhole"] and "blackhole" in errors[0]["error"]
        assert {r["service"] for r in rows if r["process"] == "running" and r["cluster"] == proj.cluster} == {
            "hashserver", "database", "jobserver"}
        assert run.seconds < 60  # bounded: the dead frontend does not hang the command (generous)

        text = svc(proj, "ps", "--all-clusters", "--connect-timeout", "2", env=env)
        assert text.returncode == 4 and "running" in text.stdout and "fe-blackhole" in text.stderr

        # a frontend with only `hostname:` is that host, not this machine: stop names it
        run = svc(proj, "stop", "--cluster", "fe-fe1", "--json", env=env)
        assert run.returncode == 0 and json_lines(run) == [], run.describe()
        run = svc(proj, "stop", "--cluster", "fe-blackhole", "--connect-timeout", "2", env=env)
        assert run.returncode == 4 and "blackhole" in run.stdout + run.stderr, run.describe()
        assert len(proj.service_processes()) == 3  # nothing of ours was touched
    finally:
        listener.close()
