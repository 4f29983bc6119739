"""Names that could become code, shell words or options are refused before anything uses them.

remote-http-launcher evaluates ``key`` and ``command`` as Python f-strings and
hostnames become ``ssh`` arguments; a YAML value must stay data. Each hostile
value is tried at each place a user can write it (files and API); the test
also checks that the payload's marker file was never created.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from unit_helpers import LOCAL_CLUSTER, Project, indent

import seamless_config
from seamless_config import ConfigurationError, select, tools
from seamless_config.cluster import define_clusters
from seamless_config.core.names import check_host, check_name, check_path, check_subproject
from seamless_config.errors import UnsafeNameError


def payloads(marker: Path) -> list[str]:
    """Hostile names; those with code would create *marker* if ever evaluated."""
    return [
        f"x{{__import__('os').system('touch {marker}')}}",
        f"{{open('{marker}', 'w')}}",
        "a'b",
        'a"b',
        f"-oProxyCommand=touch {marker}",
        f"$(touch {marker})",
        f"`touch {marker}`",
        "a b",
        "a\nb",
        "a;b",
        "../up",
        "a/b",
        "",
        "a--b",
        "xSTAGE-y",
    ]


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "a hostile name was evaluated"


def yaml_str(value: str) -> str:
    """*value* as a double-quoted YAML scalar."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# ------------------------------------------------------------------ the checkers themselves


@pytest.mark.parametrize("good", ["p", "my-project", "proj_1.2", "a+b", "_x", "__TOPLEVEL__", "X9"])
def test_good_names(good: str) -> None:
    assert check_name("project", good) == good


def test_checkers_refuse_payloads(marker: Path) -> None:
    for value in payloads(marker):
        with pytest.raises(UnsafeNameError):
            check_name("project", value)
        if value not in ("a/b",):
            with pytest.raises(UnsafeNameError):
                check_subproject(value)
    for value in payloads(marker) + ["-host", "host-", "a b", "h;x", "h'x"]:
        if value in FINE_AS_HOST:
            continue
        with pytest.raises(UnsafeNameError):
            check_host("hostname", value)


@pytest.mark.parametrize(
    "bad",
    ["/data/{x}", "/data/'x'", '/data/"x"', "/data/../etc", "../data", "/data/..", "..", "-data",
     "/data/$HOME", "/data/a b", "/data/x\n", "/data/`id`", "/data/a;b", ""],
)
def test_bad_paths(bad: str) -> None:
    with pytest.raises(UnsafeNameError):
        check_path("bufferdir", bad)


@pytest.mark.parametrize("good", ["/data/buffers", "~/seamless", "relative/dir", "/a/b.c/d-e_f@g", "/data/..x", "/x/y../z"])
def test_good_paths(good: str) -> None:
    assert check_path("bufferdir", good) == good


@pytest.mark.parametrize(
    "good", ["localhost", "login.hpc.example", "127.0.0.1", "0.0.0.0", "::", "::1", "fe80::1", "fe80::"]
)
def test_good_hosts(good: str) -> None:
    assert check_host("hostname", good) == good


def test_non_strings_are_refused() -> None:
    for value in (3, None, ["a"], {"a": 1}, True):
        with pytest.raises(UnsafeNameError, match="must be a string"):
            check_name("project", value)


def test_unsafe_name_error_is_value_and_configuration_error() -> None:
    with pytest.raises(ValueError):
        check_name("project", "a'b")
    with pytest.raises(ConfigurationError):
        check_name("project", "a'b")


# ------------------------------------------------------------------ in files


@pytest.mark.parametrize("command", ["project", "subproject", "cluster"])
def test_hostile_names_in_commands(project: Project, marker: Path, command: str, no_launch: object) -> None:
    for value in payloads(marker):
        if command == "subproject" and value == "a/b":
            continue
        project.yaml(f"- {command}: {yaml_str(value)}\n")
        with pytest.raises(ValueError) as info:
            seamless_config.set_stage(workdir=project.root)
        assert isinstance(info.value, ConfigurationError)
        assert info.value.location is not None and info.value.location.line == 1  # type: ignore[attr-defined]


def test_hostile_stage_block_names(project: Project, marker: Path) -> None:
    for value in payloads(marker):
        if "\n" in value or value.strip() != value or value == "":
            continue  # not expressible as 'stage <name>' key
        project.yaml(f"- {yaml_str('stage ' + value)}:\n    - record: true\n")
        with pytest.raises(UnsafeNameError):
            project.load()


def cluster_with(**replacements: str) -> str:
    text = LOCAL_CLUSTER
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


HOSTILE_CLUSTER_FIELDS = [
    ("local:", "{name}:"),  # cluster name
    ("hostname: localhost", "hostname: {value}"),
    ("hostname: localhost", "hostname: localhost\n      ssh_hostname: {value}"),
    ("conda: hashserver", "conda: {value}"),
    ("conda: seamless-jobserver", "conda: {value}"),
    ("bufferdir: /data/buffers", "bufferdir: {value}"),
    ("database_dir: /data/db", "database_dir: {value}"),
    ("network_interface: 127.0.0.1\n        port_start: 55100", "network_interface: {value}\n        port_start: 55100"),
]


