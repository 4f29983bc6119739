"""Launch dicts (``seamless_config.tools.configure_*``): equal to the reference's, plus a ``meta`` block.

The expected dicts are computed by the reference implementation (0.3.2) itself,
once per session, in its own venv (``launch_driver.py`` in a subprocess). Set
``DIFF_REF_PYTHON`` to use another reference interpreter; without one, the
comparison tests are skipped (the meta/path tests still run).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import launch_driver
from intended_divergences import reference_as_intended
from seamless_config import ConfigurationError, select, tools
from seamless_config.cluster import define_clusters
from seamless_config.core.launch import LaunchMeta, Scope
from seamless_config.state import STATE

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_REF_PYTHON = REPO / ".cache" / "reference-venv" / "bin" / "python"

PORTS = {"port_start": 55100, "port_end": 55199}


def frontend(hostname: str | None = "localhost", *, ssh: str | None = None, full: bool = True, **services: Any) -> dict[str, Any]:
    fe: dict[str, Any] = {}
    if hostname is not None:
        fe["hostname"] = hostname
    if ssh is not None:
        fe["ssh_hostname"] = ssh
    if full:
        fe["hashserver"] = {"bufferdir": "/data/buffers", "conda": "hashserver", "network_interface": "127.0.0.1",
                            "port_start": 55100, "port_end": 55199}
        fe["database"] = {"database_dir": "/data/db", "conda": "seamless-database", "network_interface": "127.0.0.1",
                          "port_start": 55200, "port_end": 55299}
    fe.update(services)
    return fe


JOBSERVER = {"conda": "seamless-jobserver", "network_interface": "127.0.0.1", "port_start": 55300, "port_end": 55399}
DASKSERVER = {"network_interface": "0.0.0.0", "port_start": 60300, "port_end": 60399}

LOCAL = {"tunnel": False, "type": "local", "workers": 3, "frontends": [frontend(jobserver=JOBSERVER)]}

QUEUES = {
    "default": {"conda": "seamless-dask", "walltime": "01:00:00", "cores": 16, "memory": "32000MB", "tmpdir": "/tmp",
                "maximum_jobs": 20, "unknown_task_duration": "1m", "target_duration": "10m", "lifetime_stagger": "4m"},
    "highmem": {"TEMPLATE": "default", "cores": 4, "memory": "128000MB", "partition": "big",
                "job_extra_directives": ["--gres=gpu:1"], "dask_resources": {"GPU": 1}, "worker_threads": 3},
    "whole": {"TEMPLATE": "default", "cores": None, "exclusive": True},
    # (no job_script_prologue here: the reference refuses it in queues, we accept it)
    "fixed": {"TEMPLATE": "default", "cores": 8, "exclusive": True, "project": "acct",
              "extra_dask_config": {"a": {"b": 1}}, "processes": 2,
              "lifetime": "50m", "interactive": True},
}

HPC = {"tunnel": True, "type": "slurm", "workers": 4, "memory_per_core_property_name": "mem-per-cpu",
       "default_queue": "default", "queues": QUEUES,
       "frontends": [frontend("login.hpc.example", ssh="hpc-login", daskserver=DASKSERVER)]}
OAR = {"type": "oar", "default_queue": "whole", "queues": QUEUES,
       "frontends": [frontend("oar.example", daskserver=DASKSERVER)]}
LOCALDASK = {"type": "local", "workers": 6, "default_queue": "q",
             "queues": {"q": {"conda": "dask-env", "walltime": "01:00:00", "memory": "8GB",
                              "unknown_task_duration": "1m", "target_duration": "10m"}},
             "frontends": [frontend(None, daskserver=DASKSERVER)]}
BARE = {"type": "local", "frontends": [
    {"hostname": "first", "database": {"database_dir": "/d0"}},
    {"hostname": "second", "hashserver": {"bufferdir": "~/b"}, "database": {"database_dir": "/d"}},
]}
CLUSTERS = {"local": LOCAL, "hpc": HPC, "oar": OAR, "localdask": LOCALDASK, "bare": BARE}

STORAGE_CALLS = [
    ["configure_hashserver", {"mode": "rw"}],
    ["configure_hashserver", {"mode": "ro"}],
    ["configure_database", {"mode": "rw"}],
    ["configure_database", {"mode": "ro"}],
]
DASK_CALLS = [["configure_daskserver", {}], ["configure_pure_daskserver", {}]]

CASES: dict[str, dict[str, Any]] = {
    "local-is-local-cluster": {
        "clusters": {**CLUSTERS, "local_cluster": "local"},
        "select": {"cluster": "local", "project": "p"},
        "calls": STORAGE_CALLS + [["configure_jobserver", {}]],
    },
    "local-remote-with-stage-substage": {
        "clusters": CLUSTERS,
        "select": {"cluster": "local", "project": "p", "subproject": "sub/x", "stage": "prod", "substage": "gpu",
                   "record": True},
        "calls": STORAGE_CALLS + [["configure_jobserver", {}]],
    },
    "hpc-default-queue": {
        "clusters": CLUSTERS,
        "select": {"cluster": "hpc", "project": "proj", "stage": "s1"},
        "calls": STORAGE_CALLS + DASK_CALLS,
    },
    "hpc-template-queue-node-record": {
        "clusters": CLUSTERS,
        "select": {"cluster": "hpc", "project": "proj", "queue": "highmem", "node": "n[01-02]", "record": True,
                   "substage": "cpu", "stage": "st"},
        "calls": DASK_CALLS + [["configure_pure_daskserver", {"queue": "fixed"}]],
    },
    "hpc-exclusive-whole-nodes": {
        "clusters": CLUSTERS,
        "select": {"cluster": "hpc", "project": "proj", "queue": "whole"},
        "calls": DASK_CALLS,
    },
    "hpc-exclusive-fixed-cores": {
        "clusters": CLUSTERS,
        "select": {"cluster": "hpc", "project": "proj", "queue": "fixed", "node": "n7"},
        "calls": DASK_CALLS,
    },
    "oar-exclusive-and-node": {
        "clusters": CLUSTERS,
        "select": {"cluster": "oar", "project": "proj", "node": "node-3"},
        "calls": DASK_CALLS + [["configure_daskserver", {"substage": "x"}]],
    },
    "local-type-dask-cores-from-workers": {
        "clusters": {**CLUSTERS, "local_cluster": "localdask"},
        "select": {"cluster": "localdask", "project": "proj"},
        "calls": DASK_CALLS,
    },
    "bare-services-frontend-name-overrides": {
        "clusters": CLUSTERS,
        "select": {"cluster": "bare", "project": "p"},
        "calls": STORAGE_CALLS + [
            ["configure_database", {"mode": "rw", "frontend_name": "second"}],
            ["configure_hashserver", {"mode": "rw", "project": "other", "subproject": "s", "stage": "t"}],
            ["configure_hashserver", {"mode": "rw", "stage": "", "subproject": ""}],
            ["configure_hashserver", {"mode": "rw", "cluster": "local"}],
            ["configure_database", {"mode": "ro", "cluster": "hpc", "stage": "z"}],
        ],
    },
    "errors": {
        "clusters": CLUSTERS,
        "select": {"cluster": "bare", "project": "p"},
        "calls": [
            ["configure_jobserver", {}],
            ["configure_daskserver", {}],
            ["configure_database", {"mode": "rw", "frontend_name": "nope"}],
            ["configure_daskserver", {"cluster": "localdask", "frontend_name": "nope"}],
        ],
    },
}


def run_ours(case: dict[str, Any]) -> list[dict[str, Any]]:
    STATE.reset()
    try:
        return launch_driver.run_case(copy.deepcopy(case))
    finally:
        STATE.reset()


@pytest.fixture(scope="session")
def reference_results() -> dict[str, list[dict[str, Any]]]:
    python = os.environ.get("DIFF_REF_PYTHON") or str(DEFAULT_REF_PYTHON)
    if not Path(python).exists():
        pytest.skip(f"no reference interpreter at {python} (set DIFF_REF_PYTHON)")
    names = list(CASES)
    proc = subprocess.run(
        [python, str(HERE / "launch_driver.py")],
        input=json.dumps([CASES[n] for n in names]),
        capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("SEAMLESS_")},
    )
    if proc.returncode != 0:
        pytest.fail(f"reference driver failed:\n{proc.stderr[-3000:]}")
    return dict(zip(names, json.loads(proc.stdout)))


def without_meta(outcome: dict[str, Any]) -> dict[str, Any]:
    if "value" in outcome:
        return {"value": {k: v for k, v in outcome["value"].items() if k != "meta"}}
    return {"error": True}  # exception classes differ on purpose (ConfigurationError vs AssertionError)


@pytest.mark.parametrize("name", list(CASES))
def test_launch_dicts_equal_the_reference(name: str, reference_results: dict[str, Any]) -> None:
    ref = reference_results[name]
    ours = run_ours(CASES[name])
    assert len(ours) == len(ref)
    for call, r, o in zip(CASES[name]["calls"], ref, ours):
        assert without_meta(o) == reference_as_intended(without_meta(r)), call


def test_every_success_has_meta() -> None:
    for name, case in CASES.items():
        for call, outcome in zip(case["calls"], run_ours(case)):
            if "value" in outcome:
                meta = outcome["value"]["meta"]
                assert set(meta) == {"service", "cluster", "mode", "project", "subproject", "stage", "substage", "queue"}
                assert meta["service"] == call[0].removeprefix("configure_"), (name, call)


def test_errors_are_configuration_errors() -> None:
    outcomes = run_ours(CASES["errors"])
    assert [o.get("error") for o in outcomes] == ["ConfigurationError"] * 4


# ------------------------------------------------------------------ meta, paths and keys (ours)


@pytest.fixture
def clusters() -> None:
    define_clusters(copy.deepcopy(CLUSTERS))


def choose(**kwargs: Any) -> None:
    for name in launch_driver.SELECT_ORDER:
        if name in kwargs:
            getattr(select, f"select_{name}")(kwargs[name])


@pytest.mark.parametrize(
    "subproject, stage, suffix, key_suffix",
    [
        (None, None, "/proj", "proj"),
        ("sub", None, "/proj/sub", "proj--sub"),
        (None, "prod", "/proj/STAGE-prod", "proj--STAGE-prod"),
        ("a/b", "prod", "/proj/a/b/STAGE-prod", "proj--a--b--STAGE-prod"),
    ],
)
def test_storage_paths(clusters: None, subproject: str | None, stage: str | None, suffix: str, key_suffix: str) -> None:
    choose(cluster="local", project="proj", subproject=subproject, stage=stage, substage="gpu")
    hs = tools.configure_hashserver("rw")
    db = tools.configure_database("ro")
    assert hs["workdir"] == "/data/buffers" + suffix
    assert db["workdir"] == "/data/db" + suffix
    assert "SUBSTAGE" not in hs["workdir"] + hs["key"] + db["key"]  # substages never split storage
    assert hs["key"] == 'hashserver-local-rw-{"' + suffix + '".strip("/").replace("/", "--")}'
    assert db["key"] == 'database-local-ro-{"' + suffix + '".strip("/").replace("/", "--")}'
    # what the launcher's f-string evaluation makes of the key
    assert eval("f" + repr(hs["key"])) == "hashserver-local-rw-" + key_suffix
    assert hs["log_file"] == f"~/.remote-http-launcher/logs/local{suffix}/hashserver.log"
    assert "--writable" in hs["command"] and "'rw' == 'rw'" in hs["command"]
    assert "'ro' == 'rw'" in db["command"]


def test_substage_goes_into_job_keys(clusters: None) -> None:
    choose(cluster="local", project="proj", stage="prod", substage="gpu")
    js = tools.configure_jobserver()
    assert eval("f" + repr(js["key"])) == "jobserver-local-rw-proj--STAGE-prodSUBSTAGE-gpu"
    assert js["log_file"] == "~/.remote-http-launcher/logs/local/proj/STAGE-prodSUBSTAGE-gpu/jobserver.log"
    select.select_cluster("hpc")
    ds = tools.configure_daskserver()
    assert eval("f" + repr(ds["key"])) == "daskserver-hpc-rw-proj--STAGE-prodSUBSTAGE-gpu"
    # a substage without a stage has no effect (as in the reference)
    choose(stage=None)
    assert eval("f" + repr(tools.configure_daskserver()["key"])) == "daskserver-hpc-rw-proj"


def test_meta_blocks(clusters: None) -> None:
    choose(cluster="hpc", project="proj", subproject="sub", stage="prod", substage="gpu", queue="highmem")
    assert tools.configure_hashserver("ro")["meta"] == {
        "service": "hashserver", "cluster": "hpc", "mode": "ro", "project": "proj", "subproject": "sub",
        "stage": "prod", "substage": None, "queue": "highmem",
    }
    assert tools.configure_database("rw")["meta"]["substage"] is None
    assert tools.configure_daskserver()["meta"] == {
        "service": "daskserver", "cluster": "hpc", "mode": None, "project": "proj", "subproject": "sub",
        "stage": "prod", "substage": "gpu", "queue": "highmem",
    }
    assert tools.configure_pure_daskserver()["meta"] == {
        "service": "pure_daskserver", "cluster": "hpc", "mode": None, "project": None, "subproject": None,
        "stage": None, "substage": None, "queue": "highmem",
    }
    choose(cluster="local")
    assert tools.configure_jobserver()["meta"] == {
        "service": "jobserver", "cluster": "local", "mode": None, "project": "proj", "subproject": "sub",
        "stage": "prod", "substage": "gpu", "queue": None,
    }


def test_meta_follows_overrides(clusters: None) -> None:
    choose(cluster="hpc", project="proj")
    meta = tools.configure_hashserver("rw", cluster="local", project="other", stage="s")["meta"]
    assert (meta["cluster"], meta["project"], meta["stage"], meta["queue"]) == ("local", "other", "s", None)
    assert tools.configure_daskserver()["meta"]["queue"] == "default"  # the default queue, by name


def test_meta_is_hashable_and_json(clusters: None) -> None:
    choose(cluster="hpc", project="proj")
    conf = tools.configure_daskserver()
    assert isinstance(conf["meta"], LaunchMeta)
    hash(conf["meta"])
    assert json.loads(json.dumps(conf))["meta"]["service"] == "daskserver"


def test_local_cluster_drops_host_fields(clusters: None) -> None:
    define_clusters({**copy.deepcopy(CLUSTERS), "local_cluster": "hpc"})
    choose(cluster="hpc", project="proj")
    for conf in (tools.configure_hashserver("rw"), tools.configure_daskserver()):
        assert not {"hostname", "ssh_hostname", "tunnel"} & set(conf)
    choose(cluster="oar")
    conf = tools.configure_hashserver("rw")
    assert conf["hostname"] == "oar.example" and "tunnel" not in conf  # tunnel: false is dropped


def test_launch_dicts_are_independent_copies(clusters: None) -> None:
    choose(cluster="hpc", project="proj", queue="highmem")
    a = tools.configure_daskserver()
    a["file_parameters"]["job_extra_directives"].append("--evil")
    a["handshake"]["path"] = "x"
    b = tools.configure_daskserver()
    assert b["file_parameters"]["job_extra_directives"] == ["--gres=gpu:1"]
    assert b["handshake"] == {"path": "health", "port_name": "dashboard_port"}


def test_configure_errors(clusters: None) -> None:
    with pytest.raises(ConfigurationError, match="No cluster"):
        tools.configure_hashserver("rw")
    choose(cluster="local")
    with pytest.raises(ConfigurationError, match="No project"):
        tools.configure_hashserver("rw")
    choose(project="p")
    with pytest.raises(ValueError, match="mode"):
        tools.configure_hashserver("rx")
    with pytest.raises(ConfigurationError, match="daskserver"):
        tools.configure_daskserver()
    define_clusters({"c": {"type": "local", "frontends": [{"jobserver": JOBSERVER}]}})
    choose(cluster="c")
    with pytest.raises(ConfigurationError, match="workers"):
        tools.configure_jobserver()


def test_scope_normalises_and_validates() -> None:
    scope = Scope("c", "p", "", "", "")
    assert (scope.subproject, scope.stage, scope.substage) == (None, None, None)
    assert Scope("c", "p", "a/b", "s", "t").storage_path("/base") == "/base/p/a/b/STAGE-s"
    with pytest.raises(ValueError):
        Scope("c", "p", stage="a b")
    with pytest.raises(ValueError):
        Scope("c", "")


def test_driver_is_standalone() -> None:
    """launch_driver.py must not import this repository's test helpers (it runs in the reference venv)."""
    text = (HERE / "launch_driver.py").read_text()
    assert "unit_helpers" not in text and "conftest" not in text
    assert sys.executable  # keep the import used
