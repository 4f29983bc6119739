"""Seeded random mutations: bad input only ever raises ConfigurationError (never KeyError, TypeError, ...)."""

from __future__ import annotations

import copy
import random
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from test_cfg_launch import CLUSTERS
from unit_helpers import HPC_CLUSTER, LOCAL_CLUSTER, Project

from seamless_config import ConfigurationError, select, tools
from seamless_config.cluster import define_clusters
from seamless_config.core.resolved import check_requirements
from seamless_config.state import STATE

WEIRD: list[Any] = [None, True, False, 0, -1, 3, 2.5, "", "x", "a b", [], ["x"], [1], {}, {"a": 1},
                    {"hostname": "h"}, "1:00:00", 10**9]


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(obj, dict):
        items: Any = obj.items()
    elif isinstance(obj, list):
        items = enumerate(obj)
    else:
        return
    for key, value in items:
        yield prefix + (key,)
        yield from _paths(value, prefix + (key,))


def _configure_everything() -> None:
    for name in ("local", "hpc", "oar", "localdask", "bare", "missing"):
        select.select_cluster(name)
        select.select_project("p")
        for call in (lambda: tools.configure_hashserver("rw"), lambda: tools.configure_database("ro"),
                     tools.configure_daskserver, tools.configure_pure_daskserver,
                     lambda: select.check_remote_redundancy(name)):
            try:
                call()
            except ConfigurationError:
                pass


def test_mutated_cluster_definitions() -> None:
    rng = random.Random(1)
    paths = list(_paths(CLUSTERS))
    for _ in range(400):
        clusters = copy.deepcopy(CLUSTERS)
        path = rng.choice(paths)
        parent: Any = clusters
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.2:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(WEIRD))
        STATE.reset()
        try:
            define_clusters(clusters)
            _configure_everything()
        except ConfigurationError:
            pass
        except Exception as exc:  # pragma: no cover - the failure report
            pytest.fail(f"{type(exc).__name__}: {exc} after setting {path} in the cluster definitions")


VALUES = ["null", "yes", "no", "1", "0", "-3", "2.5", "''", "x", "local", "hpc", "highmem", "default", "remote",
          "spawn", "process", "daskserver", "jobserver", "[a]", "{a: 1}", "1:00", "'a b'", "~", "n[1-2]"]
COMMANDS = ["project", "subproject", "cluster", "execution", "queue", "remote", "persistent", "clusters", "record",
            "node", "nparallel", "inherit_from_parent"]


def test_random_command_files(project: Project) -> None:
    rng = random.Random(2)
    clusters = "- clusters:\n" + textwrap.indent(LOCAL_CLUSTER + HPC_CLUSTER, "    ")
    for _ in range(120):
        lines = [clusters] if rng.random() < 0.8 else []
        for _ in range(rng.randint(1, 6)):
            command = rng.choice(COMMANDS)
            roll = rng.random()
            if roll < 0.15:
                lines.append(f"- {command}\n")
            elif roll < 0.3:
                lines.append(f"- stage {rng.choice('ab')}:\n    - {command}: {rng.choice(VALUES)}\n")
            else:
                lines.append(f"- {command}: {rng.choice(VALUES)}\n")
        text = "".join(lines)
        project.yaml(text)
        STATE.reset()
        try:
            project.load(stage=rng.choice([None, "a", "b"]))
            check_requirements(STATE.selection)
            snap = STATE.snapshot()
            snap.remote_target()
            _ = (snap.queue, snap.persistent, snap.execution, snap.cluster)
            _configure_everything()
        except ConfigurationError:
            pass
        except Exception as exc:  # pragma: no cover - the failure report
            pytest.fail(f"{type(exc).__name__}: {exc} for\n{text}")


# ------------------------------------------------------------------ bounded reads (docs/security.md)

from pathlib import Path  # noqa: E402

from seamless_config.core import yaml_io  # noqa: E402
from seamless_config.core.yaml_io import load_yaml_file, parse_yaml  # noqa: E402
from seamless_config.errors import ConfigFileError  # noqa: E402


