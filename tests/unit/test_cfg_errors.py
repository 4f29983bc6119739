"""Every error in a file names file, line and column, and is a ValueError and a ConfigurationError."""

from __future__ import annotations

import pytest
from unit_helpers import Project

import seamless_config
from seamless_config import ConfigurationError
from seamless_config.errors import ClusterDefinitionError, ConfigFileError, Location


def load_error(project: Project, **kwargs: object) -> ConfigFileError:
    with pytest.raises(ConfigFileError) as info:
        project.load(**kwargs)  # type: ignore[arg-type]
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, ConfigurationError)
    assert isinstance(err, seamless_config.ConfigurationError)
    assert isinstance(err, RuntimeError)  # the reference's base class
    assert err.location is not None
    return err


def where(err: ConfigFileError) -> tuple[str, int | None, int | None]:
    assert err.location is not None
    return err.location.path, err.location.line, err.location.column


def test_unknown_command_suggests(project: Project) -> None:
    path = project.yaml("- project: p\n- clsuter: local\n")
    err = load_error(project)
    assert where(err) == (str(path), 2, 3)
    assert "unknown command 'clsuter'" in str(err) and "did you mean 'cluster'" in str(err)
    assert str(err).startswith(f"{path}:2:3: ")


@pytest.mark.parametrize(
    "typo, suggestion",
    [("projcet", "project"), ("persistant", "persistent"), ("inherit_from_parents", "inherit_from_parent"),
     ("nparalel", "nparallel"), ("excution", "execution")],
)
def test_more_typos(project: Project, typo: str, suggestion: str) -> None:
    project.yaml(f"- {typo}: x\n")
    assert f"did you mean '{suggestion}'" in str(load_error(project))


def test_unknown_command_without_close_match_lists_valid_ones(project: Project) -> None:
    project.yaml("- frobnicate: 1\n")
    message = str(load_error(project))
    assert "valid:" in message and "cluster" in message and "project" in message


def test_bare_unknown_command(project: Project) -> None:
    path = project.profile("- project: p\n-   clustr\n")
    err = load_error(project)
    assert where(err) == (str(path), 2, 5)


def test_non_list_file_mapping(project: Project) -> None:
    path = project.yaml("project: p\ncluster: c\n")
    err = load_error(project)
    assert where(err) == (str(path), 1, 1)
    assert "expected a YAML list of commands" in str(err) and "- project:" in str(err)


def test_non_list_file_scalar(project: Project) -> None:
    project.yaml("just a string\n")
    assert "found a str" in str(load_error(project))


@pytest.mark.parametrize("text", ["", "# all commented out\n", "\n\n   \n", "---\n# nothing yet\n"])
def test_empty_or_comment_only_file_means_no_commands(project: Project, text: str) -> None:
    # The reference refused these; a user who creates the file before writing it expects "no commands".
    project.yaml("- project: p\n")
    project.profile(text)
    sel = project.load()
    assert sel.project == "p" and sel.cluster is None


def test_empty_seamless_yaml_means_no_commands(project: Project) -> None:
    project.yaml("# to do\n")
    assert project.load().project is None


@pytest.mark.parametrize("kind", ["dangling", "loop"])
def test_broken_symlink_in_the_inheritance_chain_is_reported(project: Project, kind: str) -> None:
    project.yaml("- project: p\n")
    child = project.root / "c"
    child.mkdir()
    (child / "seamless.yaml").write_text("- inherit_from_parent\n")
    link = project.root / "seamless.profile.yaml"
    if kind == "dangling":
        link.symlink_to(project.root / "gone.yaml")
    else:
        link.symlink_to(project.root / "seamless.profile.yaml")
    err = load_error(project, sub="c")
    assert err.location is not None and err.location.path == str(link)
    assert ("dangling symlink" if kind == "dangling" else "symlink loop") in str(err)
    assert "fix or remove the link" in str(err)


@pytest.mark.parametrize(
    "text, line, column, fragment",
    [
        ("- project: p\n- {project: p, cluster: c}\n", 2, 3, "mapping with 2 keys"),
        ("- project: p\n- {}\n", 2, 3, "empty mapping"),
        ("- project: p\n- 42\n", 2, 3, "int 42"),
        ("- project: p\n- [a, b]\n", 2, 3, "list"),
        ("- project: p\n- null\n", 2, 3, "NoneType"),
        ("- project: p\n- 3: x\n", 2, 3, "must be strings"),
    ],
)
def test_malformed_commands(project: Project, text: str, line: int, column: int, fragment: str) -> None:
    path = project.yaml(text)
    err = load_error(project)
    assert where(err) == (str(path), line, column)
    assert fragment in str(err)


