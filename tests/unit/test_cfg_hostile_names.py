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


# ------------------------------------------------------------------ queue fields (they reach the SLURM job script)

from seamless_config.core.names import (  # noqa: E402
    check_directive,
    check_duration,
    check_memory,
    check_scheduler_name,
    check_tmpdir,
)

def yaml_q(value: str) -> str:
    """*value* as a double-quoted YAML scalar, every control character escaped."""
    body = "".join("\\\\" if c == "\\" else '\\"' if c == '"' else f"\\x{ord(c):02x}" if ord(c) < 0x20 else c
                   for c in value)
    return f'"{body}"'


SLURM_QUEUE = """\
c:
  type: slurm
  frontends:
    - hostname: h
  queues:
    q:
      cores: 1
      {line}
"""


def _queue_file(project: Project, line: str) -> Path:
    return project.clusters_file(SLURM_QUEUE.replace("{line}", line))


QUEUE_FIELD_PAYLOADS = ["a\ntouch {m}", "$(touch {m})", "`touch {m}`", "a;touch {m}", "a\r#SBATCH --wrap=x",
                        "x\x00y", "{{open('{m}','w')}}"]


@pytest.mark.parametrize("field", ["partition", "project", "tmpdir", "memory", "walltime", "unknown_task_duration",
                                   "target_duration", "lifetime_stagger", "lifetime"])
def test_hostile_queue_scalars_with_file_line(project: Project, marker: Path, field: str) -> None:
    for payload in QUEUE_FIELD_PAYLOADS:
        value = payload.format(m=marker)
        path = _queue_file(project, f"{field}: {yaml_q(value)}")
        with pytest.raises(UnsafeNameError) as info:
            project.load()
        loc = info.value.location
        assert loc is not None and (loc.path, loc.line, loc.column) == (str(path), 8, 7), (field, value)
        assert field in str(info.value)


@pytest.mark.parametrize("field", ["job_extra_directives", "job-extra-directives", "job_script_prologue"])
def test_hostile_queue_lists_with_file_line(project: Project, marker: Path, field: str) -> None:
    for payload in ["a\ntouch {m}", "a\r\nb", "x\x00", "a\x1b[2J"] + (
            ["$(touch {m})", "`touch {m}`", "${{IFS}}"] if "directive" in field else []):
        value = payload.format(m=marker)
        path = _queue_file(project, f"{field}:\n        - --gres=gpu:1\n        - {yaml_q(value)}")
        with pytest.raises(UnsafeNameError) as info:
            project.load()
        loc = info.value.location
        assert loc is not None and (loc.path, loc.line) == (str(path), 10), (field, value)


def test_dask_config_keys_become_variable_names(project: Project, marker: Path) -> None:
    for field in ("extra_dask_config", "dask_resources"):
        path = _queue_file(project, f"{field}: {{{yaml_q('distributed.x$(touch ' + str(marker) + ')')}: 1}}")
        with pytest.raises(UnsafeNameError, match=f"a key of {field}") as info:
            project.load()
        assert info.value.location is not None and info.value.location.path == str(path)
    _queue_file(project, "extra_dask_config: {distributed.worker.memory.target: 0.6, "
                         "distributed.scheduler.work-stealing: false}")
    project.load()
    _queue_file(project, f"extra_dask_config: {{distributed.comm.timeouts.connect: {yaml_q('30s; x')}}}")
    project.load()  # the value is quoted by the wrapper (shlex); one line is all it must be
    _queue_file(project, f"extra_dask_config: {{distributed.x: {yaml_q('a' + chr(10) + 'b')}}}")
    with pytest.raises(UnsafeNameError, match="newline"):
        project.load()


@pytest.mark.parametrize("line", [
    'walltime: "01:00:00"', 'walltime: "1-12:00:00"', "walltime: 10m", "walltime: 3600", "walltime: 1.5h",
    "memory: 32000MB", "memory: 16 GiB", "memory: 2.5GB", "memory: 1000000", "tmpdir: /tmp", "tmpdir: $TMPDIR",
    "tmpdir: /scratch/${USER}/dask", "tmpdir: ~/tmp", "partition: gpu", "partition: gpu,batch", "project: acct-1.x",
    'job_extra_directives: ["--gres=gpu:1", "-A", "acct", "--constraint=a|b", "--mail-user=me@x.org", '
    "\"host='n1'\", \"-l walltime=1:00:00\"]",
    'job_script_prologue: ["module load cuda", "source /opt/env.sh && export X=1"]',
    "lifetime: 50m", "unknown_task_duration: 1m", "target_duration: 10m", "lifetime_stagger: 4m",
    "dask_resources: {GPU: 1, MEM: '2'}",
])
def test_ordinary_queue_values_are_accepted(project: Project, line: str) -> None:
    _queue_file(project, line)
    project.load()


