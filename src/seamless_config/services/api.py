"""The service operations, async: ps, logs, inspect, stop, rm, clear, resolve.

Every operation that touches several hosts goes through ``fan_out``: one task
per host, all at once, one SSH connection per host (the pool's), and every
host's outcome reported, an unreachable one as a ``HostFailure`` that does not
stop the others. A host that failed to connect is remembered for the rest of
the operation (``Hosts``). Results are frozen values (``model``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import PurePosixPath
from typing import Any, TypeVar

import anyio

from ..core.resolve import SEAMLESS_CACHE_CLUSTER
from ..core.selection import PROJECT_TOPLEVEL
from ..errors import ConfigurationError, ConnectionFailedError, ServiceError, ServiceManagementError
from ..remote.client_file import ClientFile
from ..remote.hosts import CommandTimeout
from ..remote.launch_config import client_directory
from ..remote.pool import ConnectionPool
from ..remote.state_store import StateStore
from .model import (
    SEAMLESS_CACHE_PROJECT, STORAGE_SERVICES, ClearPlan, ClearResult, HostFailure, KeyOutcome, PsRow,
    ServiceQuery, ServiceTarget,
)
from .resolve import cluster_hosts, configuration, current_targets, resolve_target, storage_roots

logger = logging.getLogger("seamless_config.services")

T = TypeVar("T")
CONNECT_TIMEOUT = 10.0
HOST_TIMEOUT = 60.0  # one host's whole share of an operation


class Hosts:
    """State stores by host (None: this machine) over one pool; connection failures are remembered."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        self._failed: dict[str, ConnectionFailedError] = {}

    async def store(self, host: str | None) -> StateStore:
        if host is None:
            return StateStore(self.pool.local)
        if host in self._failed:
            raise self._failed[host]
        try:
            return StateStore(await self.pool.host(host))
        except ConnectionFailedError as exc:
            self._failed[host] = exc
            raise


@asynccontextmanager
async def open_hosts(pool: ConnectionPool | None = None, *, connect_timeout: float = CONNECT_TIMEOUT) -> AsyncIterator[Hosts]:
    if pool is not None:
        yield Hosts(pool)
        return
    async with ConnectionPool(connect_timeout=connect_timeout) as own:
        yield Hosts(own)


async def fan_out(
    hosts: Sequence[str | None], work: Callable[[str | None], Awaitable[T]], *, timeout: float = HOST_TIMEOUT,
) -> dict[str | None, T | HostFailure]:
    """Run ``work(host)`` for every host concurrently; a failing host becomes a ``HostFailure``."""
    results: dict[str | None, T | HostFailure] = {}

    async def one(host: str | None) -> None:
        label = host or "localhost"
        try:
            with anyio.fail_after(timeout):
                results[host] = await work(host)
        except TimeoutError:
            results[host] = HostFailure(label, f"{label}: no answer within {timeout:.0f}s")
        except (ServiceError, CommandTimeout, OSError) as exc:
            logger.info("%s: %s", label, exc)
            results[host] = HostFailure(label, str(exc))

    async with anyio.create_task_group() as tg:
        for host in dict.fromkeys(hosts):
            tg.start_soon(one, host)
    return results


# ------------------------------------------------------------------------ resolve


def resolve_service(query: ServiceQuery) -> ServiceTarget:
    """Key, host, workdir and log path of one service; no side effects."""
    return resolve_target(query)


# ----------------------------------------------------------------------------- ps


def _legacy_meta(key: str) -> dict[str, Any]:
    for service in ("pure-daskserver", "hashserver", "database", "jobserver", "daskserver"):
        if not key.startswith(service + "-"):
            continue
        rest = key[len(service) + 1:]
        for mode in ("rw", "ro"):
            marker = f"-{mode}-"
            if marker in rest:
                cluster, tail = rest.split(marker, 1)
                meta: dict[str, Any] = {"service": service, "cluster": cluster, "mode": mode}
                parts = tail.split("--") if tail else []
                project = [p for p in parts if not p.startswith("STAGE-")]
                stages = [p[len("STAGE-"):] for p in parts if p.startswith("STAGE-")]
                if project:
                    meta["project"] = project[0]
                    if len(project) > 1:
                        meta["subproject"] = "/".join(project[1:])
                if stages:
                    meta["stage"] = stages[0].split("SUBSTAGE-")[0]
                return meta
        return {"service": service}
    return {}