def test_malformed_yaml_in_profile(project: Project) -> None:
    project.yaml("- project: p\n")
    path = project.profile("- cluster: local\n- execution: [remote\n")
    err = load_error(project)
    assert err.location is not None and err.location.path == str(path)
    assert err.location.line is not None and err.location.line >= 2
    assert "malformed YAML" in str(err)


def test_error_in_parent_file_names_the_parent_file(project: Project) -> None:
    parent = project.yaml("- project: p\n- stage prod:\n    - nparallel: 0\n")
    project.yaml("- inherit_from_parent\n", sub="child")
    err = load_error(project, stage="prod", sub="child")
    assert where(err) == (str(parent), 3, 7)


def test_values_in_inactive_stage_blocks_are_not_applied(project: Project) -> None:
    # command *names* are checked everywhere; values only where the command applies
    project.yaml("- stage a:\n    - stage b:\n        - execution: everywhere\n")
    project.load(stage="a")


def test_bad_value_in_nested_stage_block_when_active(project: Project) -> None:
    path = project.yaml("- stage a:\n    - stage a:\n        - execution: everywhere\n")
    err = load_error(project, stage="a")
    assert where(err) == (str(path), 3, 11)


def test_cluster_definition_error_location(project: Project) -> None:
    path = project.clusters_file(
        "c:\n  type: slurm\n  frontends:\n    - hostname: h\n      hashserver:\n        bufferdir: /b\n        prot_start: 1\n"
    )
    with pytest.raises(ClusterDefinitionError) as info:
        project.load()
    err = info.value
    assert isinstance(err, TypeError) and isinstance(err, ValueError) and isinstance(err, ConfigurationError)
    assert where(err) == (str(path), 7, 9)
    assert "did you mean 'port_start'" in str(err)


def test_set_stage_raises_the_same_errors(project: Project, no_launch: object) -> None:
    path = project.yaml("- project: p\n- clsuter: c\n")
    with pytest.raises(ValueError) as info:
        seamless_config.set_stage(workdir=project.root)
    assert isinstance(info.value, ConfigFileError)
    assert info.value.location == Location(str(path), 2, 3)
    with pytest.raises(ConfigurationError):
        seamless_config.init(workdir=project.root)


def test_location_str() -> None:
    assert str(Location("f.yaml", 3, 4)) == "f.yaml:3:4"
    assert str(Location("f.yaml", 3)) == "f.yaml:3"
    assert str(Location("f.yaml")) == "f.yaml"
    err = ConfigFileError("boom", Location("f.yaml", 1, 2))
    assert str(err) == "f.yaml:1:2: boom" and err.reason == "boom"
    assert str(ConfigFileError("plain")) == "plain"


@pytest.mark.parametrize(
    "text, line, column",
    [
        ("- project: p\n- execution: 3\n", 2, 3),
        ("- project: p\n- persistent: maybe\n", 2, 3),
        ("- project: p\n- record: 1\n", 2, 3),
        ("- project: p\n- remote: both\n", 2, 3),
        ("- project: p\n- node: [a]\n", 2, 3),
        ("- project: p\n- nparallel: many\n", 2, 3),
        ("- project: p\n- queue: q\n", 2, 3),
        ("- project: p\n- subproject: {a: 1}\n", 2, 3),
        ("- project: [p]\n", 1, 3),
        ("- project: p\n- cluster: 3\n", 2, 3),
        ("- project: p\n- stage s:\n  - execution: bad\n", 3, 5),
        ("- project: p\n- stage s:\n    - stage s:\n        - record: 2\n", 4, 11),
        ("# comment\n\n- project: p\n-    execution:    bad\n", 4, 6),
    ],
)
def test_command_value_errors_are_located(project: Project, text: str, line: int, column: int) -> None:
    path = project.profile(text)
    err = load_error(project, stage="s")
    assert where(err) == (str(path), line, column)


def test_crlf_and_bom_files_keep_line_numbers(project: Project) -> None:
    path = project.root / "seamless.yaml"
    path.write_bytes("\ufeff- project: p\r\n- record: true\r\n- clsuter: c\r\n".encode())
    err = load_error(project)
    assert where(err) == (str(path), 3, 3)
