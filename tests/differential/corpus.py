"""Deterministic corpus of configuration cases for the differential test.

``generate(root, seed)`` writes one small directory tree per case under *root*
and returns the list of case dicts the driver reads:

    id, description, root, home, workdir, env, stage, substage,
    api ("init" | "set_stage"), paths (subset of ["high", "low"], see driver.py),
    cluster_names, files {relpath: text}

Each case tree looks like::

    <root>/<id>/home/.seamless/clusters.yaml         (optional)
    <root>/<id>/home/.seamless/clusters/*.yaml       (optional)
    <root>/<id>/proj[/l2[/l3]]/seamless[.profile].yaml
    <root>/<id>/elsewhere/                           (the driver's cwd)

There are two families: hand-written targeted cases (spec examples, each
command, YAML 1.1 scalars, common mistakes) and seeded random combinations.
Names are ordinary safe names; a few the reference rejects (``--``, ``/``,
``STAGE-``) are included on purpose.

Run as a script to inspect: ``python corpus.py OUTDIR`` writes OUTDIR/cases.json.
"""

from __future__ import annotations

import json
import random
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

DEFAULT_SEED = 20261124
N_RANDOM = 260

# ------------------------------------------------------------------ YAML text


class Raw(str):
    """A scalar written verbatim (YAML 1.1 spellings such as yes/on/1:00:00)."""


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_. \-]*[A-Za-z0-9_.\-]$|^[A-Za-z_]$")
_SPECIAL = {
    "yes", "no", "true", "false", "on", "off", "null", "y", "n", "nan", "inf",
}


def scalar(v: Any, key: bool = False) -> str:
    if isinstance(v, Raw):
        return str(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        pattern = _PLAIN_KEY if key else _PLAIN
        if pattern.match(v) and v.lower() not in _SPECIAL:
            return v
        return json.dumps(v)
    raise TypeError(type(v))


def _is_scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list))


def emit(v: Any, indent: int = 0) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(v, dict):
        if not v:
            return [pad + "{}"]
        for k, val in v.items():
            ks = scalar(k, key=True)
            if _is_scalar(val):
                lines.append(f"{pad}{ks}: {scalar(val)}")
            elif not val:
                lines.append(f"{pad}{ks}: {'{}' if isinstance(val, dict) else '[]'}")
            else:
                lines.append(f"{pad}{ks}:")
                lines.extend(emit(val, indent + 2))
        return lines
    if isinstance(v, list):
        if not v:
            return [pad + "[]"]
        for item in v:
            if _is_scalar(item):
                lines.append(f"{pad}- {scalar(item)}")
            elif isinstance(item, dict) and item:
                sub = emit(item, indent + 2)
                sub[0] = pad + "- " + sub[0][indent + 2 :]
                lines.extend(sub)
            else:
                lines.append(f"{pad}- {json.dumps(item)}")
        return lines
    return [pad + scalar(v)]


def dump(v: Any) -> str:
    return "\n".join(emit(v)) + "\n"


# -------------------------------------------------------------- case builder


def _case(
    description: str,
    files: dict[str, str],
    *,
    workdir: str = "proj",
    stage: str | None = None,
    substage: str | None = None,
    api: str | None = None,
    env: dict[str, str] | None = None,
    cluster_names: list[str] | None = None,
) -> dict[str, Any]:
    if api is None:
        api = "set_stage" if (stage is not None or substage is not None) else "init"
    if cluster_names is None:
        cluster_names = _guess_cluster_names(files)
    return {
        "description": description,
        "files": {k: str(v).lstrip("\n") for k, v in files.items()},
        "workdir_rel": workdir,
        "stage": stage,
        "substage": substage,
        "api": api,
        "env": dict(env or {}),
        "cluster_names": cluster_names,
    }


def _guess_cluster_names(files: dict[str, str]) -> list[str]:
    """Top-level keys of HOME cluster files (good enough for targeted cases)."""
    names: list[str] = []
    for rel, text in files.items():
        if not rel.startswith("home/.seamless/"):
            continue
        for line in textwrap.dedent(text).splitlines():
            m = re.match(r"^([A-Za-z0-9_.\-]+):\s*$", line)
            if m and m.group(1) != "local_cluster" and m.group(1) not in names:
                names.append(m.group(1))
    return names


H = "home/.seamless/clusters.yaml"
P = "proj/seamless.yaml"
PP = "proj/seamless.profile.yaml"

LOCAL_HDB = """
local:
  type: local
  tunnel: false
  workers: 3
  frontends:
    - hashserver:
        bufferdir: /data/buffers
        conda: hashserver
        network_interface: 127.0.0.1
        port_start: 55100
        port_end: 55199
      database:
        database_dir: /data/db
        conda: seamless-database
        network_interface: 127.0.0.1
        port_start: 55200
        port_end: 55299
"""

LOCAL_JOB = LOCAL_HDB + """\
      jobserver:
        conda: seamless-jobserver
        network_interface: 127.0.0.1
        port_start: 55300
        port_end: 55399
"""

MYCLUSTER = """
mycluster:
  tunnel: true
  type: slurm
  workers: 4
  frontends:
    - hostname: login.mycluster.example
      ssh_hostname: login-ssh.mycluster.example
      hashserver:
        bufferdir: /scratch/seamless/buffers
        conda: hashserver
        network_interface: 0.0.0.0
        port_start: 60100
        port_end: 60199
      database:
        database_dir: /scratch/seamless/db
        conda: seamless-database
        network_interface: 0.0.0.0
        port_start: 60200
        port_end: 60299
      daskserver:
        network_interface: 0.0.0.0
        port_start: 60300
        port_end: 60399
  default_queue: default
  queues:
    default:
      conda: seamless-dask
      walltime: "01:00:00"
      cores: 16
      memory: 32000MB
      tmpdir: /tmp
      maximum_jobs: 20
      unknown_task_duration: 1m
      target_duration: 10m
      lifetime_stagger: 4m
    highmem:
      TEMPLATE: default
      cores: 4
      memory: 128000MB
"""


def _dask_cluster(name: str, ctype: str | None, queue_yaml: str, extra: str = "",
                  default_queue: str | None = "q") -> str:
    t = f"  type: {ctype}\n" if ctype is not None else ""
    dq = f"  default_queue: {default_queue}\n" if default_queue else ""
    return (
        f"{name}:\n{t}  workers: 2\n{extra}  frontends:\n"
        "    - hostname: front.example\n"
        "      hashserver:\n        bufferdir: /b\n"
        "      database:\n        database_dir: /d\n"
        "      daskserver:\n        network_interface: 0.0.0.0\n"
        "        port_start: 61000\n        port_end: 61099\n"
        f"{dq}  queues:\n" + textwrap.indent(textwrap.dedent(queue_yaml).strip("\n"), "    ") + "\n"
    )


BASE_Q = """
q:
  conda: dask-env
  walltime: "02:00:00"
  memory: 16GB
  unknown_task_duration: 1m
  target_duration: 10m
  maximum_jobs: 5
  cores: 8
"""


