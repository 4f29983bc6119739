"""OAR: the daskserver's parameters for ``type: oar`` clusters, against the reference's, and in the job script.

There is no OAR server here. Two checks instead:

1. the launch dicts (``configure_daskserver`` / ``configure_pure_daskserver``)
   equal what the reference 0.3.2 computes for the same input -- node selection
   (``-p``, ``host='<node>'``), whole nodes (``resource_spec: /nodes=1``),
   fixed cores with ``exclusive`` (less the intended divergence: no ``job_cores``,
   tests/intended_divergences.py), walltimes in several spellings,
   ``memory_per_core_property_name`` -- computed by the reference itself in its
   own venv (``launch_driver.py``);
2. those parameters go through seamless-dask's own wrapper configuration
   (``build_wrapper_configuration``, as ``seamless-dask-wrapper`` does) into
   dask-jobqueue's ``OARJob``, and the ``#OAR`` lines of the job script it would
   submit are checked.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import launch_driver
from intended_divergences import reference_as_intended
from seamless_config.core.schedulers import SCHEDULERS, OARScheduler
from seamless_config.state import STATE

HERE = Path(__file__).resolve().parent
DEFAULT_REF_PYTHON = HERE.parents[1] / ".cache" / "reference-venv" / "bin" / "python"

DASKSERVER = {"network_interface": "127.0.0.1", "port_start": 60300, "port_end": 60399}
FRONTEND = {
    "hostname": "oar-frontend.example",
    "hashserver": {"bufferdir": "/data/buffers", "network_interface": "127.0.0.1", "port_start": 60100,
                   "port_end": 60199},
    "database": {"database_dir": "/data/db", "network_interface": "127.0.0.1", "port_start": 60200,
                 "port_end": 60299},
    "daskserver": DASKSERVER,
}
BASE = {"conda": "seamless-dask", "walltime": "01:00:00", "cores": 4, "memory": "16000MB", "maximum_jobs": 5,
        "tmpdir": "/tmp", "unknown_task_duration": "1m", "target_duration": "10m", "lifetime_stagger": "4m"}
QUEUES = {
    "base": BASE,
    "whole": {"TEMPLATE": "base", "cores": None, "exclusive": True},  # whole nodes: /nodes=1
    "fixed": {"TEMPLATE": "base", "cores": 8, "exclusive": True},  # exclusive with cores: job_cores
    "long": {"TEMPLATE": "base", "walltime": "48:00:00"},
    "short": {"TEMPLATE": "base", "walltime": "0:30:00"},
    "seconds": {"TEMPLATE": "base", "walltime": 7200},
    "props": {"TEMPLATE": "base", "job_extra_directives": ["-t besteffort"], "project": "acct",
              "partition": "default"},
}
OAR = {"type": "oar", "default_queue": "base", "queues": QUEUES, "frontends": [FRONTEND]}
OAR_MEM = {**OAR, "memory_per_core_property_name": "memcore"}
CLUSTERS = {"oar": OAR, "oarmem": OAR_MEM}

CALLS = [["configure_daskserver", {}], ["configure_pure_daskserver", {}]]


def case(queue: str, *, node: str | None = None, cluster: str = "oar", **select: Any) -> dict[str, Any]:
    chosen: dict[str, Any] = {"cluster": cluster, "project": "proj", "queue": queue, **select}
    if node is not None:
        chosen["node"] = node
    return {"clusters": CLUSTERS, "select": chosen, "calls": copy.deepcopy(CALLS)}


CASES: dict[str, dict[str, Any]] = {
    "cores": case("base"),
    "node": case("base", node="node-3"),
    "node-dotted": case("base", node="gros-12.nancy.grid5000.fr"),
    "whole-nodes": case("whole"),
    "whole-nodes-on-node": case("whole", node="node-7"),
    "exclusive-fixed-cores": case("fixed"),
    "walltime-48h": case("long"),
    "walltime-short": case("short"),
    "walltime-seconds": case("seconds"),
    "extra-directives-and-node": case("props", node="node-1"),
    "memory-per-core": case("base", cluster="oarmem"),
    "memory-per-core-node": case("whole", cluster="oarmem", node="node-2", record=True),
}


def run_ours(c: dict[str, Any]) -> list[dict[str, Any]]:
    STATE.reset()
    try:
        return launch_driver.run_case(copy.deepcopy(c))
    finally:
        STATE.reset()


@pytest.fixture(scope="module")
def reference() -> dict[str, list[dict[str, Any]]]:
    python = os.environ.get("DIFF_REF_PYTHON") or str(DEFAULT_REF_PYTHON)
    if not Path(python).exists():
        pytest.skip(f"no reference interpreter at {python} (scripts/make_reference_venv.sh; or set DIFF_REF_PYTHON)")
    names = list(CASES)
    proc = subprocess.run(
        [python, str(HERE / "launch_driver.py")], input=json.dumps([CASES[n] for n in names]),
        capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("SEAMLESS_")},
    )
    if proc.returncode != 0:
        pytest.fail(f"reference driver failed:\n{proc.stderr[-3000:]}")
    return dict(zip(names, json.loads(proc.stdout)))


def params(outcome: dict[str, Any]) -> dict[str, Any]:
    assert "value" in outcome, outcome
    return dict(outcome["value"]["file_parameters"])


@pytest.mark.parametrize("name", list(CASES))
def test_oar_launch_dicts_equal_the_reference(name: str, reference: dict[str, Any]) -> None:
    ours = run_ours(CASES[name])
    ref = reference[name]
    for call, o, r in zip(CASES[name]["calls"], ours, ref):
        assert "value" in o and "value" in r, (call, o, r)
        o_value = {k: v for k, v in o["value"].items() if k != "meta"}
        assert o_value == reference_as_intended(r["value"]), call
        assert o_value["cluster_string"] == "dask_jobqueue::OARCluster"


def test_oar_parameters_in_detail() -> None:
    """The OAR-specific values themselves (what the comparison above pins)."""
    node = run_ours(CASES["node"])
    assert params(node[0])["job_extra_directives"] == ["-p", "host='node-3'"]
    assert params(node[1])["job_extra_directives"] == ["-p", "host='node-3'"]
    whole = run_ours(CASES["whole-nodes"])
    assert params(whole[0])["resource_spec"] == "/nodes=1" and params(whole[0])["exclusive"] is True
    assert "cores" not in params(whole[0]) and "job_cores" not in params(whole[0])
    assert params(whole[1])["resource_spec"] == "/nodes=1"  # the pure daskserver too
    fixed = run_ours(CASES["exclusive-fixed-cores"])
    assert params(fixed[0])["cores"] == 8 and params(fixed[0])["exclusive"] is True
    assert "job_cores" not in params(fixed[0]) and "resource_spec" not in params(fixed[0])
    props = run_ours(CASES["extra-directives-and-node"])
    assert params(props[0])["job_extra_directives"] == ["-t besteffort", "-p", "host='node-1'"]
    for name, walltime in (("cores", "01:00:00"), ("walltime-48h", "48:00:00"), ("walltime-short", "0:30:00"),
                           ("walltime-seconds", 7200)):
        assert params(run_ours(CASES[name])[0])["walltime"] == walltime  # passed on as written
    assert params(run_ours(CASES["memory-per-core"])[0])["memory_per_core_property_name"] == "memcore"
    assert isinstance(SCHEDULERS["oar"], OARScheduler)


# ------------------------------------------------------------------ what reaches the OAR job script


def oar_job_script(file_parameters: dict[str, Any]) -> str:
    """The script dask-jobqueue's OARJob would submit, with the wrapper's own translation of the parameters."""
    wrapper = pytest.importorskip("seamless_dask.wrapper")
    pytest.importorskip("dask_jobqueue")
    import dask
    from dask_jobqueue.oar import OARJob

    config = wrapper.build_wrapper_configuration(host="127.0.0.1", port_range=(62900, 62939),
                                                 parameters=file_parameters)
    import dask_jobqueue  # noqa: F401  (loads jobqueue.yaml: the defaults under what the wrapper sets)

    merged = dask.config.merge(dask.config.get("jobqueue.oar"), config.jobqueue_config["oar"])
    with dask.config.set({"jobqueue.oar": merged}):
        job = OARJob(scheduler="tcp://127.0.0.1:62900", name="dask-worker")
        return str(job.job_script())


def oar_lines(script: str) -> list[str]:
    return [line for line in script.splitlines() if line.startswith("#OAR ")]


@pytest.mark.filterwarnings("ignore:OAR Job memory reserved resources")
def test_oar_job_script_cores_walltime() -> None:
    lines = oar_lines(oar_job_script(params(run_ours(CASES["cores"])[0])))
    assert "#OAR -l /nodes=1/core=4,walltime=01:00:00" in lines, lines
    lines = oar_lines(oar_job_script(params(run_ours(CASES["walltime-48h"])[0])))
    assert "#OAR -l /nodes=1/core=4,walltime=48:00:00" in lines, lines


@pytest.mark.filterwarnings("ignore:OAR Job memory reserved resources")
def test_oar_job_script_whole_nodes_and_fixed_cores() -> None:
    lines = oar_lines(oar_job_script(params(run_ours(CASES["whole-nodes"])[0])))
    assert "#OAR -l /nodes=1,walltime=01:00:00" in lines, lines  # the whole node, no core count
    # exclusive + cores: no job_cores (0.3.2 sent job_cores = cores, which seamless-dask 0.4's
    # wrapper refuses at start-up); the wrapper itself asks for 'cores' per job.
    fixed = params(run_ours(CASES["exclusive-fixed-cores"])[0])
    assert "job_cores" not in fixed
    lines = oar_lines(oar_job_script(fixed))
    assert "#OAR -l /nodes=1/core=8,walltime=01:00:00" in lines, lines


@pytest.mark.filterwarnings("ignore:OAR Job memory reserved resources")
def test_oar_job_script_node_selection_as_the_reference_writes_it() -> None:
    """The reference's two directives become two ``#OAR`` lines; OARJob joins them back into
    ``oarsub -p host='node-3'`` at submission (its ``_submit_job`` re-splits with shlex)."""
    script = oar_job_script(params(run_ours(CASES["node"])[0]))
    lines = oar_lines(script)
    assert lines[-2:] == ["#OAR -p", "#OAR host='node-3'"], lines
    import shlex

    options = " ".join(line.removeprefix("#OAR ").strip() for line in lines)
    argv = shlex.split(options)
    assert argv[argv.index("-p") + 1] == "host=node-3", argv  # shlex drops the quotes: see docs/clusters.md#oar
    # With memory_per_core_property_name, dask-jobqueue merges the *last* '-p' directive with the
    # memory property; the reference's bare '-p' makes that line meaningless (left as 0.3.2 wrote it).
    merged = oar_lines(oar_job_script(params(run_ours(CASES["memory-per-core-node"])[0])))
    assert merged[-1] == "#OAR -p '-p AND memcore>=15259'", merged
    props = oar_lines(oar_job_script(params(run_ours(CASES["extra-directives-and-node"])[0])))
    assert "#OAR -t besteffort" in props and "#OAR -q default" in props and "#OAR --project acct" in props


def test_oar_values_stay_data() -> None:
    """A node name is checked again where it becomes a directive; nothing of it reaches a shell unquoted."""
    from seamless_config.errors import UnsafeNameError

    scheduler = SCHEDULERS["oar"]
    for bad in ("n1'; rm -rf /", "n1\n#OAR -l /nodes=99", "$(id)", "`id`", "n 1"):
        with pytest.raises(UnsafeNameError):
            scheduler.directives(run_queue(), bad, {})


def run_queue() -> Any:
    from seamless_config.core.model import Queue

    return Queue(name="q", cores=1)