def _meta(row: dict[str, Any]) -> dict[str, Any]:
    meta = row.get("meta")
    return meta if isinstance(meta, dict) and meta else _legacy_meta(str(row.get("key", "")))


def _display_project(project: Any, cluster: Any) -> Any:
    if project == PROJECT_TOPLEVEL and cluster == SEAMLESS_CACHE_CLUSTER:
        return SEAMLESS_CACHE_PROJECT
    return project


def _process_row(row: dict[str, Any], host: str | None) -> PsRow:
    meta = _meta(row)
    port = row.get("port")
    status = row.get("status")
    return PsRow(
        service=meta.get("service"), cluster=meta.get("cluster"),
        project=_display_project(meta.get("project"), meta.get("cluster")), stage=meta.get("stage"),
        process=status if isinstance(status, str) else ("client" if port is not None else None),
        port=port if isinstance(port, int) and not isinstance(port, bool) else None,
        persistent=None, size=None, key=str(row.get("key")), mode=meta.get("mode"), host=host or "localhost",
    )


def _matches(row: PsRow, query: ServiceQuery) -> bool:
    for name in ("service", "cluster", "project", "stage"):
        wanted = getattr(query, name)
        if wanted is not None and getattr(row, name) != wanted:
            return False
    return True


def _in_cluster(row: dict[str, Any], cluster: str) -> bool:
    meta = _meta(row)
    return meta.get("cluster") == cluster


def client_rows() -> list[dict[str, Any]]:
    """The local client connection files as ``rhl-ps --client --json`` rows."""
    directory = client_directory()
    rows = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        data = ClientFile.for_key(path.stem, directory).read()
        if data is None:
            continue
        row = dict(data)
        row["key"] = path.stem
        rows.append(row)
    return rows


def _persistent_spec(service: str, root: str) -> dict[str, Any]:
    """An ``op_persistent`` request: data directories below *root* (project[/subproject]/STAGE-x)."""
    if service == "database":
        return {"root": root, "level": 3, "file": "seamless.db", "marker": "seamless.db", "service": service}
    return {"root": root, "level": 3, "file": None, "marker": ".HASHSERVER_PREFIX", "service": service}


def _persistent_row(row: dict[str, Any], cluster: str, host: str | None) -> PsRow:
    root = PurePosixPath(str(row.get("root", "")))
    path = PurePosixPath(str(row.get("path", "")))
    try:
        parts = list(path.relative_to(root).parts)
    except ValueError:
        parts = [path.name]
    stage = None
    project_parts = parts
    for index, part in enumerate(parts):
        if part.startswith("STAGE-"):
            stage = part[len("STAGE-"):].split("SUBSTAGE-")[0]
            project_parts = parts[:index]
            break
    project = project_parts[0] if project_parts else None
    size = row.get("size")
    return PsRow(
        service=row.get("service"), cluster=cluster, project=_display_project(project, cluster), stage=stage,
        process=None, port=None, persistent=row.get("state"), size=size if isinstance(size, int) else None,
        key=None, path=row.get("path"), host=host or "localhost",
    )


def _merge(rows: list[PsRow], new: PsRow) -> list[PsRow]:
    """Persistent data joins the process row of the same service/cluster/project/stage (rw first)."""
    if new.persistent is None:
        return rows + [new]
    identity = (new.service, new.cluster, new.project, new.stage)
    candidates = [r for r in rows if (r.service, r.cluster, r.project, r.stage) == identity and r.persistent is None
                  and r.process is not None]
    candidates.sort(key=lambda r: r.mode != "rw")
    if not candidates:
        return rows + [new]
    from dataclasses import replace

    chosen = candidates[0]
    return [replace(r, persistent=new.persistent, size=new.size, path=new.path) if r is chosen else r for r in rows]