def D(text: str) -> str:
    """Dedent an indented triple-quoted snippet."""
    return textwrap.dedent(text).lstrip("\n")


def targeted_cases() -> list[dict[str, Any]]:
    c: list[dict[str, Any]] = []
    add = c.append
    proj = "- project: myproj\n"

    # --- basics -----------------------------------------------------------
    add(_case("no configuration files at all", {}))
    add(_case("empty-list seamless.yaml", {P: "[]\n"}))
    add(_case("project only", {P: proj}))
    add(_case("project only via set_stage(None)", {P: proj}, api="set_stage"))
    add(_case("project + subproject", {P: proj + "- subproject: sub1\n"}))
    add(_case("subproject with '/' (allowed for subproject)",
              {P: proj + "- subproject: a/b\n- cluster: local\n", H: LOCAL_HDB}))
    add(_case("HOME cluster, local, hashserver+database, default execution",
              {H: LOCAL_HDB, P: proj + "- cluster: local\n"}))
    add(_case("HOME cluster, execution process",
              {H: LOCAL_HDB, P: proj + "- cluster: local\n- execution: process\n"}))
    add(_case("HOME cluster, execution remote, jobserver",
              {H: LOCAL_JOB, P: proj + "- cluster: local\n- execution: remote\n"}))
    add(_case("HOME cluster, jobserver, record true",
              {H: LOCAL_JOB, P: proj + "- cluster: local\n- execution: remote\n- record: true\n"}))
    add(_case("spec example: inline local cluster with jobserver + stage prod (default stage)",
              {P: proj, PP: "- clusters:\n" + textwrap.indent(textwrap.dedent(LOCAL_JOB), "    ")
               + "- cluster: local\n- stage prod:\n    - cluster: mycluster\n    - execution: remote\n    - remote: daskserver\n",
               H: MYCLUSTER}))
    add(_case("spec example: inline local cluster + stage prod selected",
              {P: proj, PP: "- clusters:\n" + textwrap.indent(textwrap.dedent(LOCAL_JOB), "    ")
               + "- cluster: local\n- stage prod:\n    - cluster: mycluster\n    - execution: remote\n    - remote: daskserver\n",
               H: MYCLUSTER}, stage="prod"))
    add(_case("spec example: stage prod + substage gpu",
              {P: proj, PP: "- cluster: local\n- stage prod:\n    - cluster: mycluster\n    - remote: daskserver\n",
               H: LOCAL_JOB + MYCLUSTER}, stage="prod", substage="gpu"))
    add(_case("spec clusters.yaml example (slurm, daskserver, TEMPLATE highmem)",
              {H: MYCLUSTER, P: proj + "- cluster: mycluster\n"}))
    add(_case("select queue highmem",
              {H: MYCLUSTER, P: proj + "- cluster: mycluster\n- queue: highmem\n"}))
    add(_case("spec queue-template example (base, gpu with directives and resources)",
              {H: _dask_cluster("gpuclus", "slurm", """
                   base:
                     conda: seamless-dask
                     walltime: "02:00:00"
                     cores: 8
                     memory: 16000MB
                     maximum_jobs: 10
                     tmpdir: /tmp
                     unknown_task_duration: 1m
                     target_duration: 10m
                   gpu:
                     TEMPLATE: base
                     memory: 32000MB
                     job_extra_directives: ["--gres=gpu:1"]
                     dask_resources: {GPU: 1}
                   """, default_queue="base"),
               P: proj + "- cluster: gpuclus\n- queue: gpu\n"}))
    add(_case("subproject + stage + substage in launch dicts",
              {H: LOCAL_JOB, P: proj + "- subproject: sp\n- cluster: local\n- execution: remote\n"},
              stage="build", substage="cpu"))
    add(_case("set_stage with substage only (stage None)",
              {H: LOCAL_JOB, P: proj + "- cluster: local\n"}, substage="cpu", api="set_stage"))

    # --- execution / persistence -----------------------------------------
    spawn_h = LOCAL_HDB + "local_cluster: local\n"
    add(_case("execution spawn with local_cluster and workers",
              {H: spawn_h, P: proj + "- cluster: local\n- execution: spawn\n"}))
    add(_case("execution spawn without any cluster but local_cluster defined",
              {H: spawn_h, P: proj + "- execution: spawn\n"}))
    add(_case("execution spawn without local_cluster",
              {H: LOCAL_HDB, P: proj + "- cluster: local\n- execution: spawn\n"}))
    add(_case("execution spawn, no cluster at all", {P: proj + "- execution: spawn\n"}))
    add(_case("execution process, no cluster", {P: proj + "- execution: process\n"}))
    add(_case("execution remote without cluster", {P: proj + "- execution: remote\n"}))
    add(_case("persistent true without cluster", {P: proj + "- persistent: true\n"}))
    add(_case("persistent false without cluster", {P: proj + "- persistent: false\n"}))
    add(_case("persistent false + process + cluster",
              {H: LOCAL_HDB, P: proj + "- cluster: local\n- execution: process\n- persistent: false\n"}))
    add(_case("pure dask: persistent false + remote + daskserver",
              {H: MYCLUSTER, P: proj + "- cluster: mycluster\n- execution: remote\n- persistent: false\n"}))
    add(_case("pure dask requested with jobserver cluster",
              {H: LOCAL_JOB, P: proj + "- cluster: local\n- execution: remote\n- persistent: false\n"}))
    add(_case("pure dask with explicit remote: daskserver on jobserver-only cluster",
              {H: LOCAL_JOB, P: proj + "- cluster: local\n- remote: daskserver\n- persistent: false\n"}))
    add(_case("persistent false on cluster without remote services",
              {H: LOCAL_HDB, P: proj + "- cluster: local\n- persistent: false\n"}))
    add(_case("remote: jobserver without cluster", {P: proj + "- remote: jobserver\n"}))
    add(_case("remote: null", {H: LOCAL_JOB, P: proj + "- cluster: local\n- remote: null\n"}))
    add(_case("cluster: null after cluster",
              {H: LOCAL_JOB, P: proj + "- cluster: local\n- cluster: null\n"}))
    both_fe = LOCAL_JOB + "      daskserver:\n        network_interface: 0.0.0.0\n        port_start: 1\n        port_end: 2\n"
    add(_case("jobserver and daskserver on one frontend, no remote:",
              {H: both_fe, P: proj + "- cluster: local\n"}))
    add(_case("jobserver and daskserver on one frontend, remote: jobserver",
              {H: both_fe, P: proj + "- cluster: local\n- remote: jobserver\n"}))
    add(_case("jobserver and daskserver on one frontend, remote: daskserver",
              {H: both_fe.replace("  workers: 3\n", "  workers: 3\n  default_queue: q\n  queues:\n"
                                  + textwrap.indent(textwrap.dedent(BASE_Q).strip("\n"), "    ") + "\n"),
               P: proj + "- cluster: local\n- remote: daskserver\n"}))
    two_fe = D("""
    split:
      type: slurm
      workers: 2
      frontends:
        - hostname: a.example
          hashserver:
            bufferdir: /b
          jobserver:
            conda: js
            network_interface: 0.0.0.0
            port_start: 100
            port_end: 200
        - hostname: b.example
          ssh_hostname: b-ssh
          database:
            database_dir: /d
          daskserver:
            network_interface: 0.0.0.0
            port_start: 300
            port_end: 400
    """)
    add(_case("jobserver and daskserver on two frontends, no remote:",
              {H: two_fe, P: proj + "- cluster: split\n"}))
    add(_case("two frontends, remote: jobserver, process execution",
              {H: two_fe, P: proj + "- cluster: split\n- remote: jobserver\n- execution: process\n"}))

    # --- YAML 1.1 scalars ---------------------------------------------------
    for word, cmd in [("yes", "persistent"), ("no", "persistent"), ("on", "record"),
                      ("off", "record"), ("Yes", "persistent"), ("OFF", "record"),
                      ("True", "record"), ("y", "persistent"), ("n", "record")]:
        add(_case(f"YAML 1.1 scalar: {cmd}: {word}",
                  {H: LOCAL_HDB, P: proj + f"- cluster: local\n- {cmd}: {word}\n"}))
    add(_case("tunnel: yes, hostname set, not local_cluster",
              {H: LOCAL_HDB.replace("tunnel: false", "tunnel: yes").replace(
                  "    - hashserver:", "    - hostname: remote.example\n      hashserver:"),
               P: proj + "- cluster: local\n"}))
    add(_case("tunnel: on on the local_cluster (tunnel and hostname dropped)",
              {H: LOCAL_HDB.replace("tunnel: false", "tunnel: on") + "local_cluster: local\n",
               P: proj + "- cluster: local\n"}))
    for wt in ['"01:00:00"', "1:00:00", "01:30", "90", "'1:00:00'"]:
        add(_case(f"walltime {wt}",
                  {H: _dask_cluster("wt", "slurm", f"""
                        q:
                          conda: dask-env
                          walltime: {wt}
                          memory: 16GB
                          unknown_task_duration: 1m
                          target_duration: 10m
                          maximum_jobs: 5
                          cores: 8
                        """), P: proj + "- cluster: wt\n"}))
    add(_case("exclusive: yes with cores on oar",
              {H: _dask_cluster("ex", "oar", BASE_Q + "  exclusive: yes\n"), P: proj + "- cluster: ex\n"}))

    # --- queues -------------------------------------------------------------
    def qc(desc: str, queues: str, ctype: str | None = "slurm", cmds: str = "",
           default_queue: str | None = "q", extra: str = "") -> None:
        add(_case(desc, {H: _dask_cluster("qc", ctype, queues, extra=extra, default_queue=default_queue),
                         P: proj + "- cluster: qc\n" + cmds}))

    qc("TEMPLATE with explicit nulls overriding template fields", BASE_Q + D("""
       t:
         TEMPLATE: q
         partition: null
         lifetime: 50m
         cores: null
         exclusive: true
       """), cmds="- queue: t\n")
    qc("TEMPLATE chain of three", BASE_Q + D("""
       t1:
         TEMPLATE: q
         partition: p1
         project: acct
       t2:
         TEMPLATE: t1
         memory: 1GB
         worker_threads: 3
         processes: 2
       """), cmds="- queue: t2\n")
    qc("TEMPLATE explicit null on required field (walltime)", BASE_Q + D("""
       t:
         TEMPLATE: q
         walltime: null
       """), cmds="- queue: t\n")
    qc("missing TEMPLATE (unknown template queue)", BASE_Q + D("""
       t:
         TEMPLATE: nosuch
         cores: 2
       """))
    qc("TEMPLATE referencing a later queue", D("""
       t:
         TEMPLATE: q
         cores: 2
       """) + BASE_Q.lstrip("\n"))
    qc("TEMPLATE: null", BASE_Q.replace("q:\n", "q:\n  TEMPLATE: null\n"))
    qc("hyphenated queue keys", """
       q:
         conda: dask-env
         walltime: "00:30:00"
         memory: 2GB
         unknown-task-duration: 2m
         target-duration: 5m
         maximum-jobs: 3
         lifetime-stagger: 1m
         cores: 2
         job-extra-directives: ["-A", "acct"]
         extra-dask-config: {distributed.comm.timeouts.connect: 30s}
       """)
    qc("job_script_prologue on a plain queue", BASE_Q + "  job_script_prologue: [\"module load x\"]\n")
    qc("job_script_prologue on a TEMPLATE queue",
       BASE_Q + "t:\n  TEMPLATE: q\n  job_script_prologue: [\"module load x\"]\n", cmds="- queue: t\n")
    qc("queue missing required field (memory)", BASE_Q.replace("  memory: 16GB\n", ""))
    qc("queue with typo'd key", BASE_Q + "  wallclock: 1h\n")
    qc("non-exclusive slurm queue without cores", BASE_Q.replace("  cores: 8\n", ""))
    qc("non-exclusive local queue without cores (workers used)", BASE_Q.replace("  cores: 8\n", ""),
       ctype="local")
    qc("exclusive slurm without cores (--exclusive directive)",
       BASE_Q.replace("  cores: 8\n", "  exclusive: true\n"))
    qc("exclusive oar without cores (resource_spec)",
       BASE_Q.replace("  cores: 8\n", "  exclusive: true\n"), ctype="oar")
    qc("exclusive local without cores", BASE_Q.replace("  cores: 8\n", "  exclusive: true\n"),
       ctype="local")
    qc("exclusive with cores (job_cores = cores)", BASE_Q + "  exclusive: true\n")
    qc("exclusive with job_cores", BASE_Q + "  exclusive: true\n  job_cores: 4\n")
    qc("non-exclusive with job_cores", BASE_Q + "  job_cores: 4\n")
    qc("exclusive slurm with --exclusive already in directives",
       BASE_Q.replace("  cores: 8\n", "  exclusive: true\n  job_extra_directives: [\"--exclusive\"]\n"))
    qc("queue: unknown name", BASE_Q, cmds="- queue: nosuch\n")
    qc("queue selected, then cluster changed and back", BASE_Q + "t:\n  TEMPLATE: q\n",
       cmds="- queue: t\n- cluster: other\n- cluster: qc\n")
    qc("queue in non-matching stage block", BASE_Q + "t:\n  TEMPLATE: q\n",
       cmds="- stage other:\n    - queue: t\n")
    qc("no default_queue, no queue selected", BASE_Q, default_queue=None)
    qc("default_queue unknown", BASE_Q, default_queue="nosuch")
    qc("cluster without queues but daskserver", "{}", default_queue=None)
    qc("type omitted with daskserver", BASE_Q, ctype=None)
    qc("invalid cluster type pbs", BASE_Q, ctype="pbs")
    qc("node on slurm", BASE_Q, cmds="- node: node042\n")
    qc("node on slurm with same --nodelist already present",
       BASE_Q + "  job_extra_directives: [\"--nodelist=node042\"]\n", cmds="- node: node042\n")
    qc("node on oar", BASE_Q, ctype="oar", cmds="- node: node042\n")
    qc("node on local", BASE_Q, ctype="local", cmds="- node: node042\n")
    qc("node: empty string", BASE_Q, cmds="- node: \"\"\n")
    qc("node: null after node", BASE_Q, cmds="- node: n1\n- node: null\n")
    qc("node: integer", BASE_Q, cmds="- node: 42\n")
    qc("memory_per_core_property_name + interactive + lifetime", BASE_Q
       + "  interactive: true\n  lifetime: 55m\n  dask_resources: {MEM: 2}\n",
       extra="  memory_per_core_property_name: mem_per_core\n")
    qc("pure dask on local type without cores/maximum_jobs",
       BASE_Q.replace("  cores: 8\n", "").replace("  maximum_jobs: 5\n", "  maximum_jobs: null\n"),
       ctype="local", cmds="- persistent: false\n")
    qc("pure dask with worker_threads set", BASE_Q + "  worker_threads: 6\n",
       cmds="- persistent: false\n- queue: q\n")
    qc("queue entry not a mapping", BASE_Q + "t: 5\n")

    # --- cluster definitions -----------------------------------------------
    def cl(desc: str, clusters: str, cmds: str = "- cluster: c\n", **kw: Any) -> None:
        add(_case(desc, {H: clusters, P: proj + cmds}, **kw))

    simple = D("""
    c:
      type: slurm
      frontends:
        - hostname: h.example
          hashserver:
            bufferdir: /b
    """)
    cl("minimal slurm cluster, hashserver only", simple)
    cl("hashserver port_start without port_end", simple + "        port_start: 5\n")
    cl("hashserver port_end without port_start", simple + "        port_end: 5\n")
    cl("database port_start without port_end",
       simple + "      database:\n        database_dir: /d\n        port_start: 5\n")
    cl("jobserver missing port_end",
       simple + "      jobserver:\n        conda: j\n        network_interface: x\n        port_start: 5\n")
    cl("daskserver missing network_interface",
       simple + "      daskserver:\n        port_start: 5\n        port_end: 6\n")
    cl("hashserver without bufferdir", simple.replace("bufferdir: /b", "conda: x"))
    cl("typo'd frontend key (hostnme)", simple.replace("hostname:", "hostnme:"))
    cl("typo'd cluster key (tunel)", simple + "  tunel: true\n")
    cl("typo'd hashserver key (buferdir)", simple + "        buferdir: /x\n")
    cl("hostname omitted on slurm", simple.replace("    - hostname: h.example\n      hashserver:",
                                                  "    - hashserver:"))
    cl("hostname omitted, type omitted", simple.replace("  type: slurm\n", "").replace(
        "    - hostname: h.example\n      hashserver:", "    - hashserver:"))
    cl("frontends missing", "c:\n  type: local\n")
    cl("frontends empty list", "c:\n  type: local\n  frontends: []\n")
    cl("workers as string", simple + "  workers: four\n")
    cl("port_start as string", simple + "        port_start: abc\n        port_end: def\n")
    cl("tunnel as string", simple + "  tunnel: maybe\n")
    cl("cluster definition is a list", "c:\n  - a\n  - b\n")
    cl("cluster definition is a string", "c: hello\n")
    cl("unknown cluster selected", simple, cmds="- cluster: nosuch\n")
    cl("queue selected without cluster", simple, cmds="- queue: q\n")
    cl("queue on a cluster without queues", simple, cmds="- cluster: c\n- queue: q\n")
    cl("local_cluster pointing at undefined cluster", simple + "local_cluster: nosuch\n")
    cl("local_cluster not a string", simple + "local_cluster: 5\n")
    cl("local_cluster is the selected slurm cluster (hostname dropped)",
       simple.replace("  type: slurm\n", "  type: slurm\n  tunnel: true\n") + "local_cluster: c\n")
    cl("ssh_hostname + tunnel on remote frontend",
       simple.replace("  type: slurm\n", "  type: slurm\n  tunnel: true\n").replace(
           "    - hostname: h.example\n", "    - hostname: h.example\n      ssh_hostname: gw.example\n"))
    cl("jobserver without workers", D("""
    c:
      type: local
      frontends:
        - jobserver:
            conda: j
            network_interface: 127.0.0.1
            port_start: 1
            port_end: 2
    """), cmds="- cluster: c\n- execution: remote\n")
    cl("numeric cluster name key", "123:\n  type: local\n  frontends: []\n", cmds="- cluster: \"123\"\n")
    add(_case("clusters.yaml is empty", {H: "", P: proj}))
    add(_case("clusters.yaml is a list", {H: "- a\n- b\n", P: proj}))
    add(_case("clusters.yaml is malformed", {H: "c: [unclosed\n", P: proj}))
    add(_case("clusters/*.yaml only", {"home/.seamless/clusters/one.yaml": LOCAL_HDB,
                                        P: proj + "- cluster: local\n"}, cluster_names=["local"]))
    add(_case("clusters/*.yaml overrides clusters.yaml",
              {H: LOCAL_HDB, "home/.seamless/clusters/one.yaml": LOCAL_HDB.replace("/data/buffers", "/other"),
               P: proj + "- cluster: local\n"}))
    add(_case("clusters/*.yml is ignored", {"home/.seamless/clusters/one.yml": LOCAL_HDB,
                                             P: proj + "- cluster: local\n"}, cluster_names=["local"]))
    add(_case("clusters/*.yaml empty file", {"home/.seamless/clusters/one.yaml": "",
                                              H: LOCAL_HDB, P: proj + "- cluster: local\n"}))
    add(_case("local_cluster in clusters/*.yaml, cluster in clusters.yaml",
              {H: LOCAL_HDB, "home/.seamless/clusters/lc.yaml": "local_cluster: local\n",
               P: proj + "- cluster: local\n- execution: spawn\n"}))
    add(_case("inline clusters override HOME cluster of same name",
              {H: LOCAL_HDB, P: proj + "- cluster: local\n",
               PP: "- clusters:\n" + textwrap.indent(textwrap.dedent(LOCAL_HDB).replace("/data/db", "/inline/db"), "    ")}))
    add(_case("inline clusters after cluster command (priority)",
              {P: proj + "- cluster: local\n",
               PP: "- clusters:\n" + textwrap.indent(textwrap.dedent(LOCAL_HDB), "    ")},
              cluster_names=["local"]))
    add(_case("inline clusters inside matching stage block",
              {P: proj + "- stage s1:\n    - clusters:\n"
               + textwrap.indent(textwrap.dedent(LOCAL_HDB), "        ") + "    - cluster: local\n"},
              stage="s1", cluster_names=["local"]))
    add(_case("inline clusters inside non-matching stage block",
              {P: proj + "- stage s1:\n    - clusters:\n"
               + textwrap.indent(textwrap.dedent(LOCAL_HDB), "        ") + "    - cluster: local\n"},
              stage="s2", cluster_names=["local"]))
    add(_case("inline clusters with local_cluster key",
              {P: proj + "- clusters:\n" + textwrap.indent(textwrap.dedent(LOCAL_HDB), "    ")
               + "    local_cluster: local\n- execution: spawn\n"}, cluster_names=["local"]))
    add(_case("inline clusters: list instead of mapping", {P: proj + "- clusters:\n    - a\n"}))
    add(_case("inline clusters: empty mapping", {P: proj + "- clusters: {}\n"}))

    # --- command language mistakes -----------------------------------------
    add(_case("unknown command (mapping)", {P: proj + "- projct: x\n"}))
    add(_case("unknown command (bare string)", {P: proj + "- foo\n"}))
    add(_case("bare 'project' without value", {P: "- project\n"}))
    add(_case("two keys in one command", {P: "- project: a\n  subproject: b\n"}))
    add(_case("command is a list", {P: "- [a, b]\n"}))
    add(_case("command is an integer", {P: "- 5\n"}))
    add(_case("non-string command key", {P: "- 5: x\n"}))
    add(_case("seamless.yaml is a mapping", {P: "project: myproj\n"}))
    add(_case("seamless.yaml is empty", {P: ""}))
    add(_case("seamless.yaml is only a comment", {P: "# nothing\n"}))
    add(_case("seamless.yaml is a scalar", {P: "hello\n"}))
    add(_case("malformed YAML (unclosed flow)", {P: "- project: [unclosed\n"}))
    add(_case("malformed YAML (bad indentation)", {P: "- project: a\n - cluster: b\n"}))
    add(_case("malformed YAML (tab)", {P: "- project: a\n-\tcluster: b\n"}))
    add(_case("profile malformed, seamless.yaml fine", {P: proj, PP: "- record: [\n"}))
    add(_case("profile is a mapping", {P: proj, PP: "record: true\n"}))
    for cmd, val in [("nparallel", "4"), ("nparallel", "1"), ("nparallel", "0"), ("nparallel", "-1"),
                     ("nparallel", "true"), ("nparallel", "\"4\""), ("nparallel", "2.5"),
                     ("persistent", "\"true\""), ("persistent", "1"), ("record", "\"yes\""),
                     ("record", "null"), ("project", "123"), ("project", "null"),
                     ("subproject", "5"), ("subproject", "null"), ("cluster", "5"), ("execution", "1"),
                     ("execution", "local"), ("execution", "Remote"), ("execution", "null"),
                     ("remote", "dask"), ("remote", "5"), ("remote", "Jobserver"),
                     ("queue", "5"), ("node", "[a]"), ("clusters", "5"), ("project", "[a]"),
                     ("persistent", "null"), ("nparallel", "null")]:
        add(_case(f"{cmd}: {val}", {H: LOCAL_JOB, P: proj + "- cluster: local\n" + f"- {cmd}: {val}\n"}))
    add(_case("inherit_from_parent as mapping with null",
              {P: proj + "- cluster: local\n", "proj/sub/seamless.yaml": "- inherit_from_parent: null\n",
               H: LOCAL_HDB}, workdir="proj/sub"))
    add(_case("inherit_from_parent as mapping with false",
              {P: proj, "proj/sub/seamless.yaml": "- inherit_from_parent: false\n- subproject: x\n"},
              workdir="proj/sub"))

    # --- inherit_from_parent chains -----------------------------------------
    add(_case("inherit 2 levels: parent project, child cluster",
              {H: LOCAL_HDB, P: proj, "proj/sub/seamless.yaml": "- inherit_from_parent\n- cluster: local\n"},
              workdir="proj/sub"))
    add(_case("no inherit: parent ignored",
              {H: LOCAL_HDB, P: proj, "proj/sub/seamless.yaml": "- cluster: local\n"}, workdir="proj/sub"))
    add(_case("inherit 3 levels with overrides",
              {H: LOCAL_JOB + MYCLUSTER, P: proj + "- cluster: mycluster\n- record: true\n",
               "proj/a/seamless.yaml": "- inherit_from_parent\n- subproject: a\n",
               "proj/a/b/seamless.profile.yaml": "- inherit_from_parent\n- cluster: local\n- record: false\n"},
              workdir="proj/a/b"))
    add(_case("inherit in profile only",
              {H: LOCAL_HDB, P: proj + "- cluster: local\n",
               "proj/a/seamless.yaml": "- subproject: a\n",
               "proj/a/seamless.profile.yaml": "- inherit_from_parent\n"}, workdir="proj/a"))
    add(_case("chain broken in the middle",
              {H: LOCAL_HDB, P: "- project: top\n", "proj/a/seamless.yaml": "- project: mid\n",
               "proj/a/b/seamless.yaml": "- inherit_from_parent\n- cluster: local\n"}, workdir="proj/a/b"))
    add(_case("inherit through a directory without files",
              {P: proj, "proj/a/b/seamless.yaml": "- inherit_from_parent\n"}, workdir="proj/a/b"))
    add(_case("inherit inside a stage block (not honoured as inherit)",
              {P: proj, "proj/a/seamless.yaml": "- stage x:\n    - inherit_from_parent\n"},
              workdir="proj/a", stage="x"))
    add(_case("parent file malformed, child inherits",
              {P: "- project: [\n", "proj/a/seamless.yaml": "- inherit_from_parent\n"}, workdir="proj/a"))
    add(_case("workdir does not exist", {P: proj}, workdir="proj/nonexistent"))

    # --- stages -------------------------------------------------------------
    stg = proj + "- record: false\n- stage prod:\n    - record: true\n    - nparallel: 8\n- stage dev:\n    - nparallel: 2\n"
    add(_case("stage blocks, no stage selected", {P: stg}))
    add(_case("stage blocks, stage prod", {P: stg}, stage="prod"))
    add(_case("stage blocks, stage dev", {P: stg}, stage="dev"))
    add(_case("stage blocks, non-matching stage", {P: stg}, stage="other"))
    nested = proj + "- stage prod:\n    - stage prod:\n        - nparallel: 3\n    - stage dev:\n        - nparallel: 4\n"
    add(_case("nested stage blocks, prod", {P: nested}, stage="prod"))
    add(_case("nested stage blocks, dev", {P: nested}, stage="dev"))
    add(_case("stage key without space (stageprod:)", {P: proj + "- stageprod:\n    - nparallel: 5\n"},
              stage="prod"))
    add(_case("stage key with extra spaces", {P: proj + "- \"stage   prod  \":\n    - nparallel: 5\n"},
              stage="prod"))
    add(_case("bare 'stage:' key", {P: proj + "- stage:\n    - nparallel: 5\n"}))
    add(_case("stage block value not a list (non-matching)", {P: proj + "- stage prod: 5\n"}))
    add(_case("stage block value not a list (matching)", {P: proj + "- stage prod: 5\n"}, stage="prod"))
    add(_case("stage block with unknown command, non-matching",
              {P: proj + "- stage prod:\n    - bogus: 1\n"}))
    add(_case("stage block with unknown command, matching",
              {P: proj + "- stage prod:\n    - bogus: 1\n"}, stage="prod"))
    add(_case("stage block with empty list", {P: proj + "- stage prod: []\n"}, stage="prod"))
    add(_case("bare string 'stage prod'", {P: proj + "- stage prod\n"}, stage="prod"))
    add(_case("stage block changes cluster and execution",
              {H: LOCAL_JOB + MYCLUSTER,
               P: proj + "- cluster: local\n- execution: process\n- stage prod:\n    - cluster: mycluster\n    - execution: remote\n"},
              stage="prod"))

    # --- rejected names ------------------------------------------------------
    add(_case("project with '--'", {P: "- project: my--proj\n"}))
    add(_case("project with '/'", {P: "- project: my/proj\n"}))
    add(_case("project with STAGE-", {P: "- project: STAGE-x\n"}))
    add(_case("subproject with '--'", {P: proj + "- subproject: a--b\n"}))
    add(_case("subproject with STAGE-", {P: proj + "- subproject: xSTAGE-y\n"}))
    add(_case("cluster name with '--'", {H: "a--b:\n  type: local\n  frontends: []\n",
                                          P: proj + "- cluster: a--b\n"}, cluster_names=["a--b"]))
    add(_case("cluster name with '/' (selected)", {P: proj + "- cluster: a/b\n"}))
    add(_case("stage name with '--'", {P: proj}, stage="a--b"))
    add(_case("stage name with '/'", {P: proj}, stage="a/b"))
    add(_case("stage name with STAGE-", {P: proj}, stage="STAGE-1"))
    add(_case("substage with '--'", {P: proj}, stage="s", substage="x--y"))
    add(_case("substage with '/'", {P: proj}, stage="s", substage="x/y"))
    add(_case("dotted and dashed names", {H: LOCAL_HDB.replace("local:", "my.clus-1:"),
                                           P: "- project: my.proj-1_x\n- subproject: v1.2\n- cluster: my.clus-1\n"},
              stage="st.1-a", substage="sub_2.b"))

    # --- SEAMLESS_CACHE -----------------------------------------------------
    add(_case("SEAMLESS_CACHE, no files", {}, env={"SEAMLESS_CACHE": "@ROOT@/cache"}))
    add(_case("SEAMLESS_CACHE with project file", {P: proj}, env={"SEAMLESS_CACHE": "@ROOT@/cache"}))
    add(_case("SEAMLESS_CACHE overrides a configured cluster",
              {H: LOCAL_JOB, P: proj + "- cluster: local\n- execution: remote\n- record: true\n"},
              env={"SEAMLESS_CACHE": "@ROOT@/cache"}))
    add(_case("SEAMLESS_CACHE with malformed seamless.yaml", {P: "- [\n"},
              env={"SEAMLESS_CACHE": "@ROOT@/cache"}))
    add(_case("SEAMLESS_CACHE with stage", {P: proj}, env={"SEAMLESS_CACHE": "@ROOT@/cache"}, stage="prod"))
    add(_case("SEAMLESS_CACHE whitespace only", {P: proj}, env={"SEAMLESS_CACHE": "   "}))
    add(_case("SEAMLESS_CACHE empty", {P: proj}, env={"SEAMLESS_CACHE": ""}))
    add(_case("SEAMLESS_CACHE with ~", {P: proj}, env={"SEAMLESS_CACHE": "~/cache"}))
    add(_case("SEAMLESS_CACHE relative with trailing slash and spaces", {P: proj},
              env={"SEAMLESS_CACHE": "  @ROOT@/cache/  "}))
    return c


