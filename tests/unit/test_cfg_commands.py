"""Every command of the configuration language, its defaults, stage blocks and reload rules."""

from __future__ import annotations

import pytest
from unit_helpers import HPC_CLUSTER, LOCAL_CLUSTER, Project, indent

from seamless_config import ConfigurationError, select
from seamless_config.cluster import get_cluster, get_local_cluster
from seamless_config.errors import ConfigFileError
from seamless_config.state import STATE


def clusters_block(*texts: str) -> str:
    """A ``- clusters:`` command defining the given clusters."""
    return "- clusters:\n" + "".join(indent(t, 4) for t in texts)


# ------------------------------------------------------------------ simple commands


def test_project_and_subproject(project: Project) -> None:
    project.yaml("- project: my-project\n- subproject: part/one\n")
    sel = project.load()
    assert (sel.project, sel.subproject) == ("my-project", "part/one")
    assert select.get_selected_project() == "my-project"
    assert select.get_subproject() == "part/one"


def test_no_files_at_all(project: Project) -> None:
    sel = project.load()
    assert sel.project is None and sel.cluster is None
    assert select.get_execution() == "process"
    assert select.get_persistent() is False
    assert STATE.files == ()


def test_cluster_selects_an_inline_cluster(project: Project) -> None:
    project.profile(clusters_block(LOCAL_CLUSTER) + "- cluster: local\n")
    sel = project.load()
    assert sel.cluster == "local"
    assert select.get_selected_cluster() == "local"
    clus = get_cluster("local")
    assert clus.type == "local" and clus.workers == 3
    assert clus.frontends[0].hashserver is not None
    assert clus.frontends[0].hashserver.bufferdir == "/data/buffers"


def test_cluster_null_deselects(project: Project) -> None:
    project.yaml("- cluster: a\n- cluster: null\n")
    assert project.load().cluster is None


@pytest.mark.parametrize("mode", ["process", "spawn", "remote"])
def test_execution(project: Project, mode: str) -> None:
    project.yaml(f"- execution: {mode}\n")
    sel = project.load()
    assert select.get_execution() == mode
    assert sel["execution"].source == "command"
    assert select.execution_command_seen() and select.execution_was_set_explicitly()


def test_execution_typo_suggests(project: Project) -> None:
    project.yaml("- project: p\n- execution: remtoe\n")
    with pytest.raises(ConfigFileError, match="did you mean 'remote'") as info:
        project.load()
    assert info.value.location is not None and info.value.location.line == 2


def test_execution_default_is_process_without_cluster(project: Project) -> None:
    project.yaml("- project: p\n")
    project.load()
    assert select.get_execution() == "process"
    assert not select.execution_was_set_explicitly()


def test_execution_default_is_remote_with_cluster(project: Project) -> None:
    project.yaml(clusters_block(LOCAL_CLUSTER) + "- project: p\n- cluster: local\n")
    project.load()
    assert select.get_execution() == "remote"
    assert not select.execution_command_seen()


def test_persistent_defaults(project: Project) -> None:
    project.yaml("- project: p\n")
    project.load()
    assert select.get_persistent() is False
    assert select.get_persistent("some-cluster") is True
    project.yaml(clusters_block(LOCAL_CLUSTER) + "- project: p\n- cluster: local\n")
    project.load()
    assert select.get_persistent() is True
    assert not select.persistent_was_set_explicitly()


@pytest.mark.parametrize("text, value", [("true", True), ("false", False), ("off", False), ("yes", True)])
def test_persistent(project: Project, text: str, value: bool) -> None:
    project.yaml(clusters_block(LOCAL_CLUSTER) + f"- cluster: local\n- persistent: {text}\n")
    project.load()
    assert select.get_persistent() is value
    assert select.persistent_was_set_explicitly()


@pytest.mark.parametrize("command", ["persistent", "record"])
def test_boolean_commands_refuse_strings(project: Project, command: str) -> None:
    project.yaml(f"- project: p\n- {command}: 'true'\n")
    with pytest.raises(ConfigFileError, match="true or false") as info:
        project.load()
    assert info.value.location is not None and info.value.location.line == 2