async def ps(
    query: ServiceQuery = ServiceQuery(), *, side: str = "auto", status: str | None = None,
    persistent: bool = False, pool: ConnectionPool | None = None, connect_timeout: float = CONNECT_TIMEOUT,
) -> tuple[list[PsRow], list[HostFailure]]:
    """Rows of ``seamless-service-ps``. ``side``: "client", "server" (needs a cluster), "all" (every cluster), "auto"."""
    rows: list[PsRow] = []
    failures: list[HostFailure] = []
    if side == "auto":
        side = "cluster" if query.cluster is not None else "client"
    if side == "server" and query.cluster is None:
        raise ConfigurationError("--server needs --cluster")
    if side == "client":
        for raw in client_rows():
            row = _process_row(raw, None)
            if _matches(row, query) and (status is None or row.process == status):
                rows.append(row)
        if not persistent:
            return rows, failures
    sel, registry = configuration(query) if (side != "client" or persistent) else (None, None)
    assert registry is not None and sel is not None
    if side == "all":
        clusters = sorted(registry.clusters)
    elif query.cluster is not None:
        clusters = [query.cluster]
    else:
        clusters = [sel.cluster] if sel.cluster is not None else []
    by_host: dict[str | None, list[str]] = {}
    cluster_errors: list[HostFailure] = []
    for name in clusters:
        try:
            for host in cluster_hosts(registry.clusters[name], registry, query.frontend_name):
                by_host.setdefault(host, []).append(name)
        except KeyError:
            cluster_errors.append(HostFailure("?", f"unknown cluster {name!r}", cluster=name))
    want_processes = side != "client"
    want_persistent = persistent or (side == "cluster" and status is None)
    specs_by_host: dict[str | None, list[tuple[str, dict[str, Any]]]] = {}
    if want_persistent:
        for name in clusters:
            for service, host, root in storage_roots(registry.clusters[name], registry, query.frontend_name):
                if query.service is not None and query.service != service:
                    continue
                spec = _persistent_spec(service, root)
                specs_by_host.setdefault(host, []).append((name, spec))
                by_host.setdefault(host, [])
    async with open_hosts(pool, connect_timeout=connect_timeout) as hosts:

        async def work(host: str | None) -> list[PsRow]:
            store = await hosts.store(host)
            found: list[PsRow] = []
            if want_processes:
                for raw in await store.states():
                    names = by_host.get(host, [])
                    if not any(_in_cluster(raw, n) for n in names):
                        continue
                    row = _process_row(raw, host)
                    if status is None or row.process == status:
                        found.append(row)
            specs = specs_by_host.get(host, [])
            if specs:
                for raw in await store.persistent([spec for _, spec in specs]):
                    cluster = next((n for n, spec in specs if spec["root"] == raw.get("root")
                                    and spec["service"] == raw.get("service")), None)
                    found.append(_persistent_row(raw, cluster or "?", host))
            return found

        results = await fan_out(list(by_host), work)
    for host, result in results.items():
        if isinstance(result, HostFailure):
            names = by_host.get(host) or [None]  # type: ignore[list-item]
            failures.extend(HostFailure(result.host, result.message, cluster=n) for n in names)
            continue
        for row in result:
            if row.persistent is not None:
                wanted_project = query.project if query.project is not None else (
                    sel.project if side not in ("all", "cluster", "server") else None)
                if wanted_project is not None and _display_project(row.project, row.cluster) != wanted_project:
                    continue
                if query.stage is not None and row.stage != query.stage:
                    continue
                if query.service is not None and row.service != query.service:
                    continue
                rows = _merge(rows, row)
            elif _matches(row, query):
                rows.append(row)
    return rows, cluster_errors + failures


# --------------------------------------------------------------------- logs/inspect