# ------------------------------------------------------------ random family

HOSTS = ["login.hpc.example", "front1", "front2.cluster.local", "gpu-front", "10.0.0.5", "localhost"]
CONDAS = ["hashserver", "seamless-database", "seamless-jobserver", "seamless-dask", "env1", "dask_2"]
IFACES = ["0.0.0.0", "127.0.0.1", "eth0", "192.168.1.10"]
NAMES = ["alpha", "beta", "gamma", "delta", "hpc", "lab", "my-clus", "c_2", "node.x", "cl1"]
PROJECTS = ["proj", "myproject", "p-1", "data_set", "exp.2", "analysis"]
STAGES = ["prod", "dev", "test", "gpu", "s-1", "build_2"]
SUBSTAGES = ["cpu", "gpu", "big-mem", "x1"]
QNAMES = ["default", "short", "long", "gpu", "highmem", "q-1", "batch_2"]


def _ports(rng: random.Random, mistake_ok: bool) -> dict[str, Any]:
    start = rng.randrange(1024, 60000, 100)
    r = rng.random()
    if mistake_ok and r < 0.04:
        return {"port_start": start}
    if mistake_ok and r < 0.06:
        return {"port_end": start + 99}
    return {"port_start": start, "port_end": start + rng.choice([9, 99])}


