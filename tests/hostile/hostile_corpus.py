"""The hostile-input corpus: files, API calls, CLI arguments and environment values.

``build(root)`` writes every file case into its own directory under *root*
(``<case>/proj`` is the working directory, ``<case>/home`` is ``$HOME``) and
returns JSON-able case descriptions for ``hostile_worker.py``; a path written
``~/x`` stands for ``$HOME/.seamless/x``. Payloads that would run
code name the canary ``<root>/canary/pwned``: if any input were ever evaluated
or handed to a shell, that file would appear.

Categories (``case["category"]``): fstring, quote, shell, dotdot, nul, newline,
dash-host, non-utf8, control, symlink, unreadable, alias-bomb, deep, huge,
long-line, duplicate, unclosed, queue-injection, names, api, cli, env.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

Case = dict[str, Any]

PROJECT_FILE = "- project: p\n- cluster: hpc\n- execution: remote\n- remote: daskserver\n"

# A SLURM cluster with a daskserver and one queue; {F_<field>} markers are replaced per case.
CLUSTER = """\
hpc:
  tunnel: true
  type: slurm
  memory_per_core_property_name: {F_memory_per_core_property_name}
  frontends:
    - hostname: {F_hostname}
      ssh_hostname: {F_ssh_hostname}
      hashserver:
        bufferdir: {F_bufferdir}
        conda: {F_conda}
        network_interface: {F_network_interface}
        port_start: 60100
        port_end: 60199
      database:
        database_dir: {F_database_dir}
        conda: seamless-database
        network_interface: 0.0.0.0
        port_start: 60200
        port_end: 60299
      daskserver:
        network_interface: 0.0.0.0
        port_start: 60300
        port_end: 60399
  default_queue: {F_default_queue}
  queues:
    {F_queue_name}:
      conda: {F_queue_conda}
      walltime: {F_walltime}
      cores: 16
      memory: {F_memory}
      tmpdir: {F_tmpdir}
      partition: {F_partition}
      project: {F_project}
      maximum_jobs: 20
      unknown_task_duration: {F_unknown_task_duration}
      target_duration: {F_target_duration}
      lifetime_stagger: {F_lifetime_stagger}
      lifetime: {F_lifetime}
      job_extra_directives: [{F_job_extra_directives}]
      extra_dask_config: {{{F_extra_dask_config_key}: 30s}}
      dask_resources: {{{F_dask_resources_key}: 1}}