def test_record(project: Project) -> None:
    project.yaml("- record: true\n")
    project.load()
    assert select.get_record() is True
    project.yaml("- project: p\n")
    project.load()
    assert select.get_record() is False  # the command-set value is cleared on reload


@pytest.mark.parametrize("value", ["jobserver", "daskserver", "null"])
def test_remote(project: Project, value: str) -> None:
    project.yaml(f"- remote: {value}\n")
    project.load()
    assert select.get_remote() == (None if value == "null" else value)


def test_remote_typo(project: Project) -> None:
    project.yaml("- remote: jobsever\n")
    with pytest.raises(ConfigFileError, match="did you mean 'jobserver'"):
        project.load()


@pytest.mark.parametrize("node", ["node01", "gpu-[01-04]", "n1,n2"])
def test_node(project: Project, node: str) -> None:
    project.yaml(f"- node: '{node}'\n")
    project.load()
    assert select.get_node() == node


def test_node_null_and_invalid(project: Project) -> None:
    project.yaml("- node: n1\n- node: null\n")
    project.load()
    assert select.get_node() is None
    for bad in ("''", "' '", "3", "'n1; rm -rf /'", "\"n1'\""):
        project.yaml(f"- node: {bad}\n")
        with pytest.raises(ConfigFileError):
            project.load()


def test_nparallel(project: Project) -> None:
    project.yaml("- nparallel: 8\n")
    project.load()
    assert select.get_nparallel() == 8
    import seamless_config

    assert seamless_config.get_nparallel() == 8


@pytest.mark.parametrize("bad", ["0", "-1", "true", "'4'", "2.5"])
def test_nparallel_must_be_positive_int(project: Project, bad: str) -> None:
    project.yaml(f"- nparallel: {bad}\n")
    with pytest.raises(ConfigFileError, match="positive whole number"):
        project.load()


def test_nparallel_unset_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="nparallel"):
        select.get_nparallel()


def test_queue_selection(project: Project) -> None:
    project.yaml(clusters_block(HPC_CLUSTER) + "- cluster: hpc\n- queue: highmem\n")
    project.load()
    assert select.get_queue() == "highmem"
    assert select.get_queue("hpc") == "highmem"
    assert select.get_queue("other") is None


def test_queue_needs_cluster_first(project: Project) -> None:
    project.yaml(clusters_block(HPC_CLUSTER) + "- queue: highmem\n- cluster: hpc\n")
    with pytest.raises(ConfigFileError, match="select a cluster before") as info:
        project.load()
    assert info.value.location is not None and info.value.location.line == HPC_CLUSTER.count("\n") + 2


def test_queue_unknown_suggests(project: Project) -> None:
    project.yaml(clusters_block(HPC_CLUSTER) + "- cluster: hpc\n- queue: highmme\n")
    with pytest.raises(ConfigFileError, match="did you mean 'highmem'"):
        project.load()


def test_queue_on_cluster_without_queues(project: Project) -> None:
    project.yaml(clusters_block(LOCAL_CLUSTER) + "- cluster: local\n- queue: q\n")
    with pytest.raises(ConfigFileError, match="defines no queues"):
        project.load()


def test_queue_on_undefined_cluster(project: Project) -> None:
    project.yaml("- cluster: nowhere\n- queue: q\n")
    with pytest.raises(ConfigFileError, match="unknown cluster 'nowhere'"):
        project.load()


def test_changing_cluster_drops_the_queue(project: Project) -> None:
    project.yaml(clusters_block(HPC_CLUSTER, LOCAL_CLUSTER) + "- cluster: hpc\n- queue: highmem\n- cluster: local\n")
    sel = project.load()
    assert sel.queue is None and select.get_queue() is None


def test_queue_is_a_string(project: Project) -> None:
    project.yaml(clusters_block(HPC_CLUSTER) + "- cluster: hpc\n- queue: [highmem]\n")
    with pytest.raises(ConfigFileError, match="queue must be a string"):
        project.load()