async def inspect(query: ServiceQuery, *, pool: ConnectionPool | None = None) -> tuple[ServiceTarget, dict[str, Any] | None]:
    """The server state JSON of one service (None if it has none)."""
    target = resolve_target(query)
    async with open_hosts(pool) as hosts:
        store = await hosts.store(target.ssh_hostname)
        found = await store.read(target.key)
    return target, (found or {}).get("state")


async def logs(query: ServiceQuery, *, tail: int | None = None, pool: ConnectionPool | None = None) -> tuple[ServiceTarget, str | None]:
    target = resolve_target(query)
    async with open_hosts(pool) as hosts:
        store = await hosts.store(target.ssh_hostname)
        found = await store.log(target.key, tail)
    text = found.get("text")
    return target, text if isinstance(text, str) else None


async def follow_logs(query: ServiceQuery, write: Callable[[str], None], *, tail: int | None = None,
                      pool: ConnectionPool | None = None) -> None:
    """Write the log, then what is appended, until cancelled."""
    target = resolve_target(query)
    async with open_hosts(pool) as hosts:
        store = await hosts.store(target.ssh_hostname)
        async with store.follow(target.key, tail) as chunks:
            async for chunk in chunks:
                write(chunk)


# ---------------------------------------------------------------------- stop / rm


def _tunnel_ports(record: dict[str, Any]) -> list[int]:
    if "tunneled-port" not in record:
        return []
    ports = [record.get("port")] + [record.get(n[len("tunneled-"):]) for n in record if n.startswith("tunneled-")]
    return sorted({p for p in ports if isinstance(p, int) and not isinstance(p, bool)})


async def _forget_clients(keys: Sequence[str], *, delete: bool) -> None:
    """Mark local client files stale (or delete them) and close their tunnels."""
    from ..remote.tunnel import close_tunnels

    ports: list[int] = []
    for key in keys:
        client = ClientFile.for_key(key)
        record = client.read()
        if record is None:
            continue
        ports += _tunnel_ports(record)
        if delete:
            client.delete()
        else:
            client.write(record | {"status": "stale"})
    if ports:
        await close_tunnels(ports)


async def _targets_by_host(query: ServiceQuery, hosts: Hosts) -> tuple[dict[str | None, list[tuple[str, str | None]]], list[KeyOutcome]]:
    """host -> [(key, service)]: one service (--service), a whole cluster (--cluster), or the current configuration."""
    if query.service is not None:
        target = resolve_target(query)
        return {target.ssh_hostname: [(target.key, target.service)]}, []
    if query.cluster is None:
        grouped: dict[str | None, list[tuple[str, str | None]]] = {}
        for target in current_targets(query):
            grouped.setdefault(target.ssh_hostname, []).append((target.key, target.service))
        return grouped, []
    _sel, registry = configuration(query)
    cluster = registry.clusters[query.cluster]
    host_list = cluster_hosts(cluster, registry, query.frontend_name)

    async def keys_on(host: str | None) -> list[tuple[str, str | None]]:
        store = await hosts.store(host)
        return [(str(r["key"]), _meta(r).get("service")) for r in await store.states(check=False)
                if _in_cluster(r, cluster.name)]

    grouped = {}
    failures = []
    for host, result in (await fan_out(host_list, keys_on)).items():
        if isinstance(result, HostFailure):
            failures.append(KeyOutcome("*", result.host, "unreachable", result.message))
        else:
            grouped[host] = result
    return grouped, failures


async def stop(query: ServiceQuery, *, pool: ConnectionPool | None = None, grace: float = 5.0,
               connect_timeout: float = CONNECT_TIMEOUT) -> list[KeyOutcome]:
    """Stop one service, a cluster's services, or the current configuration's; identity-checked, state kept."""
    async with open_hosts(pool, connect_timeout=connect_timeout) as hosts:
        grouped, outcomes = await _targets_by_host(query, hosts)

        async def stop_on(host: str | None) -> list[KeyOutcome]:
            store = await hosts.store(host)
            services = dict(grouped[host])
            results = await store.stop(list(services), grace=grace)
            return [KeyOutcome(r["key"], host or "localhost", r["outcome"], r.get("detail") or "",
                               services.get(r["key"])) for r in results]

        for host, result in (await fan_out(list(grouped), stop_on)).items():
            if isinstance(result, HostFailure):
                outcomes += [KeyOutcome(k, result.host, "unreachable", result.message, s) for k, s in grouped[host]]
            else:
                outcomes += result
    stopped = [o.key for o in outcomes if o.outcome not in ("unreachable", "permission denied")]
    await _forget_clients(stopped, delete=False)
    return outcomes


