"""Run one launch in a fresh process (ours or the reference) and print JSON.

    python _runner.py ours CONF.json [SSH_CONFIG]
    python _runner.py ref CONF.json

Prints {"result": ..., "outcome": <last "done" phase>, "connections": N, "elapsed": s}
or {"error": "..."} (exit code 1).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))


def run_ours(conf: dict[str, Any], ssh_config: str | None) -> dict[str, Any]:
    import anyio

    from seamless_config.remote import ConnectionPool, ensure_service

    phases: list[list[str]] = []

    async def main() -> dict[str, Any]:
        async with ConnectionPool(ssh_config=ssh_config) as pool:
            result = await ensure_service(
                conf, pool=pool, on_phase=lambda p, r: phases.append([p, r]), timeout=90
            )
            return {"result": result, "connections": pool.connections_opened}

    start = time.perf_counter()
    out = anyio.run(main)
    out["elapsed"] = time.perf_counter() - start
    out["phases"] = phases
    out["outcome"] = next((r for p, r in reversed(phases) if p == "done"), None)
    return out


def run_ref(conf: dict[str, Any]) -> dict[str, Any]:
    import remote_http_launcher

    start = time.perf_counter()
    result = remote_http_launcher.run(dict(conf, log_level="minimal"))
    return {"result": result, "elapsed": time.perf_counter() - start}


def main() -> int:
    which, conf_path = sys.argv[1], sys.argv[2]
    conf = json.loads(Path(conf_path).read_text())
    try:
        if which == "ours":
            out = run_ours(conf, sys.argv[3] if len(sys.argv) > 3 else None)
        else:
            out = run_ref(conf)
    except Exception as exc:  # noqa: BLE001  (reported to the test)
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
