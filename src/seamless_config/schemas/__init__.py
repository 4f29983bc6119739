"""The JSON Schemas of the configuration files, generated from ``core/fields.py``.

``project.schema.json`` (seamless.yaml, seamless.profile.yaml) and
``clusters.schema.json`` (~/.seamless/clusters.yaml, clusters/*.yaml) ship in
the package; ``python -m seamless_config.schemas`` rewrites them and a test
checks that they are up to date.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FILES = {"project": "project.schema.json", "clusters": "clusters.schema.json"}


def generate(which: str) -> dict[str, Any]:
    from ..core.fields import cluster_file_schema, command_value_schemas, project_file_schema

    return project_file_schema(command_value_schemas()) if which == "project" else cluster_file_schema()


def load_schema(which: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / FILES[which]).read_text(encoding="utf-8"))
    return data


def write_all() -> None:
    for which, filename in FILES.items():
        (HERE / filename).write_text(json.dumps(generate(which), indent=2) + "\n", encoding="utf-8")