@pytest.mark.parametrize("command", ["project", "subproject"])
def test_string_commands_refuse_other_types(project: Project, command: str) -> None:
    project.yaml(f"- {command}: 12\n")
    with pytest.raises(ConfigFileError, match="expects a string") as info:
        project.load()
    assert info.value.location is not None and info.value.location.line == 1


def test_bare_string_command_other_than_inherit_is_applied_with_null(project: Project) -> None:
    # ``- cluster`` alone means ``cluster: null`` (as in the reference)
    project.yaml("- cluster: a\n- cluster\n")
    assert project.load().cluster is None


# ------------------------------------------------------------------ clusters command


def test_clusters_commands_run_before_all_others(project: Project) -> None:
    project.yaml("- cluster: hpc\n- queue: highmem\n" + clusters_block(HPC_CLUSTER))
    project.load()
    assert select.get_queue() == "highmem"


def test_clusters_command_in_profile_serves_seamless_yaml(project: Project) -> None:
    project.yaml("- project: p\n- cluster: hpc\n- queue: highmem\n")
    project.profile(clusters_block(HPC_CLUSTER))
    project.load()
    assert select.get_queue() == "highmem"


def test_clusters_command_merges_with_cluster_files(project: Project) -> None:
    project.clusters_file(LOCAL_CLUSTER)
    project.clusters_file(HPC_CLUSTER, name="hpc")
    other = LOCAL_CLUSTER.replace("local:", "other:", 1).replace("workers: 3", "workers: 9")
    project.yaml(clusters_block(other) + "- cluster: other\n")
    project.load()
    assert {"local", "hpc", "other"} <= set(STATE.registry.clusters)
    assert get_cluster("other").workers == 9


def test_inline_cluster_overrides_cluster_file(project: Project) -> None:
    project.clusters_file(LOCAL_CLUSTER)
    project.yaml(clusters_block(LOCAL_CLUSTER.replace("workers: 3", "workers: 7")) + "- cluster: local\n")
    project.load()
    assert get_cluster("local").workers == 7


def test_later_clusters_command_wins(project: Project) -> None:
    project.yaml(
        clusters_block(LOCAL_CLUSTER)
        + clusters_block(LOCAL_CLUSTER.replace("workers: 3", "workers: 5"))
    )
    project.load()
    assert get_cluster("local").workers == 5


def test_clusters_must_be_a_mapping(project: Project) -> None:
    project.yaml("- project: p\n- clusters: [a, b]\n")
    with pytest.raises(ConfigFileError, match="expects a mapping") as info:
        project.load()
    assert info.value.location is not None and info.value.location.line == 2


def test_clusters_in_inactive_stage_block_are_ignored(project: Project) -> None:
    project.yaml("- stage prod:\n" + indent(clusters_block(LOCAL_CLUSTER), 4))
    project.load()
    assert "local" not in STATE.registry.clusters
    project.load(stage="prod")
    assert "local" in STATE.registry.clusters


def test_cluster_files_home(project: Project) -> None:
    project.clusters_file(LOCAL_CLUSTER + "local_cluster: local\n")
    project.clusters_file(HPC_CLUSTER, name="hpc")
    project.yaml("- cluster: hpc\n- queue: default\n")
    project.load()
    assert set(STATE.registry.clusters) == {"local", "hpc"}
    assert get_local_cluster() == "local"
    assert select.get_queue() == "default"
    assert [p.name for p in STATE.files][-2:] == ["clusters.yaml", "hpc.yaml"]


def test_cluster_dir_files_override_clusters_yaml(project: Project) -> None:
    project.clusters_file(LOCAL_CLUSTER)
    project.clusters_file(LOCAL_CLUSTER.replace("workers: 3", "workers: 11"), name="zz")
    project.load()
    assert get_cluster("local").workers == 11


def test_cluster_file_must_be_a_mapping(project: Project) -> None:
    path = project.clusters_file("- a\n- b\n")
    with pytest.raises(ConfigFileError, match="mapping of cluster names") as info:
        project.load()
    assert info.value.location is not None and info.value.location.path == str(path)


def test_empty_cluster_file_is_fine(project: Project) -> None:
    project.clusters_file("# nothing yet\n")
    project.load()
    assert dict(STATE.registry.clusters) == {}


