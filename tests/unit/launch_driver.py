#!/usr/bin/env python3
"""Compute launch dicts with whatever ``seamless_config`` this interpreter imports.

Standalone (imports nothing from this repository) so that the same script runs
under the reference implementation (0.3.2, in its own venv) and under ours.

    python launch_driver.py < cases.json > results.json

Each case: ``{"clusters": {...}, "select": {"cluster": .., "project": .., ...},
"calls": [[function, {kwargs}], ...]}``. The result for each call is
``{"value": <launch dict>}`` or ``{"error": <exception class name>}``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

SELECT_ORDER = ("cluster", "project", "subproject", "stage", "substage", "queue", "node", "record")


def run_case(case: dict[str, Any]) -> list[dict[str, Any]]:
    import seamless_config.config_files as config_files
    import seamless_config.select as select
    import seamless_config.tools as tools
    from seamless_config.cluster import define_clusters

    if hasattr(config_files, "load_tools"):
        config_files.load_tools()  # the reference registers tools.yaml here
    define_clusters(case["clusters"])
    selection = case.get("select", {})
    for name in SELECT_ORDER:
        if name in selection:
            getattr(select, f"select_{name}")(selection[name])
    results = []
    for function, kwargs in case["calls"]:
        mode = kwargs.pop("mode", None)
        args = (mode,) if mode is not None else ()
        try:
            value = getattr(tools, function)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the outcome is the datum
            results.append({"error": type(exc).__name__, "message": str(exc)})
        else:
            results.append({"value": json.loads(json.dumps(value))})
    return results


def main() -> None:
    cases = json.load(sys.stdin)
    out = []
    for case in cases:
        # A fresh module state per case: the reference keeps globals.
        for name in [m for m in sys.modules if m == "seamless_config" or m.startswith("seamless_config.")]:
            del sys.modules[name]
        out.append(run_case(case))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
