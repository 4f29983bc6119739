"""``seamless-service-clear`` deletes exactly one project/stage's data, and nothing else.

With real services: clearing one stage leaves the other stage's buffers and
database byte-for-byte intact; a running service is refused. Without
services: bufferdir == database_dir (the SEAMLESS_CACHE layout), hostile
project names, bad arguments (exit codes, no tracebacks).
"""

from __future__ import annotations

import json
from pathlib import Path

from orch_helpers import OrchProject
from svc_helpers import put_buffer, svc, tree_digest


def _state(proj: OrchProject, service: str, stage: str | None) -> tuple[str, dict[str, object]]:
    found = [(k, s) for k, s in proj.server_states().items()
             if (s.get("meta") or {}).get("service") == service and (s.get("meta") or {}).get("stage") == stage]
    assert len(found) == 1, found
    return found[0]


def test_clear_one_stage_leaves_the_other_intact(project: OrchProject) -> None:
    proj = project
    for args in ((), ("--stage", "prod")):
        run = proj.init(*args)
        assert run.returncode == 0, run.describe()
    main_hs = _state(proj, "hashserver", None)[1]
    prod_hs = _state(proj, "hashserver", "prod")[1]
    main_buffer = put_buffer(int(main_hs["port"]), b"main stage buffer\n")  # type: ignore[call-overload]
    prod_buffer = put_buffer(int(prod_hs["port"]), b"prod stage buffer\n")  # type: ignore[call-overload]
    main_dir = proj.bufferdir / proj.project
    prod_dir = main_dir / "STAGE-prod"
    assert (main_dir / main_buffer[:2] / main_buffer).exists() and (prod_dir / prod_buffer[:2] / prod_buffer).exists()

    # running: refused, nothing deleted
    run = svc(proj, "clear", "--service", "hashserver", "--project", proj.project, "--yes")
    assert run.returncode == 1 and "running" in run.stderr, run.describe()
    assert (main_dir / main_buffer[:2] / main_buffer).exists()
    # without --yes (not a terminal): names what it would delete, deletes nothing
    run = svc(proj, "clear", "--service", "hashserver", "--project", proj.project, "--json", "--force")
    assert run.returncode == 2 and "--yes" in run.stdout, run.describe()

    prod_buffers = tree_digest(prod_dir)
    databases = tree_digest(proj.database_dir)
    run = svc(proj, "stop", "--service", "hashserver")
    assert run.returncode == 0, run.describe()
    run = svc(proj, "clear", "--service", "hashserver", "--project", proj.project, "--yes", "--json")
    assert run.returncode == 0, run.describe()
    result = json.loads(run.stdout)
    assert result["removed"] == 1 and result["paths"] == [str(main_dir / main_buffer[:2] / main_buffer)]
    assert not (main_dir / main_buffer[:2]).exists()
    assert tree_digest(prod_dir) == prod_buffers  # the other stage: byte-for-byte
    assert tree_digest(proj.database_dir) == databases
    assert (main_dir / ".HASHSERVER_PREFIX").exists()

    # the prod database, running: --force stops it first, then only its seamless.db goes
    main_db = proj.database_dir / proj.project / "seamless.db"
    before_main = main_db.read_bytes()
    buffers = tree_digest(proj.bufferdir)
    run = svc(proj, "clear", "--service", "database", "--project", proj.project, "--stage", "prod", "--yes",
              "--force")
    assert run.returncode == 0, run.describe()
    assert not (proj.database_dir / proj.project / "STAGE-prod" / "seamless.db").exists()
    assert main_db.read_bytes() == before_main
    assert tree_digest(proj.bufferdir) == buffers
    _key, prod_db = _state(proj, "database", "prod")
    assert prod_db["status"] == "stale"  # stopped (identity-checked) before its file was deleted


def _offline_project(root: Path, shared: Path) -> Path:
    """A project whose local cluster has bufferdir == database_dir (as SEAMLESS_CACHE lays it out)."""
    project_dir = root / "project"
    project_dir.mkdir(parents=True)
    frontend = {"hostname": "localhost", "hashserver": {"bufferdir": str(shared)},
                "database": {"database_dir": str(shared)}}
    clusters = {"offline": {"type": "local", "frontends": [frontend]}, "local_cluster": "offline"}
    (project_dir / "seamless.yaml").write_text(f"- {json.dumps({'project': 'proj'})}\n")
    (project_dir / "seamless.profile.yaml").write_text(
        "".join(f"- {json.dumps(c)}\n" for c in ({"clusters": clusters}, {"cluster": "offline"})))
    return project_dir


def test_clear_shared_directory_and_hostile_arguments(project: OrchProject, tmp_path: Path) -> None:
    proj = project
    shared = tmp_path / "cache"
    project_dir = _offline_project(tmp_path / "offline", shared)
    data = shared / "proj"
    checksum = "ab" + "0" * 62
    for path, content in ((data / "ab" / checksum, b"buffer"), (data / "seamless.db", b"db"),
                          (data / "STAGE-x" / "seamless.db", b"stage db"),
                          (data / "STAGE-x" / "ab" / checksum, b"stage buffer"), (data / "notes.txt", b"mine"),
                          (shared / "other" / "seamless.db", b"other project")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    def clear(*args: str) -> object:
        return svc(proj, "clear", *args, cwd=project_dir)

    before = tree_digest(shared)
    run = clear("--service", "hashserver", "--project", "proj", "--yes")
    assert run.returncode == 0, run.describe()  # type: ignore[attr-defined]
    after = tree_digest(shared)
    assert set(before) - set(after) == {"proj/ab/" + checksum}
    assert all(after[k] == before[k] for k in after)
    run = clear("--service", "database", "--project", "proj", "--yes")
    assert run.returncode == 0, run.describe()  # type: ignore[attr-defined]
    assert set(after) - set(tree_digest(shared)) == {"proj/seamless.db"}

    kept = tree_digest(shared)
    for project_name in (".", "", "a b", "../other", "proj/../other"):
        run = clear("--service", "database", "--project", project_name, "--yes")
        assert run.returncode == 3, run.describe()  # type: ignore[attr-defined]
        assert "Traceback" not in run.stderr  # type: ignore[attr-defined]
    run = clear("--service", "database", "--yes")
    assert run.returncode == 2  # type: ignore[attr-defined]
    run = clear("--service", "jobserver", "--project", "proj", "--yes")
    assert run.returncode == 2  # type: ignore[attr-defined]
    assert tree_digest(shared) == kept

    for args, code in ((("--service", "hashserver", "--cluster", "nope"), 3), ((), 2),
                       (("--service", "hashserver", "--stage", "has space"), 3),
                       (("--service", "nope"), 2)):
        run = svc(proj, "resolve", *args, cwd=project_dir)
        assert run.returncode == code, run.describe()
        assert "Traceback" not in run.stderr

    # SEAMLESS_CACHE addresses the SEAMLESS_CACHE setup
    env = dict(proj.env, SEAMLESS_CACHE=str(shared))
    run = svc(proj, "resolve", "--service", "database", "--project", "SEAMLESS_CACHE", env=env)
    assert run.returncode == 0, run.describe()
    resolved = json.loads(run.stdout)
    assert resolved["key"] == "database-__SEAMLESS_CACHE__-rw-__TOPLEVEL__"
    assert resolved["project"] == "SEAMLESS_CACHE" and resolved["workdir"] == f"{shared}/__TOPLEVEL__"