def _service(rng: random.Random, kind: str, mistakes: bool) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if kind == "hashserver":
        d["bufferdir"] = rng.choice(["/data/buffers", "/scratch/b", "~/buffers", "/tmp/hs"])
    elif kind == "database":
        d["database_dir"] = rng.choice(["/data/db", "/scratch/d", "~/db"])
    if kind in ("hashserver", "database", "jobserver") and (kind == "jobserver" or rng.random() < 0.6):
        d["conda"] = rng.choice(CONDAS)
    if kind in ("jobserver", "daskserver") or rng.random() < 0.6:
        d["network_interface"] = rng.choice(IFACES)
    if kind in ("jobserver", "daskserver") or rng.random() < 0.7:
        d.update(_ports(rng, mistakes))
    if mistakes and rng.random() < 0.05:
        key = rng.choice(list(d))
        d[key + "x"] = d.pop(key)  # typo'd key
    return d


def _queue(rng: random.Random, ctype: str | None, mistakes: bool) -> dict[str, Any]:
    q: dict[str, Any] = {
        "conda": rng.choice(CONDAS),
        # Unquoted 1:00:00 is a YAML 1.1 sexagesimal int; rare here, targeted cases cover it.
        "walltime": rng.choices([Raw('"01:00:00"'), "00:30:00", Raw("'12:00:00'"), Raw("1:00:00"), Raw("2:30:00")],
                                [0.35, 0.3, 0.27, 0.04, 0.04])[0],
        "memory": rng.choice(["4GB", "32000MB", "1TB"]),
        "unknown_task_duration": rng.choice(["1m", "30s"]),
        "target_duration": rng.choice(["10m", "5m"]),
        "maximum_jobs": rng.choice([1, 4, 20]),
    }
    exclusive = rng.random() < 0.3
    if exclusive:
        q["exclusive"] = rng.choice([True, Raw("yes"), Raw("on")])
        if rng.random() < 0.5 or ctype == "local":
            q["cores"] = rng.choice([4, 16])
    else:
        if rng.random() < 0.1:
            q["exclusive"] = rng.choice([False, Raw("no"), Raw("off")])
        if ctype != "local" or rng.random() < 0.6:
            q["cores"] = rng.choice([1, 8, 32])
        if rng.random() < 0.25:
            q["job_cores"] = rng.choice([2, 4])
    for key, vals in [
        ("tmpdir", ["/tmp", "/scratch/tmp"]),
        ("partition", ["batch", "gpu", "short"]),
        ("project", ["acct1", "capsid"]),
        ("lifetime_stagger", ["4m", "2m"]),
        ("lifetime", ["50m", "3h"]),
        ("worker_threads", [1, 4]),
        ("processes", [1, 2]),
        ("interactive", [True, False, Raw("yes")]),
        ("job_extra_directives", [["--gres=gpu:1"], ["-A", "acct"]]),
        ("dask_resources", [{"GPU": 1}, {"MEM": "2"}]),
        ("extra_dask_config", [{"distributed.scheduler.work-stealing": False}]),
    ]:
        if rng.random() < 0.2:
            q[key] = rng.choice(vals)
    if rng.random() < 0.03:
        q["job_script_prologue"] = ["module load cuda"]
    if rng.random() < 0.15:
        # hyphenated spelling
        q = {(k.replace("_", "-") if k not in ("job_cores",) else k): v for k, v in q.items()}
    if mistakes and rng.random() < 0.08:
        q.pop(rng.choice(["memory", "conda", "walltime", "maximum_jobs"]), None)
    if mistakes and rng.random() < 0.05:
        q["walltim"] = "1h"
    return q