"""

GOOD = {
    "memory_per_core_property_name": "memcore",
    "hostname": "login.hpc.example",
    "ssh_hostname": "hpc-login",
    "bufferdir": "/scratch/seamless/buffers",
    "conda": "hashserver",
    "network_interface": "0.0.0.0",
    "database_dir": "/scratch/seamless/db",
    "default_queue": "default",
    "queue_name": "default",
    "queue_conda": "seamless-dask",
    "walltime": '"01:00:00"',
    "memory": "32000MB",
    "tmpdir": "/tmp",
    "partition": "batch",
    "project": "acct1",
    "unknown_task_duration": "1m",
    "target_duration": "10m",
    "lifetime_stagger": "4m",
    "lifetime": "50m",
    "job_extra_directives": '"--gres=gpu:1"',
    "extra_dask_config_key": "distributed.comm.timeouts.connect",
    "dask_resources_key": "GPU",
}

# Fields of each kind, and which payloads are harmless for a kind (a directive may hold quotes,
# ';' or '|' — sbatch reads the line, bash sees a comment — but never '$', '`' or a newline).
NAME_FIELDS = ["conda", "queue_conda", "queue_name", "default_queue"]
HOST_FIELDS = ["hostname", "ssh_hostname", "network_interface"]
PATH_FIELDS = ["bufferdir", "database_dir", "tmpdir"]
QUEUE_FIELDS = ["walltime", "memory", "tmpdir", "partition", "project", "unknown_task_duration",
                "target_duration", "lifetime_stagger", "lifetime", "job_extra_directives",
                "extra_dask_config_key", "dask_resources_key", "memory_per_core_property_name"]


def yaml_str(value: str) -> str:
    """*value* as a double-quoted YAML scalar (control characters escaped)."""
    out = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def payloads(canary: str) -> list[tuple[str, str]]:
    """(category, value): values that would run code, break a quote or a line, or climb a path."""
    touch = f"touch {canary}"
    return [
        ("fstring", f"x{{__import__('os').system('{touch}')}}"),
        ("fstring", f"{{open('{canary}', 'w')}}"),
        ("fstring", "{config}"),
        ("quote", f"a'+__import__('os').system('{touch}')+'"),
        ("quote", f'a"; {touch}; "'),
        ("shell", f"$({touch})"),
        ("shell", f"`{touch}`"),
        ("shell", f"a;{touch}"),
        ("shell", f"a|{touch}"),
        ("shell", f"a && {touch}"),
        ("shell", "${IFS}x"),
        ("newline", f"a\n{touch}"),
        ("newline", f"a\r\n#SBATCH --wrap={touch}"),
        ("nul", "a\x00b"),
        ("dotdot", "../../etc"),
        ("dash-host", f"-oProxyCommand={touch}"),
    ]


def _harmless(field: str, value: str) -> bool:
    """Payloads a field may legitimately hold: a directive may hold quotes, braces, ';' or '|' (sbatch reads
    the line, bash sees a comment), never '$', '`' or a line break."""
    if field == "job_extra_directives":
        return "$" not in value and "`" not in value and not any(c in value for c in "\n\r\x00")
    return False


def _cluster_text(**fields: str) -> str:
    values = {f"F_{k}": v for k, v in GOOD.items()}
    values.update({f"F_{k}": v for k, v in fields.items()})
    return CLUSTER.format(**values)


def _indent(text: str, n: int) -> str:
    return "".join(" " * n + line if line.strip() else line for line in text.splitlines(True))


class Builder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.cases: list[Case] = []
        self.canary = str(root / "canary" / "pwned")
        (root / "canary").mkdir(parents=True, exist_ok=True)

    def _dirs(self, case_id: str) -> tuple[Path, Path]:
        base = self.root / "cases" / case_id
        proj, home = base / "proj", base / "home"
        proj.mkdir(parents=True)
        (home / ".seamless").mkdir(parents=True)
        return proj, home

    def add(self, case_id: str, category: str, *, files: dict[str, str | bytes] | None = None,
            action: str = "load", expect_file: str | None = None, whole_file: bool = False,
            heavy: bool = False, expect_ok: bool = False, stage: str | None = None,
            args: Any = None, expect_word: str | None = None, env: dict[str, str] | None = None,
            special: dict[str, Any] | None = None) -> None:
        case_id = f"{len(self.cases):03d}-{case_id}"
        proj, home = self._dirs(case_id)
        for rel, content in (files or {}).items():
            path = (home / ".seamless" / rel[2:]) if rel.startswith("~/") else (proj / rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        for kind, spec in (special or {}).items():
            self._special(kind, spec, proj, home)
        expected = None
        if expect_file is not None:
            expected = str((home / ".seamless" / expect_file[2:]) if expect_file.startswith("~/") else (proj / expect_file))
        self.cases.append({
            "id": case_id, "category": category, "action": action, "proj": str(proj), "home": str(home),
            "expect_file": expected, "whole_file": whole_file, "heavy": heavy, "expect_ok": expect_ok,
            "stage": stage, "args": args, "expect_word": expect_word, "env": env or {},
        })

    def _special(self, kind: str, spec: Any, proj: Path, home: Path) -> None:
        def where(rel: str) -> Path:
            return (home / ".seamless" / rel[2:]) if rel.startswith("~/") else (proj / rel)

        if kind == "symlink":
            for rel, target in spec.items():
                path = where(rel)
                path.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(target if target.startswith("/") else str(path.parent / target), path)
        elif kind == "fifo":
            for rel in spec:
                os.mkfifo(where(rel))
        elif kind == "sparse":
            for rel, size in spec.items():
                with open(where(rel), "wb") as handle:
                    handle.write(b"- project: p\n# ")
                    handle.truncate(size)
        elif kind == "chmod0":
            for rel in spec:
                os.chmod(where(rel), 0)
        elif kind == "dir":
            for rel in spec:
                where(rel).mkdir(parents=True)
                (where(rel) / "seamless.yaml").write_text("- project: p\n")


def _bomb(levels: int = 9, width: int = 9) -> str:
    text = "a: &a [" + ", ".join(['"lol"'] * width) + "]\n"
    for i in range(1, levels):
        name, prev = chr(ord("a") + i), chr(ord("a") + i - 1)
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * width) + "]\n"
    return text


def build(root: Path) -> list[Case]:
    b = Builder(root)
    canary = b.canary

    # ---------------------------------------------------------------- payloads in every cluster field
    for field in dict.fromkeys(NAME_FIELDS + HOST_FIELDS + PATH_FIELDS + QUEUE_FIELDS):
        for n, (category, value) in enumerate(payloads(canary)):
            if _harmless(field, value):
                continue
            cat = "queue-injection" if field in QUEUE_FIELDS else category
            b.add(f"{field}-{category}{n}", cat, files={"seamless.yaml": PROJECT_FILE,
                  "~/clusters.yaml": _cluster_text(**{field: yaml_str(value)})}, expect_file="~/clusters.yaml")
    # the same injections through an inline 'clusters' command of a cloned repository's seamless.yaml
    for field in QUEUE_FIELDS:
        value = f"x\n{canary}"
        b.add(f"inline-{field}", "queue-injection", files={
            "seamless.yaml": "- clusters:\n" + _indent(_cluster_text(**{field: yaml_str(value)}), 4) + PROJECT_FILE},
            expect_file="seamless.yaml")
    # job_script_prologue: shell by design; one line each in ~/.seamless, never from a project file
    prologue_q = _cluster_text().replace("      cores: 16\n", "      cores: 16\n      job_script_prologue: [{P}]\n")
    b.add("prologue-newline", "queue-injection", files={"seamless.yaml": PROJECT_FILE,
          "~/clusters.yaml": prologue_q.replace("{P}", yaml_str(f"module load x\ntouch {canary}"))},
          expect_file="~/clusters.yaml")
    b.add("prologue-nul", "queue-injection", files={"seamless.yaml": PROJECT_FILE,
          "~/clusters.yaml": prologue_q.replace("{P}", yaml_str("module load x\x00"))}, expect_file="~/clusters.yaml")
    b.add("prologue-in-project-file", "queue-injection", files={
        "seamless.yaml": "- clusters:\n" + _indent(prologue_q.replace("{P}", yaml_str(f"touch {canary}")), 4) + PROJECT_FILE},
        expect_file="seamless.yaml")
    b.add("prologue-in-profile", "queue-injection", files={"seamless.yaml": "- project: p\n",
          "seamless.profile.yaml": "- clusters:\n" + _indent(prologue_q.replace("{P}", yaml_str("module load x")), 4)
          + "- cluster: hpc\n"}, expect_file="seamless.profile.yaml")
    b.add("prologue-template-queue", "queue-injection", files={"seamless.yaml": PROJECT_FILE,
          "~/clusters.yaml": _cluster_text() + "    gpu:\n      TEMPLATE: default\n      job_script_prologue: ["
          + yaml_str(f"a\r{canary}") + "]\n"}, expect_file="~/clusters.yaml")

    # ---------------------------------------------------------------- payloads in project commands
    for command in ("project", "subproject", "cluster", "queue"):
        for n, (category, value) in enumerate(payloads(canary)):
            b.add(f"cmd-{command}-{category}{n}", category,
                  files={"seamless.yaml": f"- {command}: {yaml_str(value)}\n"}, expect_file="seamless.yaml")
    for n, (category, value) in enumerate(payloads(canary)):
        if "\n" in value or "\r" in value:
            continue
        b.add(f"stage-block-{category}{n}", category,
              files={"seamless.yaml": f"- project: p\n- {yaml_str('stage ' + value)}:\n    - record: true\n"},
              expect_file="seamless.yaml")
    b.add("cluster-name-fstring", "fstring", files={"seamless.yaml": "- project: p\n",
          "~/clusters.yaml": _cluster_text().replace("hpc:\n", yaml_str(f"h{{open('{canary}','w')}}") + ":\n", 1)},
          expect_file="~/clusters.yaml")
    b.add("node-shell", "shell", files={"seamless.yaml": PROJECT_FILE + f"- node: {yaml_str('n1;touch ' + canary)}\n",
          "~/clusters.yaml": _cluster_text()}, expect_file="seamless.yaml")
    b.add("node-quote", "quote", files={"seamless.yaml": PROJECT_FILE + "- node: \"n1'\"\n",
          "~/clusters.yaml": _cluster_text()}, expect_file="seamless.yaml")
    for n, (old, new) in enumerate([("  type: slurm\n", "  type: slurm\n  workers: 1000000000\n"),
                                    ("      cores: 16\n", "      cores: -1\n"),
                                    ("      maximum_jobs: 20\n", "      maximum_jobs: 1000000000000\n"),
                                    ("      cores: 16\n", "      cores: 16\n      worker_threads: 0\n")]):
        b.add(f"count-{n}", "counts", files={"seamless.yaml": PROJECT_FILE,
              "~/clusters.yaml": _cluster_text().replace(old, new)}, expect_file="~/clusters.yaml")
    b.add("inline-fork-bomb", "counts", files={"seamless.yaml": "- clusters:\n" + _indent(
          "l:\n  type: local\n  workers: 100000\n  frontends:\n    - hostname: localhost\n", 4)
          + "- cluster: l\n- execution: spawn\n"}, expect_file="seamless.yaml")
    b.add("long-project-name", "names", files={"seamless.yaml": "- project: " + "p" * 5000 + "\n"},
          expect_file="seamless.yaml")
    b.add("long-hostname", "names", files={"seamless.yaml": PROJECT_FILE,
          "~/clusters.yaml": _cluster_text(hostname="h" * 300)}, expect_file="~/clusters.yaml")

    # ---------------------------------------------------------------- bytes the reader must refuse
    for n, (raw, line) in enumerate([(b"- project: \xff\xfe\n", 1), (b"- project: p\n- cluster: \xc3\x28\n", 2),
                                     (b"# caf\xe9\n- project: p\n", 1), (b"- project: p\n" * 40 + b"- x: \x80\n", 41),
                                     (b"\xef\xbb\xbf- project: \xed\xa0\x80\n", 1)]):
        b.add(f"non-utf8-{n}", "non-utf8", files={"seamless.yaml": raw}, expect_file="seamless.yaml")
    b.add("non-utf8-clusters", "non-utf8", files={"seamless.yaml": PROJECT_FILE,
          "~/clusters.yaml": _cluster_text().encode().replace(b"acct1", b"acct\xff")}, expect_file="~/clusters.yaml")
    for n, char in enumerate(["\x00", "\x07", "\x1b", "\x08", "\x7f", "\x0c", "\ufffe"]):
        b.add(f"control-{n}", "nul" if char == "\x00" else "control",
              files={"seamless.yaml": f"- project: p\n- cluster: a{char}b\n"}, expect_file="seamless.yaml")
    b.add("nul-in-clusters", "nul", files={"seamless.yaml": PROJECT_FILE,
          "~/clusters.yaml": _cluster_text().replace("acct1", "acct\x00; touch " + canary)},
          expect_file="~/clusters.yaml")
    b.add("nul-in-comment", "nul", files={"seamless.yaml": "- project: p # \x00\n"}, expect_file="seamless.yaml")

    # ---------------------------------------------------------------- YAML structure
    for n, text in enumerate(['- project: p\n- cluster: "abc\n- x: 1\n', "- project: 'p\n",
                              "- clusters: [a, b\n- x: 1\n", "- clusters: {a: 1,\n  b: 2\n"]):
        b.add(f"unclosed-{n}", "unclosed", files={"seamless.yaml": text}, expect_file="seamless.yaml")
    b.add("duplicate-command-key", "duplicate", files={"seamless.yaml": "- {project: a, project: b}\n"},
          expect_file="seamless.yaml")
    b.add("duplicate-cluster", "duplicate", files={"seamless.yaml": PROJECT_FILE,
          "~/clusters.yaml": _cluster_text() + _cluster_text(hostname="other")}, expect_file="~/clusters.yaml")
    b.add("duplicate-field", "duplicate", files={"seamless.yaml": PROJECT_FILE,
          "~/clusters.yaml": _cluster_text().replace("      cores: 16\n", "      cores: 16\n      cores: 2\n")},
          expect_file="~/clusters.yaml")
    b.add("python-tag", "fstring", files={"seamless.yaml": f"- project: !!python/object/apply:os.system ['touch {canary}']\n"},
          expect_file="seamless.yaml")
    b.add("recursive-alias", "alias-bomb", files={"seamless.yaml": "- &a [*a]\n"}, expect_file="seamless.yaml")

    # ---------------------------------------------------------------- resources (each in its own process)
    b.add("billion-laughs", "alias-bomb", files={"seamless.yaml": _bomb()}, expect_file="seamless.yaml", heavy=True)
    b.add("billion-laughs-clusters", "alias-bomb", files={"seamless.yaml": PROJECT_FILE, "~/clusters.yaml":
          _bomb().replace("a: &a", "x: &a", 1) + _cluster_text()}, expect_file="~/clusters.yaml", heavy=True)
    b.add("merge-key-bomb", "alias-bomb", files={"seamless.yaml": "a: &a {x: 1, y: 2}\n" + "".join(
          f"m{i}: &m{i}\n  <<: [" + ", ".join([f"*{'a' if i == 0 else 'm' + str(i - 1)}"] * 8) + "]\n  k: 1\n"
          for i in range(8))}, expect_file="seamless.yaml", heavy=True)
    b.add("wide-bomb", "alias-bomb", files={"seamless.yaml": "a: &a [" + ", ".join(["x"] * 1000) + "]\nb: ["
          + ", ".join(["*a"] * 1000) + "]\n"}, expect_file="seamless.yaml", heavy=True)
    b.add("deep-flow-seq", "deep", files={"seamless.yaml": "- project: " + "[" * 10000 + "]" * 10000 + "\n"},
          expect_file="seamless.yaml", heavy=True)
    b.add("deep-flow-map", "deep", files={"seamless.yaml": "- clusters: " + "{a: " * 10000 + "1" + "}" * 10000 + "\n"},
          expect_file="seamless.yaml", heavy=True)
    b.add("deep-block", "deep", files={"seamless.yaml": "- clusters:\n" + "".join(
          "  " * (i + 2) + f"k{i}:\n" for i in range(1000)) + "  " * 1002 + "x: 1\n"},
          expect_file="seamless.yaml", heavy=True)
    b.add("deep-dashes", "deep", files={"seamless.yaml": "- " * 10000 + "x\n"}, expect_file="seamless.yaml", heavy=True)
    b.add("deep-unclosed", "deep", files={"seamless.yaml": "- project: " + "[" * 200000 + "\n"},
          expect_file="seamless.yaml", heavy=True)
    b.add("deep-clusters-file", "deep", files={"seamless.yaml": PROJECT_FILE,
          "~/clusters.yaml": "hpc: " + "[" * 10000 + "\n"}, expect_file="~/clusters.yaml", heavy=True)
    b.add("huge-50mb", "huge", files={"seamless.yaml": "- project: p\n# " + "x" * (50 * 1024 * 1024) + "\n"},
          expect_file="seamless.yaml", whole_file=True, heavy=True)
    b.add("huge-sparse-4gb", "huge", special={"sparse": {"seamless.yaml": 4 * 1024 ** 3}},
          expect_file="seamless.yaml", whole_file=True, heavy=True)
    b.add("huge-clusters", "huge", files={"seamless.yaml": PROJECT_FILE},
          special={"sparse": {"~/clusters.yaml": 60 * 1024 * 1024}}, expect_file="~/clusters.yaml",
          whole_file=True, heavy=True)
    b.add("huge-flow-list", "huge", files={"seamless.yaml": "- clusters: [" + "1, " * 600_000 + "]\n"},
          expect_file="seamless.yaml", heavy=True)
    b.add("long-comment-1mb", "long-line", files={"seamless.yaml": "- project: p\n# " + "x" * 1_000_000 + "\n"},
          heavy=True, expect_ok=True)
    b.add("long-value-1mb", "long-line", files={"seamless.yaml": "- project: " + "p" * 1_000_000 + "\n"},
          expect_file="seamless.yaml", heavy=True)
    b.add("long-flow-line", "long-line", files={"seamless.yaml": "- clusters: {" + ", ".join(
          f"k{i}: !!str v" for i in range(9000)) + "}\n"}, expect_file="seamless.yaml", heavy=True)
    b.add("size-setting-bad", "env", files={"seamless.yaml": "- project: p\n"},
          env={"SEAMLESS_CONFIG_MAX_FILE_SIZE": "lots"}, expect_word="SEAMLESS_CONFIG_MAX_FILE_SIZE")

    # ---------------------------------------------------------------- files that cannot be read
    b.add("symlink-loop", "symlink", special={"symlink": {"seamless.yaml": "seamless.yaml"}},
          expect_file="seamless.yaml", whole_file=True)
    b.add("symlink-loop-pair", "symlink", special={"symlink": {"a.yaml": "seamless.yaml", "seamless.yaml": "a.yaml"}},
          expect_file="seamless.yaml", whole_file=True)
    b.add("symlink-loop-clusters", "symlink", files={"seamless.yaml": PROJECT_FILE},
          special={"symlink": {"~/clusters.yaml": "clusters.yaml"}}, expect_file="~/clusters.yaml",
          whole_file=True)
    b.add("symlink-loop-clusters-dir", "symlink", files={"seamless.yaml": PROJECT_FILE},
          special={"symlink": {"~/clusters/x.yaml": "x.yaml"}}, expect_file="~/clusters/x.yaml",
          whole_file=True)
    b.add("symlink-dangling", "symlink", special={"symlink": {"seamless.profile.yaml": "/nonexistent/x.yaml"}},
          files={"seamless.yaml": "- project: p\n"}, expect_file="seamless.profile.yaml", whole_file=True)
    b.add("symlink-dev-zero", "unreadable", special={"symlink": {"seamless.yaml": "/dev/zero"}},
          expect_file="seamless.yaml", whole_file=True)
    b.add("symlink-dev-urandom", "unreadable", special={"symlink": {"~/clusters.yaml": "/dev/urandom"}},
          files={"seamless.yaml": "- project: p\n"}, expect_file="~/clusters.yaml", whole_file=True)
    b.add("symlink-to-dir", "unreadable", special={"symlink": {"seamless.yaml": "/"}},
          expect_file="seamless.yaml", whole_file=True)
    b.add("fifo", "unreadable", special={"fifo": ["seamless.yaml"]}, expect_file="seamless.yaml", whole_file=True)
    b.add("fifo-profile", "unreadable", files={"seamless.yaml": "- project: p\n"},
          special={"fifo": ["seamless.profile.yaml"]}, expect_file="seamless.profile.yaml", whole_file=True)
    if os.geteuid() != 0:  # root reads mode-000 files
        b.add("mode-000", "unreadable", files={"seamless.yaml": "- project: p\n"}, special={"chmod0": ["seamless.yaml"]},
              expect_file="seamless.yaml", whole_file=True)
        b.add("mode-000-clusters", "unreadable", files={"seamless.yaml": PROJECT_FILE, "~/clusters.yaml": "x: {}\n"},
              special={"chmod0": ["~/clusters.yaml"]}, expect_file="~/clusters.yaml", whole_file=True)

    # ---------------------------------------------------------------- API calls
    for n, arg in enumerate(["notadict", 3, None, ["a"], b"x"]):
        b.add(f"define-clusters-{type(arg).__name__}{n}", "api", action="define_clusters", args=repr(arg),
              expect_word="define_clusters")
    for n, (category, value) in enumerate(payloads(canary)):
        b.add(f"define-clusters-hostname-{category}{n}", category, action="define_clusters",
              args=repr({"c": {"type": "local", "frontends": [{"hostname": value}]}}), expect_word="hostname")
        b.add(f"define-clusters-partition-{category}{n}", "queue-injection", action="define_clusters",
              args=repr({"c": {"type": "slurm", "frontends": [{"hostname": "h"}],
                               "queues": {"q": {"cores": 1, "partition": value}}}}), expect_word="partition")
        for function in ("select_project", "select_stage", "select_cluster"):
            b.add(f"{function}-{category}{n}", category, action=function, args=repr(value),
                  expect_word=function.split("_")[1])
    b.add("select-project-long", "names", action="select_project", args=repr("p" * 100_000), expect_word="project")
    b.add("define-clusters-extra-dask-key", "queue-injection", action="define_clusters",
          args=repr({"c": {"type": "slurm", "frontends": [{"hostname": "h"}], "queues": {"q": {
              "cores": 1, "extra_dask_config": {f"distributed.worker.x$(touch {canary})": 1}}}}}),
          expect_word="extra_dask_config")

    # ---------------------------------------------------------------- the CLI (in-process) and the environment
    for n, stage in enumerate(["a" * 100_000, f"$(touch {canary})", f"x{{open('{canary}','w')}}", "-x", "a/../b",
                               "ok:" + "b" * 100_000, ":sub", "a\nb"]):
        b.add(f"cli-stage-{n}", "cli", action="cli", files={"seamless.yaml": "- project: p\n"},
              args=["--stage", stage], expect_word="stage")
    for n, raw in enumerate(['{"database": 3', "[1, 2]", '{"buffer": [{"url": 5}]}', '{"x": []}', "not json",
                             "[" * 100_000, '{"database": [{"readonly": "yes"}]}']):
        b.add(f"env-remote-clients-{n}", "env", action="remote_clients_env", env={"SEAMLESS_REMOTE_CLIENTS": raw},
              expect_word="SEAMLESS_REMOTE_CLIENTS")
    return b.cases


def write(root: Path) -> Path:
    cases = build(root)
    path = root / "cases.json"
    path.write_text(json.dumps(cases), encoding="utf-8")
    return path


def cleanup_permissions(root: Path) -> None:
    """Give mode-000 files back their permissions (so that pytest can remove tmp_path)."""
    for path in root.rglob("*"):
        try:
            if not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) == 0:
                os.chmod(path, 0o600)
        except OSError:
            pass
