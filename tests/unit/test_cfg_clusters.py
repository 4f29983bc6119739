"""Cluster definitions: frontends, services, queues with TEMPLATE chains, and every validation rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from unit_helpers import HPC_CLUSTER, LOCAL_CLUSTER, Project, dedent

from seamless_config.cluster import define_clusters, get_cluster, get_local_cluster, list_clusters
from seamless_config.core.clusters import ClusterSource, build_registry, parse_cluster
from seamless_config.core.model import Cluster, Queue
from seamless_config.core.yaml_io import Here, parse_yaml
from seamless_config.errors import ClusterDefinitionError


def parse(text: str, name: str | None = None) -> Cluster:
    """Parse a one-cluster YAML mapping text."""
    doc = parse_yaml(dedent(text), Path("clusters.yaml"))
    assert isinstance(doc.data, dict)
    name = name or next(iter(doc.data))
    return parse_cluster(name, ClusterSource(doc.data[name], Here(doc, (name,))))


def parse_error(text: str) -> ClusterDefinitionError:
    with pytest.raises(ClusterDefinitionError) as info:
        parse(text)
    err = info.value
    assert isinstance(err, TypeError) and isinstance(err, ValueError)
    assert err.location is not None and err.location.path == "clusters.yaml"
    return err


def at(err: ClusterDefinitionError) -> tuple[int | None, int | None]:
    assert err.location is not None
    return err.location.line, err.location.column


def slurm(queues: str, extra: str = "") -> str:
    """A slurm cluster 'c' with the given (already indented by 4) queue entries."""
    return "c:\n  type: slurm\n" + extra + "  frontends:\n    - hostname: h\n  queues:\n" + queues


# ------------------------------------------------------------------ structure


def test_spec_examples_parse() -> None:
    local = parse(LOCAL_CLUSTER)
    assert local.name == "local" and local.type == "local" and local.tunnel is False and local.workers == 3
    fe = local.frontends[0]
    assert fe.hostname == "localhost" and fe.ssh_hostname is None
    assert fe.hashserver is not None and fe.hashserver.port_start == 55100 and fe.hashserver.conda == "hashserver"
    assert fe.database is not None and fe.database.database_dir == "/data/db"
    assert fe.jobserver is not None and fe.jobserver.port_end == 55399
    assert fe.daskserver is None
    hpc = parse(HPC_CLUSTER)
    assert hpc.tunnel is True and hpc.type == "slurm" and hpc.default_queue == "default"
    assert hpc.frontends[0].ssh_hostname == "hpc-login"
    assert hpc.frontends[0].daskserver is not None
    assert hpc.queues is not None and list(hpc.queues) == ["default", "highmem"]


def test_local_frontend_may_omit_hostname() -> None:
    clus = parse("c:\n  type: local\n  frontends:\n    - hashserver: {bufferdir: /b}\n")
    assert clus.frontends[0].hostname == "localhost"


def test_other_frontends_need_hostname() -> None:
    err = parse_error("c:\n  type: slurm\n  frontends:\n    - hashserver: {bufferdir: /b}\n")
    assert "needs 'hostname'" in str(err) and at(err) == (4, 7)


def test_explicit_null_hostname_is_refused_even_for_local() -> None:
    parse_error("c:\n  type: local\n  frontends:\n    - hostname: null\n")


def test_frontend_for() -> None:
    clus = parse(
        "c:\n  type: local\n  frontends:\n    - hostname: a\n      database: {database_dir: /d}\n"
        "    - hostname: b\n      hashserver: {bufferdir: /b}\n      database: {database_dir: /d2}\n"
    )
    assert clus.frontend_for("hashserver") is clus.frontends[1]
    assert clus.frontend_for("database") is clus.frontends[0]
    db_b = clus.frontend_for("database", "b")
    assert db_b is not None and db_b.database is not None and db_b.database.database_dir == "/d2"
    assert clus.frontend_for("jobserver") is None
    assert clus.frontend_for("hashserver", "a") is None


@pytest.mark.parametrize(
    "text, fragment, line",
    [
        ("c:\n  type: local\n", "needs 'frontends'", 1),
        ("c:\n  type: local\n  frontends: {hostname: h}\n", "'frontends' must be a list", 3),
        ("c:\n  type: pbs\n  frontends: []\n", "unknown type 'pbs'", 2),
        ("c:\n  type: slrum\n  frontends: []\n", "did you mean 'slurm'", 2),
        ("c:\n  type: local\n  frontend: []\n", "did you mean 'frontends'", 3),
        ("c:\n  typ: local\n  frontends: []\n", "did you mean 'type'", 2),
        ("c:\n  type: local\n  workers: '4'\n  frontends: []\n", "'workers' must be a whole number", 3),
        ("c:\n  type: local\n  workers: 2.5\n  frontends: []\n", "'workers' must be a whole number", 3),
        ("c:\n  type: local\n  tunnel: 'yes'\n  frontends: []\n", "'tunnel' must be true or false", 3),
        ("c:\n  type: local\n  default_queue: 3\n  frontends: []\n", "'default_queue' must be a string", 3),
        ("c:\n  type: local\n  frontends:\n    - hostname: h\n      hashsever: {bufferdir: /b}\n",
         "did you mean 'hashserver'", 5),
        ("c:\n  type: local\n  frontends:\n    - hostname: h\n      hashserver: {}\n", "needs 'bufferdir'", 5),
        ("c:\n  type: local\n  frontends:\n    - hostname: h\n      hashserver: /b\n", "must be a mapping", 5),
        ("c:\n  type: local\n  frontends:\n    - hostname: h\n      database: {database_dir: /d, bufferdir: /b}\n",
         "unknown key 'bufferdir' in database", 5),
        ("c:\n  type: local\n  frontends:\n    - hostname: h\n      jobserver: {conda: j, network_interface: x}\n",
         "jobserver needs 'port_start'", 5),
        ("c:\n  type: local\n  frontends:\n    - hostname: h\n      daskserver:\n        network_interface: x\n"
         "        port_start: 1\n        port_end: 2\n        conda: e\n", "unknown key 'conda' in daskserver", 9),
        ("c:\n  type: local\n  frontends:\n    - hostname: h\n      hashserver:\n        bufferdir: /b\n"
         "        port_start: '1'\n        port_end: 2\n", "'port_start' must be a whole number", 7),
        ("c:\n  type: local\n  frontends:\n    - 'h'\n", "a frontend must be a mapping", 4),
        ("c: [1, 2]\n", "must be a mapping", 1),
    ],
)
def test_cluster_errors(text: str, fragment: str, line: int) -> None:
    err = parse_error(text)
    assert fragment in str(err)
    assert at(err)[0] == line


@pytest.mark.parametrize(
    "ports, ok, line",
    [
        ("port_start: 100\n        port_end: 200", True, 0),
        ("port_start: 100\n        port_end: 100", True, 0),
        ("", True, 0),
        ("port_start: 100", False, 5),
        ("port_end: 200", False, 5),
        ("port_start: 200\n        port_end: 100", False, 8),  # at port_end
        ("port_start: 0\n        port_end: 100", False, 7),  # at the port's own line
        ("port_start: 100\n        port_end: 70000", False, 8),
        ("port_start: null\n        port_end: 200", False, 5),
    ],
)
def test_port_range_both_or_neither(ports: str, ok: bool, line: int) -> None:
    text = "c:\n  type: local\n  frontends:\n    - hostname: h\n      hashserver:\n        bufferdir: /b\n"
    if ports:
        text += "        " + ports + "\n"
    if ok:
        fe = parse(text).frontends[0]
        assert fe.hashserver is not None
        assert (fe.hashserver.port_start is None) == (fe.hashserver.port_end is None)
    else:
        err = parse_error(text)
        assert "port" in str(err) and at(err)[0] == line


def test_registry_and_local_cluster(project: Project) -> None:
    define_clusters({
        "a": {"type": "local", "frontends": []},
        "b": {"type": "slurm", "frontends": []},
        "local_cluster": "a",
    })
    assert list_clusters() == ["a", "b"]
    assert get_local_cluster() == "a"
    assert get_cluster("b").type == "slurm"
    with pytest.raises(KeyError):
        get_cluster("zz")
    define_clusters({"c": {"frontends": []}})  # local_cluster keeps its previous value when not given
    assert list_clusters() == ["c"] and get_local_cluster() == "a"


def test_registry_errors() -> None:
    with pytest.raises(ClusterDefinitionError, match="names no defined cluster"):
        build_registry({"local_cluster": ClusterSource("x", Here(None))})
    with pytest.raises(ClusterDefinitionError, match="must name a cluster"):
        build_registry({"local_cluster": ClusterSource(3, Here(None))})


def test_cluster_values_are_frozen() -> None:
    clus = parse(HPC_CLUSTER)
    with pytest.raises(AttributeError):
        clus.workers = 5  # type: ignore[misc]


# ------------------------------------------------------------------ queues


def queues_of(text: str) -> dict[str, Queue]:
    clus = parse(text)
    assert clus.queues is not None
    return dict(clus.queues)


def test_queue_fields_and_dash_keys() -> None:
    q = queues_of(slurm(
        "    q:\n      conda: env\n      walltime: '02:00:00'\n      cores: 8\n      memory: 16000MB\n"
        "      unknown-task-duration: 1m\n      target-duration: 10m\n      lifetime-stagger: 4m\n"
        "      maximum-jobs: 10\n      job_extra_directives: ['--gres=gpu:1']\n      dask_resources: {GPU: 1}\n"
        "      extra_dask_config: {a: b}\n      job_script_prologue: [module load x]\n      partition: p\n"
        "      exclusive: false\n      interactive: true\n      worker_threads: 2\n      processes: 1\n"
    ))["q"]
    assert (q.conda, q.walltime, q.cores, q.memory) == ("env", "02:00:00", 8, "16000MB")
    assert (q.unknown_task_duration, q.target_duration, q.lifetime_stagger, q.maximum_jobs) == ("1m", "10m", "4m", 10)
    assert q.job_extra_directives == ["--gres=gpu:1"] and dict(q.dask_resources or {}) == {"GPU": 1}
    assert q.job_script_prologue == ["module load x"] and q.partition == "p"
    assert (q.exclusive, q.interactive, q.worker_threads, q.processes) == (False, True, 2, 1)
    assert q.tmpdir is None and q.lifetime is None  # unset stays None


def test_template_chain_with_overrides_and_explicit_null() -> None:
    qs = queues_of(slurm(
        "    base:\n      conda: env\n      walltime: '02:00:00'\n      cores: 8\n      memory: 16000MB\n"
        "      partition: normal\n      tmpdir: /scratch\n"
        "    mid:\n      TEMPLATE: base\n      memory: 32000MB\n      job_extra_directives: ['--gres=gpu:1']\n"
        "    leaf:\n      TEMPLATE: mid\n      cores: 2\n      partition: null\n"
    ))
    base, mid, leaf = qs["base"], qs["mid"], qs["leaf"]
    assert (mid.name, mid.conda, mid.cores, mid.memory, mid.partition) == ("mid", "env", 8, "32000MB", "normal")
    assert mid.job_extra_directives == ["--gres=gpu:1"]
    assert (leaf.name, leaf.cores, leaf.memory, leaf.partition, leaf.tmpdir) == ("leaf", 2, "32000MB", None, "/scratch")
    assert leaf.job_extra_directives == ["--gres=gpu:1"]
    assert base.memory == "16000MB" and base.job_extra_directives is None  # templates are not modified


def test_template_must_be_defined_before() -> None:
    err = parse_error(slurm("    gpu:\n      TEMPLATE: base\n      cores: 1\n    base:\n      cores: 2\n"))
    assert "TEMPLATE 'base'" in str(err) and "no queue is defined before it" in str(err)
    assert at(err) == (7, 7)


def test_template_unknown_suggests() -> None:
    err = parse_error(slurm("    base:\n      cores: 2\n    gpu:\n      TEMPLATE: bsae\n"))
    assert "did you mean 'base'" in str(err) and at(err)[0] == 9


def test_queue_unknown_key_suggests() -> None:
    err = parse_error(slurm("    q:\n      cores: 2\n      walltim: '1:00:00'\n"))
    assert "unknown key 'walltim'" in str(err) and "did you mean 'walltime'" in str(err)
    assert at(err) == (8, 7)


def test_queue_unknown_dash_key_reports_original_spelling() -> None:
    err = parse_error(slurm("    q:\n      cores: 2\n      unknown-task-durations: 1m\n"))
    assert "unknown key 'unknown-task-durations'" in str(err) and "unknown_task_duration" in str(err)


@pytest.mark.parametrize(
    "field, fragment",
    [
        ("cores: '16'", "'cores' must be a whole number"),
        ("cores: 16\n      maximum_jobs: 2.5", "'maximum_jobs' must be a whole number"),
        ("cores: 16\n      exclusive: 'no'", "'exclusive' must be true or false"),
        ("cores: 16\n      job_extra_directives: --exclusive", "must be a list of strings"),
        ("cores: 16\n      job_extra_directives: [1, 2]", "must be a list of strings"),
        ("cores: 16\n      dask_resources: [GPU]", "'dask_resources' must be a mapping"),
        ("cores: 16\n      partition: 3", "'partition' must be a string"),
        ("cores: 16\n      memory: [1]", "'memory' must be a whole number"),
        ("cores: 16\n      walltime: 1.5", "duration string"),
    ],
)
def test_queue_wrong_types(field: str, fragment: str) -> None:
    err = parse_error(slurm(f"    q:\n      {field}\n"))
    assert fragment in str(err)


def test_queue_must_be_a_mapping() -> None:
    assert "must be a mapping" in str(parse_error(slurm("    q: [1]\n")))


@pytest.mark.parametrize("field", ["walltime", "lifetime", "lifetime_stagger", "unknown_task_duration", "target_duration"])
def test_unquoted_sexagesimal_duration_tells_to_quote(field: str) -> None:
    err = parse_error(slurm(f"    q:\n      cores: 1\n      {field}: 1:00:00\n"))
    assert "quote it" in str(err) and f'{field}: "1:00:00"' in str(err) and "3600" in str(err)
    assert at(err) == (8, 7)


def test_quoted_durations_and_plain_integers_are_fine() -> None:
    q = queues_of(slurm("    q:\n      cores: 1\n      walltime: '1:00:00'\n      lifetime: 3600\n"))["q"]
    assert q.walltime == "1:00:00" and q.lifetime == 3600


def test_memory_as_number_is_kept() -> None:
    assert queues_of(slurm("    q:\n      cores: 1\n      memory: 16000\n"))["q"].memory == 16000


@pytest.mark.parametrize(
    "ctype, fields, ok",
    [
        ("slurm", "cores: 4", True),
        ("slurm", "exclusive: true", True),  # whole nodes
        ("slurm", "exclusive: true\n      cores: 4", True),
        ("slurm", "exclusive: false", False),  # no cores
        ("slurm", "job_cores: 2", False),  # no cores
        ("slurm", "exclusive: true\n      job_cores: 2", False),
        ("oar", "exclusive: true", True),
        ("oar", "memory: 1GB", False),
        ("local", "memory: 1GB", True),  # local clusters default cores to workers
        ("local", "exclusive: true", False),  # local exclusive queues need cores
        ("local", "exclusive: true\n      cores: 2", True),
        ("local", "exclusive: true\n      cores: 2\n      job_cores: 1", False),
        (None, "memory: 1GB", False),
    ],
)
def test_exclusive_job_cores_cores_rules(ctype: str | None, fields: str, ok: bool) -> None:
    type_line = f"  type: {ctype}\n" if ctype else ""
    text = f"c:\n{type_line}  frontends: []\n  queues:\n    q:\n      {fields}\n"
    if ok:
        assert "q" in queues_of(text)
    else:
        err = parse_error(text)
        assert "queue 'q'" in str(err)


def test_rules_apply_after_template_merge() -> None:
    err = parse_error(slurm("    base:\n      cores: 4\n      job_cores: 2\n    ex:\n      TEMPLATE: base\n      exclusive: true\n"))
    assert "queue 'ex'" in str(err) and "job_cores" in str(err)
    # ... and an explicit null lifts the conflict
    qs = queues_of(slurm(
        "    base:\n      cores: 4\n      job_cores: 2\n    ex:\n      TEMPLATE: base\n      exclusive: true\n"
        "      job_cores: null\n"
    ))
    assert qs["ex"].exclusive is True and qs["ex"].job_cores is None and qs["ex"].cores == 4


def test_empty_queues_is_none() -> None:
    assert parse("c:\n  type: local\n  frontends: []\n  queues: {}\n").queues is None
    assert parse("c:\n  type: local\n  frontends: []\n").queues is None


def test_define_clusters_api_validates_like_files() -> None:
    good: dict[str, Any] = {"type": "slurm", "frontends": [{"hostname": "h"}], "queues": {"q": {"cores": 1}}}
    define_clusters({"c": good})
    with pytest.raises(TypeError):
        define_clusters({"c": {**good, "queues": {"q": {"exclusive": False}}}})
    with pytest.raises(ValueError):
        define_clusters({"c": {**good, "wokers": 2}})


@pytest.mark.parametrize("value", ["[base]", "{a: 1}", "3"])
def test_template_must_be_a_name(value: str) -> None:
    err = parse_error(slurm(f"    base:\n      cores: 2\n    gpu:\n      TEMPLATE: {value}\n"))
    assert "'TEMPLATE' must be a string" in str(err) and at(err) == (9, 7)


def test_unknown_selected_cluster_is_a_configuration_error(project: Project) -> None:
    from seamless_config import ConfigurationError, select, tools

    project.clusters_file(LOCAL_CLUSTER)
    path = project.yaml("- project: p\n- cluster: lcoal\n")
    project.load()
    for call in (lambda: tools.configure_hashserver("rw"), tools.configure_daskserver,
                 tools.configure_pure_daskserver, lambda: select.check_remote_redundancy("lcoal")):
        with pytest.raises(ConfigurationError, match="Unknown cluster 'lcoal'") as info:
            call()
        assert "did you mean 'local'" in str(info.value)
        assert f"selected at {path}:2:3" in str(info.value)
    with pytest.raises(KeyError):  # get_cluster keeps the reference's KeyError
        get_cluster("lcoal")


def test_empty_conda_means_no_conda_and_is_kept_in_launch_dicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The reference's schema required 'conda' on the jobserver; users without conda wrote "".
    from seamless_config.cluster import define_clusters, get_cluster

    define_clusters({"c": {"type": "local", "workers": 1, "frontends": [{"jobserver": {
        "conda": "", "network_interface": "127.0.0.1", "port_start": 1, "port_end": 2}}]}})
    frontend = get_cluster("c").frontends[0]
    assert frontend.jobserver is not None and frontend.jobserver.conda == ""