def _template_queue(rng: random.Random, base: str, mistakes: bool) -> dict[str, Any]:
    q: dict[str, Any] = {"TEMPLATE": base}
    if mistakes and rng.random() < 0.08:
        q["TEMPLATE"] = "missing_" + base
    for key, vals in [
        ("cores", [2, 64, None]),
        ("memory", ["8GB", "256GB"]),
        ("partition", ["gpu", None]),
        ("walltime", [Raw('"04:00:00"'), "08:00:00"]),
        ("exclusive", [True, False, None]),
        ("job_cores", [None, 2]),
        ("lifetime", [None, "10m"]),
        ("job_extra_directives", [["--gres=gpu:2"], None]),
        ("dask_resources", [{"GPU": 2}, None]),
        ("maximum_jobs", [2, None]),
        ("tmpdir", [None, "/local"]),
    ]:
        if rng.random() < 0.3:
            q[key] = rng.choice(vals)
    return q


def _cluster(rng: random.Random, mistakes: bool) -> dict[str, Any]:
    c: dict[str, Any] = {}
    ctype = rng.choice(["local", "local", "slurm", "slurm", "oar", None])
    if mistakes and rng.random() < 0.03:
        ctype = "pbs"
    if ctype is not None:
        c["type"] = ctype
    if rng.random() < 0.6:
        c["tunnel"] = rng.choice([True, False, Raw("yes"), Raw("no"), Raw("on"), Raw("off")])
    if rng.random() < 0.7:
        c["workers"] = rng.choice([1, 2, 8])
    if mistakes and rng.random() < 0.03:
        c["workers"] = "many"
    frontends = []
    services_all = ["hashserver", "database", "jobserver", "daskserver"]
    for i in range(rng.choice([1, 1, 1, 2])):
        fe: dict[str, Any] = {}
        if ctype != "local" or rng.random() < 0.4:
            if not (mistakes and rng.random() < 0.04):
                fe["hostname"] = rng.choice(HOSTS)
        if rng.random() < 0.25:
            fe["ssh_hostname"] = rng.choice(HOSTS) + "-ssh"
        for s in services_all:
            p = 0.85 if s in ("hashserver", "database") else 0.35
            if i > 0:
                p /= 2
            if rng.random() < p:
                fe[s] = _service(rng, s, mistakes)
        if mistakes and rng.random() < 0.03:
            fe["hostnme"] = "typo"
        frontends.append(fe)
    c["frontends"] = frontends
    has_dask = any("daskserver" in fe for fe in frontends)
    if has_dask or rng.random() < 0.2:
        queues: dict[str, Any] = {}
        names = rng.sample(QNAMES, rng.choice([1, 1, 2, 3]))
        for j, qn in enumerate(names):
            if j > 0 and rng.random() < 0.6:
                queues[qn] = _template_queue(rng, rng.choice(names[:j]), mistakes)
            else:
                queues[qn] = _queue(rng, ctype, mistakes)
        c["queues"] = queues
        r = rng.random()
        if r < 0.7:
            c["default_queue"] = names[0]
        elif r < 0.8 and len(names) > 1:
            c["default_queue"] = names[-1]
        elif mistakes and r < 0.85:
            c["default_queue"] = "nosuchqueue"
    if rng.random() < 0.1:
        c["memory_per_core_property_name"] = "mem_per_core"
    if mistakes and rng.random() < 0.03:
        c["tunel"] = True
    return c