def test_local_cluster_must_exist(project: Project) -> None:
    project.clusters_file(LOCAL_CLUSTER + "local_cluster: lcoal\n")
    with pytest.raises(ConfigFileError, match="did you mean 'local'"):
        project.load()


# ------------------------------------------------------------------ stage blocks


STAGED = """\
- project: p
- execution: process
- stage prod:
    - execution: spawn
    - subproject: prodpart
    - stage prod:
        - record: true
    - stage dev:
        - nparallel: 99
- stage dev:
    - execution: remote
"""


def test_stage_blocks_inactive_without_stage(project: Project) -> None:
    project.yaml(STAGED)
    sel = project.load()
    assert sel.execution == "process" and sel.subproject is None and sel.record is False


def test_matching_stage_block_and_nested_block(project: Project) -> None:
    project.yaml(STAGED)
    sel = project.load(stage="prod")
    assert sel.execution == "spawn"
    assert sel.subproject == "prodpart"
    assert sel.record is True  # nested block for the same stage
    assert sel.nparallel is None  # nested block for another stage never matches


def test_other_stage_block(project: Project) -> None:
    project.yaml(STAGED)
    sel = project.load(stage="dev")
    assert sel.execution == "remote" and sel.nparallel is None


def test_non_matching_stage(project: Project) -> None:
    project.yaml(STAGED)
    sel = project.load(stage="test")
    assert sel.execution == "process" and sel.record is False


def test_stage_block_position_decides_precedence(project: Project) -> None:
    project.yaml("- stage prod:\n    - execution: spawn\n- execution: process\n")
    assert project.load(stage="prod").execution == "process"


def test_stage_block_whitespace_in_key(project: Project) -> None:
    project.yaml("- stage   prod  :\n    - record: true\n")
    assert project.load(stage="prod").record is True


def test_stage_block_must_hold_a_list(project: Project) -> None:
    project.yaml("- project: p\n- stage prod:\n    execution: spawn\n")
    with pytest.raises(ConfigFileError, match="must be followed by a YAML list") as info:
        project.load()
    assert info.value.location is not None and info.value.location.line == 2


def test_stage_without_space_is_explained(project: Project) -> None:
    project.yaml("- stageprod:\n    - record: true\n")
    with pytest.raises(ConfigFileError, match="with a space"):
        project.load()


def test_typo_inside_inactive_stage_block_is_still_an_error(project: Project) -> None:
    # intended divergence: the reference only noticed typos in the active stage
    project.yaml("- project: p\n- stage prod:\n    - clsuter: c\n")
    with pytest.raises(ConfigFileError, match="did you mean 'cluster'") as info:
        project.load()
    assert info.value.location is not None
    assert (info.value.location.line, info.value.location.column) == (3, 7)


def test_stage_and_substage_selection(project: Project) -> None:
    project.yaml("- project: p\n")
    sel = project.load(stage="prod", substage="gpu")
    assert (sel.stage, sel.substage) == ("prod", "gpu")
    assert (select.get_stage(), select.get_substage()) == ("prod", "gpu")


def test_subproject_from_a_stage_block_is_sticky_like_the_reference(project: Project) -> None:
    # project/subproject/cluster are not reset on reload (reference semantics)
    project.yaml("- project: p\n- stage prod:\n    - subproject: s\n")
    project.load(stage="prod")
    assert project.load(stage=None).subproject == "s"


# ------------------------------------------------------------------ reload rules


def test_command_values_are_cleared_on_reload(project: Project) -> None:
    project.yaml(
        clusters_block(HPC_CLUSTER)
        + "- cluster: hpc\n- execution: spawn\n- queue: highmem\n- remote: daskserver\n"
        "- persistent: false\n- record: true\n- node: n1\n"
    )
    sel = project.load()
    assert (sel.execution, sel.queue, sel.remote, sel.persistent, sel.record, sel.node) == (
        "spawn", "highmem", "daskserver", False, True, "n1",
    )
    project.yaml(clusters_block(HPC_CLUSTER) + "- cluster: hpc\n")
    sel = project.load()
    assert (sel.queue, sel.remote, sel.persistent, sel.record, sel.node) == (None, None, None, False, None)
    assert select.get_execution() == "remote"  # back to the default for a selected cluster
    assert not select.execution_was_set_explicitly()
    assert select.get_persistent() is True
    assert sel.origin("cluster").kind == "file"
    for name in ("execution", "queue", "remote", "persistent", "record", "node"):
        assert sel.origin(name).kind == "default", name


