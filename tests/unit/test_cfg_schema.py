"""The JSON Schemas and the loader accept the same documents.

Documents: every cluster file and project file of the differential corpus
(tests/differential/corpus.py), the broken-file corpus of
tests/config_cli/broken, the examples, and the unit tests' cluster texts.
For each, the loader's verdict (no problem reported) and the schema's verdict
(jsonschema) must agree; where they differ, every problem the loader reported
must come from a rule that JSON Schema cannot express (listed in
``core/fields.py`` with ``schema=None``). Documents that are not YAML at all
are left out (a schema sees only parsed data).
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from unit_helpers import HPC_CLUSTER, LOCAL_CLUSTER

from seamless_config.core.clusters import check_registry
from seamless_config.core.fields import Diagnostics, unexpressible_messages
from seamless_config.core.resolve import cluster_sources_from_files
from seamless_config.core.validate import validate
from seamless_config.core.yaml_io import YamlDocument, parse_yaml
from seamless_config.errors import ConfigFileError
from seamless_config.schemas import FILES, HERE, generate, load_schema

REPO = Path(__file__).resolve().parents[2]
# Context rules of the command language (they need the selected cluster): no schema can know them.
CONTEXT = ("select a cluster before", "is not defined", "has no queue", "defines no queues", "unknown cluster")


def _corpus_files(tmp: Path) -> Iterator[tuple[str, str]]:
    spec = importlib.util.spec_from_file_location("_schema_corpus", REPO / "tests" / "differential" / "corpus.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    for case in mod.generate(tmp / "corpus", mod.DEFAULT_SEED):
        root = Path(case["root"])
        for path in sorted(root.rglob("*.yaml")):
            yield str(path.relative_to(root)), path.read_text(encoding="utf-8", errors="replace")
    for path in sorted((REPO / "tests" / "config_cli" / "broken").rglob("*.yaml")):
        yield path.name, path.read_text()
    for path in sorted((REPO / "examples").rglob("*.yaml")):
        yield path.name, path.read_text()
    yield "clusters.yaml", LOCAL_CLUSTER
    yield "clusters.yaml", HPC_CLUSTER
    yield from shell_field_documents()


# Values of the fields names.py checks before they reach a job script, a shell word or a key
# (partition, project, tmpdir, memory, durations, directives, prologue lines, Dask mappings, counts,
# names): safe ones, unsafe ones and ones that differ from a safe one only by a trailing newline.
_UNSAFE_STRINGS = ["a;b", "a b", "$(x)", "`x`", "a\nb", "ok\n", "-p", "x\u0007", "a|b", "'q'"]
SHELL_FIELD_VALUES: dict[str, list[Any]] = {
    "partition": ["gpu", "gpu,big", "a.b+c", "x" * 256, "x" * 257, *_UNSAFE_STRINGS],
    "project": ["acct_1", "a,", ",a", *_UNSAFE_STRINGS],
    "tmpdir": ["/tmp", "$TMPDIR", "/scratch/${USER}/x", "$IFS", "${IFS}x", "$IFSX", "/a/../b", "..", "a/..",
               "/a/..b", "~/t", "x" * 1025, *_UNSAFE_STRINGS],
    "memory": ["32000MB", "16 GiB", "2.5GB", 1000, -1, "1GBXX", "1e3", "x" * 40, *_UNSAFE_STRINGS],
    "walltime": ["01:00:00", "1-12:00:00", "10m", "1.5h", "2 hours", 3600, "1:2:3:4:5", *_UNSAFE_STRINGS],
    "lifetime": ["10m", "x10m", *_UNSAFE_STRINGS],
    "unknown_task_duration": ["1m", "1m;"], "target_duration": ["10m", "10m\n"], "lifetime_stagger": ["4m", "4 m s"],
    "job_extra_directives": [["--gres=gpu:1"], ["-A acct", "--constraint=a|b", "host='n1'"], ["$HOME"],
                             ["`x`"], ["a\nb"], ["ok\n"], ["x" * 1025], ["\u00e9"], []],
    "job_script_prologue": [["module load cuda"], ["export A=$B; cd `x`"], ["a\nb"], ["ok\n"], ["x\u0007"],
                            ["\u2028"], ["x" * 4097], [], None],
    "extra_dask_config": [{"distributed.worker.memory.target": 0.6}, {"a-b.c_d": [1, "x", None, True]},
                          {"a b": 1}, {"1a": 1}, {"k": "x\ny"}, {"k": "ok\n"}, {"k": {"n.m": [1, {"o": "p"}]}},
                          {"k": {"bad key": 1}}, {"k": "x" * 4097}, {"k" * 257: 1}],
    "dask_resources": [{"GPU": 1}, {"G;PU": 1}, {"GPU\n": 1}],
    "cores": [1, 100000, 100001], "job_cores": [100001], "processes": [100000], "worker_threads": [100001],
    "maximum_jobs": [0, 100001],
}
CLUSTER_FIELD_VALUES: dict[str, list[Any]] = {
    "workers": [1, 1024, 1025],
    "memory_per_core_property_name": ["memcore", "mem,core", "mem core", "m\n", "$(x)"],
}
NAME_VALUES = ["ok", "x" * 64, "x" * 65, "ok\n", "a--b"]
HOST_VALUES = ["login", "a" * 63, "a" * 64, ("a" * 63 + ".") * 3 + "a" * 61, ("a" * 63 + ".") * 3 + "a" * 61 + ".",
               ("a" * 63 + ".") * 3 + "a" * 62, "127.0.0.1", "::1", "h_1", "-h", "h\n"]


def _cluster_text(name: str, queue: str, field: str | None, value: Any, top: dict[str, Any] | None = None) -> str:
    queue_def: dict[str, Any] = {"cores": 1, "conda": ""}
    if field is not None:
        queue_def[field] = value
    cluster = {"type": "slurm", **(top or {}), "frontends": [{"hostname": "login"}], "queues": {queue: queue_def}}
    return json.dumps({name: cluster})


def shell_field_documents() -> Iterator[tuple[str, str]]:
    for field, values in SHELL_FIELD_VALUES.items():
        for value in values:
            text = _cluster_text("c", "q", field, value)
            yield "clusters.yaml", text
            yield "seamless.yaml", f"- project: p\n- clusters: {text}\n"  # inline: no job_script_prologue
            if "_" in field:
                yield "clusters.yaml", _cluster_text("c", "q", field.replace("_", "-"), value)
    for field, values in CLUSTER_FIELD_VALUES.items():
        for value in values:
            yield "clusters.yaml", _cluster_text("c", "q", None, None, {field: value})
    for value in NAME_VALUES:
        yield "clusters.yaml", _cluster_text(value, "q", None, None)
        yield "clusters.yaml", _cluster_text("c", value, None, None)
        yield "clusters.yaml", _cluster_text("c", "q", "conda", value)
        yield "seamless.yaml", f"- project: {json.dumps(value)}\n"
        yield "seamless.yaml", f"- {json.dumps('stage ' + value)}:\n  - record: true\n"
        yield "seamless.yaml", f"- subproject: {json.dumps(value + '/' + value)}\n"
    for value in HOST_VALUES:
        yield "clusters.yaml", json.dumps({"c": {"type": "slurm", "frontends": [{"hostname": value}]}})


def _jsonable(value: Any) -> Any:
    """The parsed YAML as JSON data; values JSON has no type for become objects (no schema accepts them)."""
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return {"$non-string-key": True}
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime.date, bytes)) or (isinstance(value, float) and value != value):
        return {"$yaml": repr(value)}
    return value


def _is_cluster_file(name: str) -> bool:
    return "seamless" in name and "clusters" in name or name.endswith("clusters.yaml") or "/clusters/" in name


def _loader_problems(name: str, doc: YamlDocument, tmp: Path) -> list[ConfigFileError]:
    diags = Diagnostics()
    if _is_cluster_file(name) or name.endswith(".clusters.yaml"):
        if doc.data is not None and not isinstance(doc.data, dict):
            return [ConfigFileError("expected a mapping of cluster names")]
        check_registry(diags.guard(lambda: cluster_sources_from_files([doc]), {}), diags)
        return list(diags)
    project = tmp / "p"
    project.mkdir(exist_ok=True)
    target = project / "seamless.yaml"
    target.write_text(doc.path.read_text() if doc.path.exists() else "", encoding="utf-8")
    report = validate(project, tmp / "nohome")
    # A project file alone cannot define the cluster it selects: context problems are not the document's.
    return [ConfigFileError(p.message) for p in report.problems if not any(c in p.message for c in CONTEXT)]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, YamlDocument]]:
    tmp = tmp_path_factory.mktemp("schema")
    docs = []
    for i, (name, text) in enumerate(_corpus_files(tmp)):
        path = tmp / "docs" / f"{i}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        try:
            docs.append((name, parse_yaml(text, path)))
        except ConfigFileError:
            continue  # not YAML: nothing for a schema to see
    return docs


def test_shipped_schemas_are_generated_from_the_field_description() -> None:
    for which, filename in FILES.items():
        assert json.loads((HERE / filename).read_text()) == generate(which), (
            f"{filename} is stale: run python -m seamless_config.schemas")
        jsonschema.Draft202012Validator.check_schema(load_schema(which))


def test_schema_and_loader_accept_the_same_documents(documents: list[tuple[str, YamlDocument]],
                                                      tmp_path: Path) -> None:
    validators = {w: jsonschema.Draft202012Validator(load_schema(w)) for w in FILES}
    allowed = unexpressible_messages() + CONTEXT
    mismatches: list[str] = []
    by_rule: dict[str, int] = {}
    counts = {"documents": 0, "accepted by both": 0, "rejected by both": 0, "unexpressible rule": 0}
    for name, doc in documents:
        is_cluster = _is_cluster_file(name) or name.endswith(".clusters.yaml")
        problems = _loader_problems(name, doc, tmp_path)
        schema_errors = list(validators["clusters" if is_cluster else "project"].iter_errors(_jsonable(doc.data)))
        counts["documents"] += 1
        if bool(problems) == bool(schema_errors):
            counts["accepted by both" if not problems else "rejected by both"] += 1
            continue
        if not problems:
            mismatches.append(f"{name}: the schema rejects what the loader accepts: {schema_errors[0].message}\n"
                              + doc.path.read_text())
            continue
        unexplained = [p.reason for p in problems if not any(m in p.reason for m in allowed)]
        if unexplained:
            mismatches.append(f"{name}: the schema accepts what the loader rejects: {unexplained}\n"
                              + doc.path.read_text())
            continue
        counts["unexpressible rule"] += 1
        for p in problems:
            rule = next(m for m in allowed if m in p.reason)
            by_rule[rule] = by_rule.get(rule, 0) + 1
    print(counts, by_rule)
    assert not mismatches, f"{len(mismatches)} mismatches; the first:\n" + "\n".join(mismatches[:4])
    assert counts["documents"] > 500 and counts["accepted by both"] > 100 and counts["rejected by both"] > 60


def test_the_shell_field_cases_are_in_the_corpus(documents: list[tuple[str, YamlDocument]], tmp_path: Path) -> None:
    """Every field names.py checks has accepted and rejected values among the documents above."""
    verdicts: dict[str, set[bool]] = {}
    texts = {doc.path.read_text(): name for name, doc in documents}
    for field in [*SHELL_FIELD_VALUES, *CLUSTER_FIELD_VALUES]:
        for value in (SHELL_FIELD_VALUES | CLUSTER_FIELD_VALUES)[field]:
            text = (_cluster_text("c", "q", field, value) if field in SHELL_FIELD_VALUES
                    else _cluster_text("c", "q", None, None, {field: value}))
            assert text in texts, (field, value)
            doc = next(d for n, d in documents if d.path.read_text() == text)
            verdicts.setdefault(field, set()).add(not _loader_problems("clusters.yaml", doc, tmp_path))
    for field, seen in verdicts.items():
        if field not in ("unknown_task_duration", "target_duration", "lifetime_stagger", "processes", "job_cores",
                         "worker_threads"):
            assert seen == {True, False}, (field, seen)