def random_case(rng: random.Random, idx: int) -> dict[str, Any]:
    feats: list[str] = []
    mistakes = rng.random() < 0.3
    if mistakes:
        feats.append("mistakes-allowed")
    files: dict[str, str] = {}

    # clusters
    n_clusters = rng.choice([0, 1, 1, 2, 2, 3])
    cl_names = rng.sample(NAMES, n_clusters)
    clusters = {n: _cluster(rng, mistakes) for n in cl_names}
    local_names = [n for n, d in clusters.items() if d.get("type") == "local"]
    local_cluster = None
    if local_names and rng.random() < 0.6:
        local_cluster = rng.choice(local_names)
    elif cl_names and rng.random() < 0.08:
        local_cluster = rng.choice(cl_names)
    home_main: dict[str, Any] = {}
    home_sub: dict[str, dict[str, Any]] = {}
    inline: dict[str, Any] = {}
    for n, d in clusters.items():
        where = rng.choices(["main", "sub", "inline"], [0.55, 0.25, 0.2])[0]
        if where == "main":
            home_main[n] = d
        elif where == "sub":
            home_sub.setdefault(rng.choice(["a", "b", "site"]), {})[n] = d
        else:
            inline[n] = d
        feats.append(f"{n}:{d.get('type', 'untyped')}@{where}")
    if local_cluster is not None:
        target = rng.choice(["main", "inline"])
        (home_main if target == "main" else inline)["local_cluster"] = local_cluster
        feats.append(f"local_cluster={local_cluster}")
    if home_main or rng.random() < 0.03:
        files["home/.seamless/clusters.yaml"] = dump(home_main) if home_main else ""
    for fname, d in home_sub.items():
        files[f"home/.seamless/clusters/{fname}.yaml"] = dump(d)
    if mistakes and rng.random() < 0.05:
        files["home/.seamless/clusters/broken.yaml"] = rng.choice(["- a\n", "x: [\n", ""])
        feats.append("broken-cluster-file")

    # command lists per directory level
    levels = rng.choice([1, 1, 2, 2, 3])
    dirs = ["proj", "proj/l2", "proj/l2/l3"][:levels]
    per_dir: list[dict[str, list[Any]]] = [{"seamless.yaml": [], "seamless.profile.yaml": []} for _ in dirs]
    feats.append(f"levels={levels}")

    stage = rng.choice([None, None, None] + STAGES)
    if mistakes and rng.random() < 0.05:
        stage = rng.choice(["a--b", "x/y", "STAGE-z"])
    substage = rng.choice([None, None, None] + SUBSTAGES) if stage or rng.random() < 0.1 else None
    if mistakes and substage and rng.random() < 0.05:
        substage = "p--q"

    def put(cmd: Any, level: int | None = None, fname: str | None = None) -> None:
        lv = rng.randrange(levels) if level is None else level
        fn = fname or rng.choice(["seamless.yaml", "seamless.profile.yaml"])
        per_dir[lv][fn].append(cmd)

    # inherit flags: child levels usually inherit
    for lv in range(1, levels):
        if rng.random() < 0.88:
            put("inherit_from_parent", lv)
        else:
            feats.append(f"no-inherit@{lv}")

    if inline:
        put({"clusters": inline}, fname="seamless.profile.yaml")

    if rng.random() < 0.88:
        pname = rng.choice(PROJECTS)
        if mistakes and rng.random() < 0.06:
            pname = rng.choice(["bad--name", "a/b", "xSTAGE-y"])
        put({"project": pname}, 0, "seamless.yaml")
    if rng.random() < 0.2:
        put({"subproject": rng.choice(["sub", "v2", "a/b", "x.1"])})

    def cmd_pool(in_stage: bool) -> list[Any]:
        cmds: list[Any] = []
        sel = None
        if cl_names and rng.random() < (0.5 if in_stage else 0.85):
            sel = rng.choice(cl_names)
            if mistakes and rng.random() < 0.05:
                sel = "undefined_cluster"
            cmds.append({"cluster": sel})
        if rng.random() < (0.3 if in_stage else 0.55):
            if sel is not None or (not in_stage and cl_names):
                ex = rng.choices(["process", "spawn", "remote"],
                                 [0.3, 0.2 if local_cluster else 0.03, 0.5])[0]
            else:
                ex = rng.choices(["process", "spawn", "remote"], [0.8, 0.1 if local_cluster else 0.0, 0.1])[0]
            if mistakes and rng.random() < 0.06:
                ex = rng.choice(["local", "Remote", 1])
            cmds.append({"execution": ex})
        if sel in clusters and clusters[sel].get("queues") and rng.random() < 0.45:
            qn = rng.choice(list(clusters[sel]["queues"]))
            if mistakes and rng.random() < 0.1:
                qn = "nosuchqueue"
            cmds.append({"queue": qn})
        elif mistakes and rng.random() < 0.03:
            cmds.append({"queue": "orphan"})
        if rng.random() < 0.25:
            rv: Any = rng.choice(["jobserver", "daskserver", None])
            if mistakes and rng.random() < 0.1:
                rv = "dask"
            cmds.append({"remote": rv})
        if rng.random() < 0.25:
            pv: Any = rng.choice([True, False, Raw("yes"), Raw("no"), Raw("on"), Raw("off")])
            if mistakes and rng.random() < 0.1:
                pv = rng.choice(["true", 1])
            cmds.append({"persistent": pv})
        if rng.random() < 0.2:
            cmds.append({"record": rng.choice([True, False, Raw("on"), Raw("off")])})
        if rng.random() < 0.12:
            cmds.append({"node": rng.choice(["node01", "gpu-3", None])})
        if rng.random() < 0.25:
            nv: Any = rng.choice([1, 4, 16])
            if mistakes and rng.random() < 0.15:
                nv = rng.choice([0, -2, "4", True])
            cmds.append({"nparallel": nv})
        if mistakes and rng.random() < 0.06:
            cmds.append(rng.choice([{"projct": "x"}, "bogus", {"execution": "remote", "record": True},
                                    {"cluster_name": "x"}]))
        return cmds

    for cmd in cmd_pool(False):
        lv = rng.randrange(levels)
        put(cmd, lv)
    # stage blocks
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        sname = stage if (stage and rng.random() < 0.6) else rng.choice(STAGES)
        body = cmd_pool(True)
        if rng.random() < 0.15:
            inner = stage if (stage and rng.random() < 0.5) else rng.choice(STAGES)
            body.append({f"stage {inner}": cmd_pool(True) or [{"record": True}]})
        put({f"stage {sname}": body})
        feats.append(f"stage-block:{sname}")

    for lv, d in enumerate(dirs):
        for fn, cmds in per_dir[lv].items():
            if cmds or rng.random() < 0.05:
                files[f"{d}/{fn}"] = dump(cmds) if cmds else "[]\n"
    if mistakes and rng.random() < 0.06:
        d = rng.choice(dirs)
        files[f"{d}/seamless.profile.yaml"] = rng.choice(
            ["record: true\n", "- record: [\n", "", "just a string\n"])
        feats.append("broken-profile")

    env: dict[str, str] = {}
    if rng.random() < 0.06:
        env["SEAMLESS_CACHE"] = "@ROOT@/cache"
        feats.append("SEAMLESS_CACHE")

    api = "set_stage" if (stage or substage or rng.random() < 0.3) else "init"
    desc = f"random #{idx}: " + ", ".join(feats)
    case = _case(desc, files, workdir=dirs[-1], stage=stage, substage=substage, api=api, env=env,
                 cluster_names=cl_names)
    # One load path per random case (alternating) keeps the run time down;
    # the targeted cases go through both.
    case["paths"] = ["high"] if idx % 2 == 0 else ["low"]
    return case