def test_api_values_survive_reload(project: Project) -> None:
    project.yaml(clusters_block(HPC_CLUSTER) + "- cluster: hpc\n")
    project.load()
    select.select_execution("spawn")
    select.select_queue("highmem")
    select.select_remote("daskserver")
    select.select_persistent(False)
    select.select_record(True)
    select.select_node("n7")
    select.select_nparallel(3)
    sel = project.load()
    assert (sel.execution, sel.queue, sel.remote, sel.persistent, sel.record, sel.node, sel.nparallel) == (
        "spawn", "highmem", "daskserver", False, True, "n7", 3,
    )
    assert select.get_queue() == "highmem"
    for name in ("execution", "queue", "remote", "persistent", "record", "node"):
        assert sel.origin(name).kind == "api", name


def test_file_command_overrides_api_value_but_only_until_next_reload(project: Project) -> None:
    project.yaml("- execution: remote\n")
    select.select_execution("spawn")
    assert project.load().execution == "remote"
    project.yaml("- project: p\n")
    assert project.load().execution == "process"  # command value cleared; API value was replaced


def test_api_select_functions_validate() -> None:
    with pytest.raises(ValueError):
        select.select_execution("local")
    with pytest.raises(ValueError):
        select.select_remote("dask")
    with pytest.raises(ValueError):
        select.select_persistent("yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        select.select_nparallel(0)
    with pytest.raises(ValueError):
        select.select_queue("q")  # no cluster


def test_get_current(project: Project) -> None:
    with pytest.raises(ConfigurationError, match="No cluster"):
        select.get_current()
    select.select_cluster("c")
    with pytest.raises(ConfigurationError, match="No project"):
        select.get_current()
    select.select_project("p")
    select.select_stage("s")
    assert select.get_current() == ("c", "p", None, "s", None)
    assert select.get_current(cluster="d", subproject="x", substage="g") == ("d", "p", "x", "s", "g")


# ------------------------------------------------------------------ provenance


def test_origins_name_file_line_and_stage_block(project: Project) -> None:
    path = project.profile(clusters_block(LOCAL_CLUSTER) + "- stage prod:\n    - cluster: local\n")
    n = LOCAL_CLUSTER.count("\n") + 1
    sel = project.load(stage="prod")
    origin = sel.origin("cluster")
    assert origin.kind == "file"
    assert origin.location is not None
    assert (origin.location.path, origin.location.line, origin.location.column) == (str(path), n + 2, 7)
    assert origin.stage_block == "prod"
    assert origin.inherited_from is None
    assert str(path) in str(origin) and "stage prod" in str(origin)


def test_origins_of_api_calls(project: Project) -> None:
    project.yaml("- project: p\n")
    project.load()
    select.select_cluster("c")
    select.select_record(True)
    sel = STATE.selection
    assert sel.origin("cluster").kind == "api"
    assert sel.origin("record").kind == "api"
    assert sel.origin("stage").kind == "api"
    assert sel.origin("project").kind == "file"
    assert sel.origin("project").location is not None and sel.origin("project").location.line == 1
    assert "API" in str(sel.origin("cluster"))


def test_cluster_sources_remember_where_clusters_were_defined(project: Project) -> None:
    cfile = project.clusters_file(LOCAL_CLUSTER)
    profile = project.profile("- project: p\n" + clusters_block(HPC_CLUSTER))
    project.load()
    local = STATE.cluster_sources["local"].here.location
    hpc = STATE.cluster_sources["hpc"].here.location
    assert local is not None and (local.path, local.line, local.column) == (str(cfile), 1, 1)
    assert hpc is not None and (hpc.path, hpc.line, hpc.column) == (str(profile), 3, 5)