def _err(text: str) -> ConfigFileError:
    with pytest.raises(ConfigFileError) as info:
        parse_yaml(text, Path("f.yaml"))
    return info.value


def _line_col(err: ConfigFileError) -> tuple[int | None, int | None]:
    assert err.location is not None
    return err.location.line, err.location.column


def test_alias_bomb_is_refused_by_the_value_limit() -> None:
    text = "a: &a [" + ", ".join(["x"] * 9) + "]\n"
    for i in range(1, 9):
        name, prev = chr(97 + i), chr(96 + i)
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
    err = _err(text)
    assert f"{yaml_io.MAX_VALUES:,} values" in str(err) and "alias" in str(err)


def test_too_many_values_without_aliases() -> None:
    err = _err("a: [" + "1, " * (yaml_io.MAX_VALUES + 5) + "]\n")
    assert "values" in str(err) and "fixed limit" in str(err)


@pytest.mark.parametrize("text", ["a: " + "[" * 10_000 + "]" * 10_000 + "\n", "- " * 10_000 + "x\n",
                                  "a: " + "{b: " * 10_000 + "\n",
                                  "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "x: 1\n"])
def test_deep_nesting_is_a_clear_error_not_recursion(text: str) -> None:
    err = _err(text)
    assert f"deeper than {yaml_io.MAX_DEPTH} levels" in str(err)
    assert _line_col(err)[0] is not None


def test_nesting_at_the_limit_is_fine() -> None:
    depth = yaml_io.MAX_DEPTH - 1
    assert parse_yaml("a: " + "[" * depth + "]" * depth + "\n", Path("f")).data is not None


def test_deep_nesting_through_aliases() -> None:
    half = yaml_io.MAX_DEPTH - 2
    text = "a: &a " + "[" * half + "]" * half + "\nb: " + "[" * half + "*a" + "]" * half + "\n"
    err = _err(text)
    assert "deeper" in str(err)


def test_size_limit_and_how_to_raise_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "seamless.yaml"
    path.write_text("- project: p\n# " + "x" * (yaml_io.DEFAULT_MAX_FILE_SIZE + 10) + "\n")
    with pytest.raises(ConfigFileError) as info:
        load_yaml_file(path)
    assert yaml_io.SIZE_ENV in str(info.value) and "limit" in str(info.value) and str(path) in str(info.value)
    monkeypatch.setenv(yaml_io.SIZE_ENV, str(4 * yaml_io.DEFAULT_MAX_FILE_SIZE))
    assert load_yaml_file(path).data == [{"project": "p"}]
    monkeypatch.setenv(yaml_io.SIZE_ENV, "100")
    with pytest.raises(ConfigFileError, match="100-byte limit"):
        load_yaml_file(path)
    monkeypatch.setenv(yaml_io.SIZE_ENV, "big")
    with pytest.raises(ConfigFileError, match="whole number of bytes"):
        load_yaml_file(path)


def test_one_megabyte_comment_line_parses(tmp_path: Path) -> None:
    path = tmp_path / "seamless.yaml"
    path.write_text("- project: p\n# " + "x" * 1_000_000 + "\n")
    assert load_yaml_file(path).data == [{"project": "p"}]


def test_comments_are_skipped_not_collected() -> None:
    # The cause of the quadratic 1 MB comment line: ruamel's round-trip scanner builds each comment
    # with one string concatenation per character (quadratic whenever the allocator has to copy).
    # The safe scanner skips comments; the composed nodes carry none.
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    node = yaml.compose("- a # c\n# d\n")
    assert all(getattr(n, "comment", None) in (None, [None, None], []) for n in node.value)


@pytest.mark.parametrize("char, name", [("\x00", "NUL"), ("\x07", "BEL"), ("\x1b", "ESC"), ("\x7f", "DEL")])
def test_control_characters_at_line_and_column(char: str, name: str) -> None:
    err = _err(f"- project: p\n- cluster: ab{char}c\n")
    assert _line_col(err) == (2, 14) and name in str(err)


def test_non_utf8_at_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "seamless.yaml"
    path.write_bytes("- project: p\n- cluster: é\xff\n".encode("latin-1").replace(b"\xe9", "é".encode()))
    with pytest.raises(ConfigFileError, match="UTF-8") as info:
        load_yaml_file(path)
    assert _line_col(info.value) == (2, 13) and "0xFF" in str(info.value)


@pytest.mark.parametrize("text, line, column, what", [
    ('- project: p\n- cluster: "abc\n- x: 1\n- y: 2\n', 2, 12, "quoted string"),
    ("- project: p\n- cluster: 'abc\n", 2, 12, "quoted string"),
    ("- project: p\n- cluster: [a, b\n- x: 1\n", 2, 12, "'['"),
    ("- clusters: {a: 1,\n  b: 2\n- x: 1\n", 1, 13, "'{'"),
])
def test_unclosed_quote_or_bracket_where_it_opens(text: str, line: int, column: int, what: str) -> None:
    err = _err(text)
    assert _line_col(err) == (line, column) and what in str(err) and "never closed" in str(err)


def test_duplicate_key_in_a_cluster_file(project: Project) -> None:
    path = project.clusters_file(LOCAL_CLUSTER.replace("  workers: 3\n", "  workers: 3\n  workers: 4\n"))
    with pytest.raises(ConfigFileError, match="duplicate key 'workers' .first at line 4.") as info:
        project.load()
    assert info.value.location is not None and (info.value.location.path, info.value.location.line) == (str(path), 5)


def test_symlink_loop_and_fifo_are_reported(project: Project) -> None:
    import os

    os.symlink(project.root / "seamless.yaml", project.root / "seamless.yaml")
    with pytest.raises(ConfigFileError, match="symlink loop"):
        project.load()
    os.unlink(project.root / "seamless.yaml")
    os.mkfifo(project.root / "seamless.profile.yaml")
    with pytest.raises(ConfigFileError, match="regular file"):
        project.load()


def test_python_tags_on_collections_are_refused() -> None:
    err = _err("- project: !!python/object/apply:os.system ['true']\n")
    assert "tag" in str(err) and _line_col(err) == (1, 12)


# ------------------------------------------------------------------ unexpected exceptions and silence


@pytest.mark.parametrize("bad", ["notadict", 3, None, ["a"], ("a", 1)])
def test_define_clusters_needs_a_mapping(bad: Any) -> None:
    from seamless_config.errors import ClusterDefinitionError

    with pytest.raises(ClusterDefinitionError, match="define_clusters.. expects a mapping"):
        define_clusters(bad)


def test_long_stage_names_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="too long: at most 64 characters"):
        select.select_stage("s" * 100_000)
    with pytest.raises(ConfigurationError) as info:
        select.select_project("p" * 100_000)
    assert len(str(info.value)) < 300


def test_seamless_init_long_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from seamless_config.cli import init

    (tmp_path / "seamless.yaml").write_text("- project: p\n")
    monkeypatch.chdir(tmp_path)
    assert init.run("s" * 100_000, as_json=False, timeout=5, quiet=True) == init.EXIT_CONFIG
    err = capsys.readouterr().err
    assert "too long" in err and "Traceback" not in err


@pytest.mark.parametrize("raw", ['{"database": 3', "[1]", '{"buffer": [{"url": 5}]}', '{"oops": []}', "[" * 50_000])
def test_malformed_remote_clients_are_logged(raw: str, monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    from seamless_config.extern_clients import parse_env_clients, set_remote_clients_from_env

    monkeypatch.setenv("SEAMLESS_REMOTE_CLIENTS", raw)
    assert parse_env_clients(raw)[0] is None
    with caplog.at_level("WARNING", logger="seamless_config"):
        assert set_remote_clients_from_env(include_dask=False) is True
    assert any("SEAMLESS_REMOTE_CLIENTS is malformed" in r.getMessage() for r in caplog.records)
    assert not STATE.remote_clients_set


def test_well_formed_remote_clients_parse() -> None:
    from seamless_config.extern_clients import parse_env_clients

    raw = '{"database": [{"readonly": true, "url": "http://h:1"}], "buffer": [{"readonly": false, "directory": "/b"}]}'
    assert parse_env_clients(raw)[0] is not None
