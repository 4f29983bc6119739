"""``inherit_from_parent``: parents first, children override; which files are read, in which order."""

from __future__ import annotations

from pathlib import Path

from unit_helpers import LOCAL_CLUSTER, Project, indent

from seamless_config import select
from seamless_config.cluster import get_cluster
from seamless_config.core.discovery import discover_config_files
from seamless_config.state import STATE


def test_parent_not_read_without_inherit(project: Project) -> None:
    project.yaml("- project: parent\n- record: true\n")
    project.yaml("- subproject: child\n", sub="child")
    sel = project.load(sub="child")
    assert sel.project is None and sel.record is False and sel.subproject == "child"


def test_child_overrides_parent(project: Project) -> None:
    project.yaml("- project: parent\n- execution: spawn\n- record: true\n")
    project.yaml("- inherit_from_parent\n- execution: process\n", sub="child")
    sel = project.load(sub="child")
    assert sel.project == "parent"  # from the parent
    assert sel.record is True  # from the parent
    assert sel.execution == "process"  # child wins


def test_inherit_position_in_child_does_not_matter(project: Project) -> None:
    project.yaml("- execution: spawn\n")
    project.yaml("- execution: process\n- inherit_from_parent\n", sub="child")
    assert project.load(sub="child").execution == "process"


def test_three_level_chain(project: Project) -> None:
    project.yaml("- project: top\n- nparallel: 1\n- execution: remote\n")
    project.yaml("- inherit_from_parent\n- nparallel: 2\n- subproject: mid\n", sub="a")
    project.yaml("- inherit_from_parent\n- nparallel: 3\n", sub="a/b")
    sel = project.load(sub="a/b")
    assert (sel.project, sel.subproject, sel.nparallel, sel.execution) == ("top", "mid", 3, "remote")
    files = [p.relative_to(project.root).as_posix() for p in STATE.files]
    assert files == ["seamless.yaml", "a/seamless.yaml", "a/b/seamless.yaml"]


def test_chain_stops_where_inherit_is_missing(project: Project) -> None:
    project.yaml("- project: top\n")
    project.yaml("- subproject: mid\n", sub="a")  # no inherit: 'top' is never read
    project.yaml("- inherit_from_parent\n", sub="a/b")
    sel = project.load(sub="a/b")
    assert sel.project is None and sel.subproject == "mid"


def test_directory_without_files_ends_the_chain(project: Project) -> None:
    project.yaml("- project: top\n")
    (project.root / "a").mkdir()
    project.yaml("- inherit_from_parent\n", sub="a/b")
    assert project.load(sub="a/b").project is None


def test_file_order_parent_yaml_parent_profile_child_yaml_child_profile(project: Project) -> None:
    project.yaml("- nparallel: 1\n- record: true\n- node: parent-yaml\n- project: p\n")
    project.profile("- nparallel: 2\n- node: parent-profile\n")
    project.yaml("- inherit_from_parent\n- nparallel: 3\n", sub="c")
    project.profile("- record: false\n", sub="c")
    sel = project.load(sub="c")
    assert sel.nparallel == 3 and sel.node == "parent-profile" and sel.record is False and sel.project == "p"
    files = [p.relative_to(project.root).as_posix() for p in STATE.files]
    assert files == ["seamless.yaml", "seamless.profile.yaml", "c/seamless.yaml", "c/seamless.profile.yaml"]


def test_inherit_in_profile_alone_is_enough(project: Project) -> None:
    project.yaml("- project: parent\n")
    project.yaml("- subproject: s\n", sub="c")
    project.profile("- inherit_from_parent\n", sub="c")
    assert project.load(sub="c").project == "parent"


def test_inherit_with_an_argument_counts(project: Project) -> None:
    project.yaml("- project: parent\n")
    project.yaml("- inherit_from_parent: true\n", sub="c")
    assert project.load(sub="c").project == "parent"


def test_inherit_inside_a_stage_block_does_not_read_the_parent(project: Project) -> None:
    project.yaml("- project: parent\n")
    project.yaml("- stage prod:\n    - inherit_from_parent\n", sub="c")
    assert project.load(stage="prod", sub="c").project is None


def test_parent_clusters_are_known_to_the_child(project: Project) -> None:
    project.profile("- clusters:\n" + indent(LOCAL_CLUSTER, 4))
    project.yaml("- inherit_from_parent\n- cluster: local\n", sub="c")
    project.load(sub="c")
    assert select.get_selected_cluster() == "local"
    assert get_cluster("local").workers == 3


def test_child_clusters_override_parent_clusters_and_apply_first(project: Project) -> None:
    project.yaml("- cluster: local\n- clusters:\n" + indent(LOCAL_CLUSTER, 4))
    child = LOCAL_CLUSTER.replace("workers: 3", "workers: 8")
    project.yaml("- inherit_from_parent\n- clusters:\n" + indent(child, 4), sub="c")
    project.load(sub="c")
    assert get_cluster("local").workers == 8


def test_parent_stage_blocks_apply_with_the_stage(project: Project) -> None:
    project.yaml("- stage prod:\n    - record: true\n")
    project.yaml("- inherit_from_parent\n", sub="c")
    assert project.load(sub="c").record is False
    assert project.load(stage="prod", sub="c").record is True


def test_origin_names_the_inherited_directory(project: Project) -> None:
    parent_file = project.yaml("- project: p\n- stage prod:\n    - record: true\n")
    project.yaml("- inherit_from_parent\n- subproject: s\n", sub="c")
    sel = project.load(stage="prod", sub="c")
    origin = sel.origin("project")
    assert origin.kind == "file"
    assert origin.inherited_from == str(project.root.resolve())
    assert origin.location is not None and origin.location.path == str(parent_file)
    assert origin.location.line == 1
    record = sel.origin("record")
    assert record.inherited_from == str(project.root.resolve()) and record.stage_block == "prod"
    assert record.location is not None and record.location.line == 3
    assert "inherited from" in str(record)
    assert sel.origin("subproject").inherited_from is None


def test_discovery_is_relative_to_the_resolved_workdir(project: Project, tmp_path: Path) -> None:
    project.yaml("- project: p\n")
    project.yaml("- inherit_from_parent\n", sub="c")
    link = tmp_path / "link"
    link.symlink_to(project.root / "c")
    files = discover_config_files(link)
    assert [f.path.parent.name for f in files] == ["proj", "c"]