# Payloads that are harmless (and allowed) for some kinds of value.
FINE_AS_HOST = {"a--b", "xSTAGE-y"}
FINE_AS_PATH = {"a--b", "xSTAGE-y", "a/b"}


@pytest.mark.parametrize("old, new", HOSTILE_CLUSTER_FIELDS)
def test_hostile_values_in_cluster_definitions(project: Project, marker: Path, old: str, new: str) -> None:
    values = payloads(marker) + ["/data/{x}", "/data/'q'", "/data/../etc", "../etc", "-x"]
    for value in values:
        if ("bufferdir" in old or "database_dir" in old) and value in FINE_AS_PATH:
            continue
        if ("hostname" in old or "network_interface" in old) and value in FINE_AS_HOST:
            continue
        if "conda" in old and value == "":
            continue  # conda: "" means "no conda" (what the reference's schema made users write)
        text = LOCAL_CLUSTER.replace(old, new.format(name=yaml_str(value), value=yaml_str(value)), 1)
        path = project.clusters_file(text)
        with pytest.raises(UnsafeNameError) as info:
            project.load()
        loc = info.value.location
        assert loc is not None and loc.path == str(path) and loc.line is not None, value


def test_hostile_queue_and_queue_conda(project: Project, marker: Path) -> None:
    for value in payloads(marker):
        for queue_name, conda in ((yaml_str(value), "env"), ("q", yaml_str(value))):
            if value == "" and queue_name == "q":
                continue  # conda: "" means "no conda"
            text = (
                "c:\n  type: slurm\n  frontends:\n    - hostname: h\n"
                f"  queues:\n    {queue_name}:\n      conda: {conda}\n      cores: 1\n"
            )
            project.clusters_file(text)
            with pytest.raises(UnsafeNameError):
                project.load()


def test_hostile_hostname_in_inline_clusters_command(project: Project, marker: Path) -> None:
    text = cluster_with(**{"hostname: localhost": f"hostname: {yaml_str('-oProxyCommand=touch ' + str(marker))}"})
    project.profile("- clusters:\n" + indent(text, 4) + "- cluster: local\n")
    with pytest.raises(UnsafeNameError) as info:
        project.load()
    assert info.value.location is not None
    assert (info.value.location.line, info.value.location.column) == (7, 11)


# ------------------------------------------------------------------ through the API


def test_hostile_names_through_select_api(marker: Path) -> None:
    for value in payloads(marker):
        for function in (select.select_project, select.select_cluster, select.select_stage, select.select_substage):
            with pytest.raises(ValueError):
                function(value)
        if value != "a/b":
            with pytest.raises(ValueError):
                select.select_subproject(value)


def test_hostile_stage_through_set_stage(project: Project, marker: Path, no_launch: object) -> None:
    project.yaml("- project: p\n")
    for value in payloads(marker):
        with pytest.raises(ValueError):
            seamless_config.set_stage(value, workdir=project.root)
        with pytest.raises(ValueError):
            seamless_config.set_stage("ok", value, workdir=project.root)


def test_hostile_names_through_define_clusters(marker: Path) -> None:
    for value in payloads(marker):
        with pytest.raises(ValueError):
            define_clusters({value: {"type": "local", "frontends": [{"hashserver": {"bufferdir": "/b"}}]}})
        if value not in FINE_AS_HOST:
            with pytest.raises(ValueError):
                define_clusters({"c": {"type": "local", "frontends": [{"hostname": value}]}})
        if value not in FINE_AS_PATH:
            with pytest.raises(ValueError):
                define_clusters({"c": {"type": "local", "frontends": [{"hashserver": {"bufferdir": value}}]}})


def test_hostile_overrides_of_configure_functions(marker: Path) -> None:
    define_clusters({"c": {"type": "local", "frontends": [{"hostname": "h", "hashserver": {"bufferdir": "/b"},
                                                           "database": {"database_dir": "/d"}}]}})
    select.select_cluster("c")
    select.select_project("p")
    for value in payloads(marker):
        for kwargs in ({"project": value}, {"stage": value}, {"subproject": value} if value != "a/b" else {"stage": value}):
            if value == "" and "project" not in kwargs:
                continue  # '' means "not set" for subproject/stage (reference semantics)
            with pytest.raises(ValueError):
                tools.configure_hashserver("rw", **kwargs)
            with pytest.raises(ValueError):
                tools.configure_database("ro", **kwargs)


@pytest.mark.parametrize("bad", ["node_7", "-oProxyCommand=x", "a..b", "host-", "x" * 64 + ".org"])
def test_hosts_remote_http_launcher_would_refuse(bad: str) -> None:
    # The launcher applies RFC 1123 labels; refusing here gives the file position instead of a launch failure.
    with pytest.raises(UnsafeNameError):
        check_host("ssh_hostname", bad)
