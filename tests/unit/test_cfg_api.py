"""The Python API: init / set_stage / set_substage / set_workdir, warnings and requirements (nothing launches)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from unit_helpers import HPC_CLUSTER, LOCAL_CLUSTER, Project, indent

import seamless_config
from seamless_config import ConfigurationError, select, tools
from seamless_config.state import STATE

pytestmark = [
    pytest.mark.usefixtures("no_launch"),
    pytest.mark.filterwarnings("ignore:No 'execution' command found:UserWarning"),
    pytest.mark.filterwarnings("ignore:No cluster selected:UserWarning"),
]


def clusters_block(*texts: str) -> str:
    return "- clusters:\n" + "".join(indent(t, 4) for t in texts)


STAGED = clusters_block(LOCAL_CLUSTER, HPC_CLUSTER) + """\
- project: proj
- cluster: local
- execution: remote
- stage prod:
    - cluster: hpc
    - queue: highmem
    - remote: daskserver
"""


def test_init_reads_the_workdir_and_is_idempotent(project: Project) -> None:
    project.yaml(STAGED)
    seamless_config.init(workdir=project.root)
    assert STATE.initialized
    assert select.get_selected_cluster() == "local" and select.get_execution() == "remote"
    project.yaml("- project: changed\n")
    seamless_config.init(workdir=project.root)  # a no-op once initialised
    assert select.get_selected_project() == "proj"


def test_set_stage_and_substage(project: Project) -> None:
    project.yaml(STAGED)
    seamless_config.set_stage("prod", workdir=project.root)
    assert (select.get_stage(), select.get_substage()) == ("prod", None)
    assert select.get_selected_cluster() == "hpc" and select.get_queue() == "highmem"
    assert select.get_remote() == "daskserver"
    seamless_config.set_substage("gpu")
    assert (select.get_stage(), select.get_substage()) == ("prod", "gpu")
    assert select.get_queue() == "highmem"
    assert select.get_current() == ("hpc", "proj", None, "prod", "gpu")
    seamless_config.set_stage()
    assert (select.get_stage(), select.get_substage()) == (None, None)
    assert select.get_remote() is None  # the stage block's command no longer applies
    # cluster is sticky across reloads, like the reference; the file's top-level 'cluster: local'
    # is applied again anyway
    assert select.get_selected_cluster() == "local"


def test_set_stage_honours_workdir(project: Project, tmp_path: Path) -> None:
    # intended divergence: the reference ignored set_stage(workdir=...)
    project.yaml("- project: first\n")
    other = tmp_path / "other"
    other.mkdir()
    (other / "seamless.yaml").write_text("- project: second\n")
    seamless_config.set_stage(workdir=project.root)
    assert select.get_selected_project() == "first"
    seamless_config.set_stage(workdir=other)
    assert select.get_selected_project() == "second"
    assert STATE.workdir == str(other)


def test_set_workdir_without_argument_uses_the_callers_directory() -> None:
    seamless_config.set_workdir()
    assert STATE.workdir == os.path.dirname(os.path.abspath(__file__))
    seamless_config.set_workdir(None)
    assert STATE.get_workdir() == os.getcwd()


def test_init_without_workdir_uses_the_callers_directory(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    # this test file's directory has no seamless.yaml: nothing is configured
    seamless_config.init()
    assert STATE.workdir == os.path.dirname(os.path.abspath(__file__))
    assert select.get_selected_project() is None


def test_no_execution_command_warns(project: Project) -> None:
    project.yaml("- project: p\n")
    with pytest.warns(UserWarning, match="No 'execution' command found"):
        seamless_config.set_stage(workdir=project.root)
    project.yaml(clusters_block(LOCAL_CLUSTER) + "- project: p\n- cluster: local\n")
    with pytest.warns(UserWarning, match="using 'remote' because cluster 'local'"):
        seamless_config.set_stage(workdir=project.root)


def test_remote_without_cluster_is_an_error(project: Project) -> None:
    project.yaml("- project: p\n- execution: remote\n")
    with pytest.raises(ConfigurationError, match="no cluster is selected"):
        seamless_config.set_stage(workdir=project.root)


def test_persistent_without_cluster_is_an_error(project: Project) -> None:
    project.yaml("- project: p\n- execution: process\n- persistent: true\n")
    with pytest.raises(ConfigurationError, match="persistent is true"):
        seamless_config.set_stage(workdir=project.root)


def test_pure_dask_needs_a_daskserver(project: Project) -> None:
    project.yaml(clusters_block(LOCAL_CLUSTER) + "- project: p\n- cluster: local\n- execution: remote\n- persistent: false\n")
    with pytest.raises(ConfigurationError, match="Pure Dask"):
        seamless_config.set_stage(workdir=project.root)


def test_pure_dask_mode_activates(project: Project) -> None:
    project.yaml(clusters_block(HPC_CLUSTER) + "- project: p\n- cluster: hpc\n- execution: remote\n- persistent: false\n")
    seamless_config.set_stage(workdir=project.root)
    assert select.get_persistent() is False and STATE.initialized


def test_both_job_backends_need_remote_pin(project: Project) -> None:
    both = LOCAL_CLUSTER.replace(
        "      jobserver:",
        "      daskserver:\n        network_interface: 127.0.0.1\n        port_start: 1\n        port_end: 2\n      jobserver:",
    )
    project.yaml(clusters_block(both) + "- project: p\n- cluster: local\n- execution: remote\n")
    with pytest.raises(ConfigurationError, match="remote: jobserver"):
        seamless_config.set_stage(workdir=project.root)
    with pytest.raises(ConfigurationError):
        select.check_remote_redundancy("local")
    project.yaml(clusters_block(both) + "- project: p\n- cluster: local\n- execution: remote\n- remote: jobserver\n")
    seamless_config.set_stage(workdir=project.root)
    assert select.check_remote_redundancy("local") == "jobserver"


def test_check_remote_redundancy_single_backend(project: Project) -> None:
    project.yaml(clusters_block(LOCAL_CLUSTER, HPC_CLUSTER) + "- project: p\n")
    project.load()
    assert select.check_remote_redundancy("local") == "jobserver"
    assert select.check_remote_redundancy("hpc") == "daskserver"


def test_spawn_uses_the_local_clusters_workers(project: Project, no_launch: list[object]) -> None:
    project.clusters_file(LOCAL_CLUSTER + "local_cluster: local\n")
    project.yaml("- project: p\n- execution: spawn\n")
    seamless_config.set_stage(workdir=project.root)
    assert no_launch == [3]


def test_api_values_survive_set_stage(project: Project) -> None:
    project.yaml(STAGED)
    seamless_config.set_stage(workdir=project.root)
    seamless_config.select_record(True)
    seamless_config.set_nparallel(4)
    select.select_node("n1")
    seamless_config.set_stage("prod")
    assert select.get_record() is True and seamless_config.get_nparallel() == 4
    assert select.get_node() == "n1"
    assert STATE.selection.origin("record").kind == "api"


def test_seamless_cache(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("SEAMLESS_CACHE", str(cache) + "/")
    project.yaml("- project: ignored\n- clsuter: typo-is-never-read\n")
    assert seamless_config.get_seamless_cache() == str(cache)
    seamless_config.set_stage(workdir=project.root)
    assert select.get_selected_cluster() == "__SEAMLESS_CACHE__"
    assert select.get_selected_project() == "__TOPLEVEL__"
    assert select.get_execution() == "process" and select.get_persistent() is True
    assert STATE.selection.origin("cluster").kind == "env"
    conf = tools.configure_hashserver("rw")
    assert conf["workdir"] == f"{cache}/__TOPLEVEL__"
    assert "hostname" not in conf  # the synthetic cluster is the local cluster


def test_seamless_cache_keeps_an_api_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEAMLESS_CACHE", str(tmp_path))
    select.select_project("mine")
    seamless_config.set_stage(workdir=tmp_path)
    assert select.get_selected_project() == "mine"


def test_blank_seamless_cache_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEAMLESS_CACHE", "  ")
    assert seamless_config.get_seamless_cache() is None


def test_load_config_files_facade(project: Project) -> None:
    from seamless_config.config_files import load_config_files

    project.yaml("- project: p\n- stage s:\n    - subproject: x\n")
    seamless_config.set_workdir(project.root)
    select.select_stage("s")
    load_config_files()
    assert select.get_subproject() == "x"
    assert not STATE.initialized  # loading does not activate anything
    seamless_config.change_stage()
    assert STATE.initialized


def test_undefined_cluster_fails_set_stage_with_a_location(project: Project) -> None:
    path = project.yaml("- project: p\n- cluster: nowhere\n- execution: remote\n")
    with pytest.raises(ConfigurationError, match="Unknown cluster 'nowhere'") as info:
        seamless_config.set_stage(workdir=project.root)
    assert f"{path}:2:3" in str(info.value) and "no clusters are defined" in str(info.value)