# ------------------------------------------------------------------ writing


def generate(root: Path | str, seed: int = DEFAULT_SEED, n_random: int = N_RANDOM) -> list[dict[str, Any]]:
    """Write all case trees under *root*; return the case list for the driver."""
    root = Path(root).resolve()
    rng = random.Random(seed)
    specs = targeted_cases() + [random_case(rng, i) for i in range(n_random)]
    cases = []
    for i, spec in enumerate(specs):
        cid = f"c{i:04d}"
        croot = root / cid
        home = croot / "home"
        home.mkdir(parents=True, exist_ok=True)
        (croot / "elsewhere").mkdir(exist_ok=True)
        (croot / "proj").mkdir(exist_ok=True)
        for rel, text in spec["files"].items():
            p = croot / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
        env = {k: v.replace("@ROOT@", str(croot)) for k, v in spec["env"].items()}
        cases.append(
            {
                "id": cid,
                "description": spec["description"],
                "root": str(croot),
                "home": str(home),
                "workdir": str(croot / spec["workdir_rel"]),
                "workdir_rel": spec["workdir_rel"],
                "env": env,
                "stage": spec["stage"],
                "substage": spec["substage"],
                "api": spec["api"],
                "cluster_names": spec["cluster_names"],
                "paths": spec.get("paths", ["high", "low"]),
                "files": spec["files"],
            }
        )
    return cases


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: corpus.py OUTDIR [SEED]", file=sys.stderr)
        return 2
    out = Path(argv[1])
    seed = int(argv[2]) if len(argv) > 2 else DEFAULT_SEED
    cases = generate(out, seed)
    (out / "cases.json").write_text(json.dumps(cases, indent=1), encoding="utf-8")
    print(f"{len(cases)} cases written to {out}/cases.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