async def rm(query: ServiceQuery, *, pool: ConnectionPool | None = None, client: bool = True, server: bool = True,
             stop_first: bool = False) -> list[KeyOutcome]:
    """Remove state JSON (logs kept); a running service is refused unless ``stop_first``."""
    outcomes: list[KeyOutcome] = []
    async with open_hosts(pool) as hosts:
        if stop_first and server:
            await stop(query, pool=hosts.pool)
        grouped, failures = await _targets_by_host(query, hosts)
        outcomes += failures
        if server:

            async def rm_on(host: str | None) -> list[KeyOutcome]:
                store = await hosts.store(host)
                services = dict(grouped[host])
                results = await store.remove(list(services))
                return [KeyOutcome(r["key"], host or "localhost", r["outcome"],
                                   "still running: stop it first (seamless-service-stop) or pass --stop"
                                   if r["outcome"] == "running" else "", services.get(r["key"])) for r in results]

            for host, result in (await fan_out(list(grouped), rm_on)).items():
                if isinstance(result, HostFailure):
                    outcomes += [KeyOutcome(k, result.host, "unreachable", result.message, s)
                                 for k, s in grouped[host]]
                else:
                    outcomes += result
    if client:
        refused = {o.key for o in outcomes if not o.ok}
        keys = [k for pairs in grouped.values() for k, _ in pairs if k not in refused]
        await _forget_clients(keys, delete=True)
        if not server:
            outcomes += [KeyOutcome(k, "localhost", "removed", "client file", None) for k in keys]
    return outcomes


# -------------------------------------------------------------------------- clear


async def plan_clear(query: ServiceQuery, *, pool: ConnectionPool | None = None) -> ClearPlan:
    """What ``clear`` would delete for one project/stage of hashserver or database (nothing is deleted)."""
    if query.service not in STORAGE_SERVICES:
        raise ConfigurationError("--service must be hashserver or database")
    if query.project is None:
        raise ConfigurationError("--project is required: clear deletes data of exactly one project")
    target = resolve_target(query)
    if target.data_root is None:
        raise ConfigurationError(f"{target.service} of cluster {target.cluster} has no data directory")
    async with open_hosts(pool) as hosts:
        store = await hosts.store(target.ssh_hostname)
        found = await store.clear(service=target.service, root=target.data_root, workdir=target.workdir,
                                  dry_run=True)
    return ClearPlan(target, found["workdir"], tuple(found["paths"]), tuple(found["running"]))


async def clear(plan: ClearPlan, *, force: bool = False, pool: ConnectionPool | None = None) -> ClearResult:
    """Delete exactly the planned files; refuses while the service runs unless ``force`` (which stops it first)."""
    target = plan.target
    async with open_hosts(pool) as hosts:
        store = await hosts.store(target.ssh_hostname)
        try:
            done = await store.clear(service=target.service, root=target.data_root, workdir=target.workdir,
                                     expect=list(plan.paths), stop=force)
        except ServiceError as exc:
            raise ServiceManagementError(str(exc), service=target.service, host=target.host_label,
                                         reason=exc.reason) from None
    stopped = tuple(s["key"] for s in done.get("stopped", []))
    if stopped:
        await _forget_clients(stopped, delete=False)
    return ClearResult(plan, int(done.get("removed", 0)), stopped, tuple(done.get("errors", [])))


def to_json_lines(rows: Sequence[Any]) -> str:
    return "".join(json.dumps(r.as_json(), sort_keys=True) + "\n" for r in rows)
