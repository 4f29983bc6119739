"""The launcher's state store on one host: list, read, remove state; read or follow a log; stop a process.

One implementation (``store_ops``, guarded by ``processes``) serves both
kinds of host: on this machine it runs in a worker thread; on an SSH host it
runs as ``python3 -c <source> <json request>`` over the pooled connection, one
round trip per operation (a cluster-wide stop is one command per host). The
server directory is resolved explicitly (``server_dir()``), not learnt as a
side effect of another operation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from importlib import resources
from typing import Any, cast

import anyio
import anyio.to_thread

from ..errors import ServiceError
from . import store_ops
from .hosts import Host

logger = logging.getLogger("seamless_config.remote.state_store")

OP_TIMEOUT = 30.0
STOP_GRACE = 5.0


@lru_cache(maxsize=1)
def host_script() -> str:
    """The source sent to SSH hosts: processes.py, then store_ops.py, then a call of main()."""
    parts = []
    for name in ("processes.py", "store_ops.py"):
        text = resources.files("seamless_config.remote").joinpath(name).read_text(encoding="utf-8")
        parts.append("\n".join(line for line in text.splitlines() if not line.startswith("from __future__")))
    return "\n".join(parts) + "\nmain(sys.argv)\n"


class StateStore:
    """Launcher state on one host (``host.is_local``: this machine)."""

    def __init__(self, host: Host, *, base: str | None = None) -> None:
        """*base*: another launcher directory than the host's default (tests of a foreign HOME)."""
        self.host = host
        self.base = base
        self._server_dir: str | None = None

    @property
    def label(self) -> str:
        return self.host.label

    async def call(self, op: str, *, timeout: float = OP_TIMEOUT, **arguments: Any) -> Any:
        """Run one store operation; raises ServiceError if the host refuses or fails it."""
        request = {"op": op, **arguments}
        if self.base is not None:
            request["base"] = self.base
        answer: Any
        if self.host.is_local:
            answer = await anyio.to_thread.run_sync(store_ops.execute, request)
        else:
            result = await self.host.run(["python3", "-c", host_script(), json.dumps(request)], timeout=timeout)
            try:
                answer = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else None
            except ValueError:
                answer = None
            if not isinstance(answer, dict):
                reason = result.stderr.strip() or f"exit code {result.returncode}"
                if result.not_found:
                    reason = "python3 is not installed there"
                raise ServiceError(f"{self.label}: the launcher state could not be read ({reason})", host=self.label)
        assert isinstance(answer, dict)
        if not answer.get("ok"):
            raise ServiceError(f"{self.label}: {answer.get('error')}", host=self.label, reason=str(answer.get("error")))
        return answer.get("result")

    async def server_dir(self) -> str:
        if self._server_dir is None:
            self._server_dir = str(await self.call("server_dir"))
        return self._server_dir

    async def states(self, *, check: bool = True) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", await self.call("list", check=check))

    async def read(self, key: str) -> dict[str, Any] | None:
        """``{"path", "state", "row"}`` for ``key``, or None."""
        return cast("dict[str, Any] | None", await self.call("read", key=key))

    async def stop(self, keys: list[str], *, grace: float = STOP_GRACE) -> list[dict[str, Any]]:
        """Identity-checked SIGINT → SIGTERM → SIGKILL per key; state kept, marked stale."""
        if not keys:
            return []
        timeout = OP_TIMEOUT + 3 * grace * len(keys)
        return cast("list[dict[str, Any]]", await self.call("stop", keys=keys, grace=grace, timeout=timeout))

    async def remove(self, keys: list[str], *, force: bool = False) -> list[dict[str, Any]]:
        """Remove state JSON, logs kept; a running service's is refused (outcome "running") unless ``force``."""
        return cast("list[dict[str, Any]]", await self.call("remove", keys=keys, force=force)) if keys else []

    async def log(self, key: str, tail: int | None = None) -> dict[str, Any]:
        return cast("dict[str, Any]", await self.call("log", key=key, tail=tail))

    async def persistent(self, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", await self.call("persistent", specs=specs)) if specs else []

    async def clear(self, **request: Any) -> dict[str, Any]:
        return cast("dict[str, Any]", await self.call("clear", timeout=OP_TIMEOUT + 3 * STOP_GRACE, **request))

    @asynccontextmanager
    async def follow(self, key: str, tail: int | None = None) -> AsyncIterator[AsyncIterator[str]]:
        """The log's last ``tail`` lines, then each appended line, until the caller leaves."""
        if self.host.is_local:
            yield self._follow_local(key, tail)
            return
        request = json.dumps({"op": "follow", "key": key, "tail": tail})
        async with self.host.stream(["python3", "-c", host_script(), request]) as stream:

            async def lines() -> AsyncIterator[str]:
                while True:
                    line = await stream.readline()
                    if line == "":
                        return
                    yield line + "\n"

            try:
                yield lines()
            finally:
                with anyio.CancelScope(shield=True):
                    await stream.close_input()

    async def _follow_local(self, key: str, tail: int | None) -> AsyncIterator[str]:
        first = await self.log(key, tail)
        text = first.get("text") or ""
        if text:
            yield text
        path = anyio.Path(first["path"])
        try:
            position = (await path.stat()).st_size
        except OSError:
            position = 0
        while True:
            await anyio.sleep(0.2)
            try:
                size = (await path.stat()).st_size
            except OSError:
                continue
            if size < position:
                position = 0
            if size > position:
                async with await anyio.open_file(path, "rb") as handle:
                    await handle.seek(position)
                    chunk = await handle.read(size - position)
                position = size
                yield chunk.decode(errors="replace")