def test_prologue_is_refused_in_project_files(project: Project) -> None:
    inline = indent(SLURM_QUEUE.replace("{line}", 'job_script_prologue: ["module load x"]'), 4)
    for write in (project.yaml, project.profile):
        path = write("- clusters:\n" + inline + "- project: p\n")
        with pytest.raises(UnsafeNameError, match="~/.seamless/clusters.yaml") as info:
            project.load()
        assert info.value.location is not None and info.value.location.path == str(path)
        path.unlink()
    # ... but allowed in the user's own cluster files and through define_clusters() (the caller's own code)
    _queue_file(project, 'job_script_prologue: ["module load x"]')
    project.load()
    define_clusters({"c": {"type": "slurm", "frontends": [{"hostname": "h"}],
                           "queues": {"q": {"cores": 1, "job_script_prologue": ["module load x"]}}}})


def test_other_queue_fields_inline_are_checked_too(project: Project, marker: Path) -> None:
    inline = indent(SLURM_QUEUE.replace("{line}", f"partition: {yaml_q('a' + chr(10) + 'touch ' + str(marker))}"), 4)
    path = project.yaml("- clusters:\n" + inline + "- project: p\n")
    with pytest.raises(UnsafeNameError) as info:
        project.load()
    assert info.value.location is not None and (info.value.location.path, info.value.location.line) == (str(path), 9)


def test_cluster_level_fields(project: Project) -> None:
    project.clusters_file(SLURM_QUEUE.replace("{line}", "").replace("  type: slurm\n", "  type: oar\n  "
                          "memory_per_core_property_name: \"mem;x\"\n"))
    with pytest.raises(UnsafeNameError, match="memory_per_core_property_name"):
        project.load()
    project.clusters_file(SLURM_QUEUE.replace("{line}", "").replace("  type: slurm\n", "  type: slurm\n  "
                          "default_queue: \"q'x\"\n"))
    with pytest.raises(ConfigurationError, match="default_queue"):
        project.load()


def test_queue_field_checkers() -> None:
    for bad in ("", "-p", "a b", "a;b", "a\nb", "p/q", "x" * 300):
        with pytest.raises(UnsafeNameError):
            check_scheduler_name("partition", bad)
    for bad in ("", "1:00:00; x", "10 m\n", "abc", "$(x)"):
        with pytest.raises(UnsafeNameError):
            check_duration("walltime", bad)
    for bad in ("", "32000MB;", "lots", "1 2 GB"):
        with pytest.raises(UnsafeNameError):
            check_memory("memory", bad)
    for bad in ("/tmp/$(x)", "/tmp/`x`", "-x", "/a/../b", "/a b", "${IFS}", "$IFS/x", "/tmp/${x"):
        with pytest.raises(UnsafeNameError):
            check_tmpdir("tmpdir", bad)
    for bad in ("--x=$(y)", "`y`", "a\nb", "$HOME", "é"):
        with pytest.raises(UnsafeNameError):
            check_directive("job_extra_directives item", bad)
    assert check_memory("memory", 1000) == 1000 and check_duration("walltime", 60) == 60


def test_hostile_queue_fields_through_define_clusters(marker: Path) -> None:
    for field in ("partition", "project", "tmpdir", "memory", "walltime"):
        with pytest.raises(UnsafeNameError, match=field):
            define_clusters({"c": {"type": "slurm", "frontends": [{"hostname": "h"}],
                                   "queues": {"q": {"cores": 1, field: f"a\n$(touch {marker})"}}}})
    with pytest.raises(UnsafeNameError, match="job_extra_directives"):
        define_clusters({"c": {"type": "slurm", "frontends": [{"hostname": "h"}],
                               "queues": {"q": {"cores": 1, "job_extra_directives": [f"--x\n{marker}"]}}}})


def test_counts_are_bounded(project: Project) -> None:
    for line in ("maximum_jobs: 1000000000000", "worker_threads: 0", "processes: -2", "job_cores: 100001"):
        path = _queue_file(project, line)
        with pytest.raises(ConfigurationError, match="out of range") as info:  # lower bounds: core/fields.py
            project.load()
        assert info.value.location is not None and (info.value.location.path, info.value.location.line) == (str(path), 8)
    project.clusters_file(SLURM_QUEUE.replace("{line}", "").replace("  type: slurm\n", "  type: slurm\n  workers: 100000\n"))
    with pytest.raises(UnsafeNameError, match="workers: 100000 is out of range; use a number up to 1,024"):
        project.load()
