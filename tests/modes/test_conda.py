"""conda: absent, ``null`` and ``""`` all mean "run without conda", for every service and queue.

A named environment on a host without conda fails before anything is launched, with a
message naming the host, the service and the environment. (The real-engine daskserver test runs a queue *without*
``conda``, which seamless-remote 0.4.0 alone would reject with a bare AssertionError:
see docs/upstream-issues.md.)
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from modes_cluster import LocalClusterProject

VARIANTS = {"absent": ..., "null": None, "empty": ""}


def _with_conda(spec: dict[str, Any], value: Any) -> dict[str, Any]:
    spec = dict(spec)
    if value is not ...:
        spec["conda"] = value
    return spec


@pytest.fixture
def fresh_state() -> Iterator[None]:
    from seamless_config.state import STATE

    STATE.reset()
    yield
    STATE.reset()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_conda_for_every_service_and_queue(variant: str, fresh_state: None, tmp_path: Any) -> None:
    from seamless_config import tools
    from seamless_config.cluster import define_clusters
    from seamless_config.remote.launch_config import LaunchConfig
    from seamless_config.select import select_cluster, select_execution, select_project, select_remote

    value = VARIANTS[variant]
    port = {"network_interface": "127.0.0.1", "port_start": 58900, "port_end": 58999}
    frontend = {
        "hostname": "localhost",
        "hashserver": _with_conda({"bufferdir": str(tmp_path / "b"), **port}, value),
        "database": _with_conda({"database_dir": str(tmp_path / "d"), **port}, value),
        "jobserver": _with_conda(port, value),
        "daskserver": port,
    }
    define_clusters({"c": {"type": "local", "workers": 1, "frontends": [frontend], "default_queue": "q",
                           "queues": {"q": _with_conda({"walltime": "00:10:00", "memory": "1GB"}, value)}}})
    select_cluster("c")
    select_project("p")
    select_execution("remote")
    select_remote("jobserver")
    confs = {
        "hashserver": tools.configure_hashserver("rw"),
        "database": tools.configure_database("rw"),
        "jobserver": tools.configure_jobserver(),
        "daskserver": tools.configure_daskserver(),
        "pure_daskserver": tools.configure_pure_daskserver(),
    }
    for service, conf in confs.items():
        assert conf.get("conda") in (None, ""), (service, conf.get("conda"))
        assert LaunchConfig.from_mapping(conf).conda_env is None, service  # what the launcher runs


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("conda") is not None, reason="needs a host without conda")
def test_named_conda_env_on_a_host_without_conda(modes_project: Callable[..., LocalClusterProject]) -> None:
    proj = modes_project(backend="daskserver", queue_conda="seamless-dask")
    done = subprocess.run(["seamless-init", "--json"], cwd=proj.project_dir, env=proj.env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 4, done.stdout + done.stderr
    report = json.loads(done.stdout)
    (dask,) = [s for s in report["services"] if s["service"] == "daskserver"]
    assert dask["status"] == "failed"
    for word in ("daskserver", "'seamless-dask'", "conda", "localhost"):
        assert word in dask["reason"], dask["reason"]
    others = [s for s in report["services"] if s["service"] != "daskserver"]
    assert others and all(s["status"] == "skipped" for s in others), others
    assert proj.server_states() == {}, "something was launched before the conda check failed"
