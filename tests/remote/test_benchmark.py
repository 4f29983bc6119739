"""Timings against the reference launcher (printed; run with ``-s`` to see them)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from remote_helpers import RemoteEnv

from seamless_config.remote import ensure_service

pytestmark = [pytest.mark.slow, pytest.mark.ssh]


async def _ours(renv: RemoteEnv, conf: dict[str, Any]) -> tuple[float, int]:
    async with renv.pool() as pool:
        start = time.perf_counter()
        await ensure_service(conf, pool=pool, timeout=90)
        return time.perf_counter() - start, pool.connections_opened


async def test_benchmark_against_reference(ssh_env: RemoteEnv) -> None:
    rows: list[tuple[str, float, float]] = []
    for label, kwargs in (
        ("local", {}),
        ("ssh", {"ssh": True}),
        ("ssh+tunnel", {"ssh": True, "tunnel": True}),
    ):
        ours_conf = ssh_env.conf(name=f"ours{len(rows)}", **kwargs)
        ref_conf = ssh_env.conf(name=f"ref{len(rows)}", **kwargs)
        ours_cold, _ = await _ours(ssh_env, ours_conf)
        ref_cold = (await ssh_env.run_process("ref", ref_conf))["elapsed"]
        ours_warm, connections = await _ours(ssh_env, ours_conf)
        ref_warm = (await ssh_env.run_process("ref", ref_conf))["elapsed"]
        assert connections == 0
        rows.append((f"{label} cold", ours_cold, ref_cold))
        rows.append((f"{label} warm", ours_warm, ref_warm))
    print("\nhashserver launch: ensure_service vs remote_http_launcher.run (seconds)")
    for label, ours, ref in rows:
        print(f"  {label:16s} ours {ours:7.3f}   reference {ref:7.3f}")
    cold = {label: (ours, ref) for label, ours, ref in rows if label.endswith("cold")}
    for ours, ref in cold.values():
        assert ours < ref
