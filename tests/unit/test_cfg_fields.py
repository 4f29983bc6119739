"""The one field description (core/fields.py) matches the model and drives the loader's checks."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from seamless_config.core import model
from seamless_config.core.clusters import ClusterSource, check_registry
from seamless_config.core.fields import (
    CLUSTER, DASKSERVER, DATABASE, FRONTEND, HASHSERVER, JOBSERVER, QUEUE, SHAPES, Diagnostics, Field, Shape,
    markdown_table,
)
from seamless_config.core.yaml_io import Here, parse_yaml


@pytest.mark.parametrize("shape, cls", [
    (HASHSERVER, model.HashserverSpec), (DATABASE, model.DatabaseSpec), (JOBSERVER, model.JobserverSpec),
    (DASKSERVER, model.DaskserverSpec), (QUEUE, model.Queue),
])
def test_every_model_field_is_described(shape: Shape, cls: type) -> None:
    described = {f.name for f in shape.fields}
    assert described == {f.name for f in dataclasses.fields(cls)} - {"name"}


def test_cluster_and_frontend_fields_are_described() -> None:
    assert set(CLUSTER.keys) == {f.name for f in dataclasses.fields(model.Cluster)} - {"name"}
    assert set(FRONTEND.keys) == {f.name for f in dataclasses.fields(model.Frontend)}


def _document(shape: Shape, key: str, value: Any) -> dict[str, Any]:
    """A valid slurm cluster in which *shape*'s *key* is *value*."""
    queue: dict[str, Any] = {"cores": 2}
    frontend: dict[str, Any] = {"hostname": "h"}
    cluster: dict[str, Any] = {"type": "slurm", "frontends": [frontend], "queues": {"q": queue}}
    if shape is CLUSTER:
        cluster[key] = value
    elif shape is FRONTEND:
        frontend[key] = value
    elif shape is QUEUE:
        queue[key] = value
    else:
        service: dict[str, Any] = {f.name: _valid(f) for f in shape.fields if f.required}
        service[key] = value
        frontend[shape.name] = service
    return {"c": cluster}


def _valid(f: Field) -> Any:
    return {"path": "/d", "host": "127.0.0.1", "integer": 1000}.get(f.kind, "x")


def _problems(data: dict[str, Any], tmp_path: Path) -> list[Any]:
    import yaml  # PyYAML, in the test extra: write the document so that positions are real

    path = tmp_path / "clusters.yaml"
    text = yaml.safe_dump(data, sort_keys=False)
    path.write_text(text)
    doc = parse_yaml(text, path)
    diags = Diagnostics()
    check_registry({"c": ClusterSource(doc.data["c"], Here(doc, ("c",)))}, diags)
    return list(diags)


BOUNDED = [(s, f) for s in SHAPES for f in s.fields if f.minimum is not None or f.maximum is not None]


@pytest.mark.parametrize("shape, f", BOUNDED, ids=[f"{s.name}.{f.name}" for s, f in BOUNDED])
def test_bounds_are_enforced_at_the_fields_own_line(shape: Shape, f: Field, tmp_path: Path) -> None:
    outside = [v for v in ((f.minimum - 1) if f.minimum is not None else None,
                           (f.maximum + 1) if f.maximum is not None else None) if v is not None]
    for value in outside:
        problems = _problems(_document(shape, f.name, value), tmp_path)
        [problem] = [p for p in problems if "out of range" in p.reason]
        line = (tmp_path / "clusters.yaml").read_text().splitlines()[problem.location.line - 1]
        assert line.strip().startswith(f"{f.name}: {value}"), (line, problem)


KINDS = [(s, f) for s in SHAPES for f in s.fields if f.kind in ("integer", "boolean", "string", "string_list")]


@pytest.mark.parametrize("shape, f", KINDS, ids=[f"{s.name}.{f.name}" for s, f in KINDS])
def test_wrong_types_are_refused(shape: Shape, f: Field, tmp_path: Path) -> None:
    wrong = {"integer": "4", "boolean": "yes", "string": 3, "string_list": "one"}[f.kind]
    problems = _problems(_document(shape, f.name, wrong), tmp_path)
    assert any(f"'{f.name}'" in p.reason for p in problems), problems


def test_docs_table_lists_every_field() -> None:
    for shape in SHAPES:
        table = markdown_table(shape)
        for f in shape.fields:
            assert f"| `{f.name}` |" in table
