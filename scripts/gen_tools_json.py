"""Write src/seamless_config/core/tools.json: tools.yaml, parsed (what core.launch reads at run time).

Parsing the YAML costs ~20 ms of every ``seamless-init`` and ``init()``; the JSON copy costs
almost nothing. tools.yaml stays the file to edit; after editing it run

    .venv/bin/python scripts/gen_tools_json.py

(tests/unit/test_warm_fast_path.py fails while tools.json is stale).
"""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "src" / "seamless_config" / "core"


def tools_json() -> str:
    from seamless_config.core.yaml_io import parse_yaml

    text = (CORE / "tools.yaml").read_text("utf-8")
    data = parse_yaml(text, Path("seamless_config/core/tools.yaml")).data
    # The CRC of the text it was made from: core.launch parses the YAML itself when they differ.
    return json.dumps({"source_crc32": zlib.crc32(text.encode("utf-8")), "tools": data}, indent=1) + "\n"


def main() -> None:
    (CORE / "tools.json").write_text(tools_json(), encoding="utf-8")
    print(f"wrote {CORE / 'tools.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
