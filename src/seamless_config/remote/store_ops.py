"""The launcher state store's operations on one host: list, read, remove, stop, logs, persistent data, clear.

Runs in-process for this machine and, on an SSH host, as ``python3 -c`` with
this source (after ``processes.py``'s) and one JSON request as argv[1]; it
answers with one JSON line. Standard library only; inputs arrive as JSON
values, never as code or shell words.

The server directory is resolved explicitly, as the ``rhl-*`` helpers do:
``$REMOTE_HTTP_LAUNCHER_DIR/server`` or ``~/.remote-http-launcher/server``.
"""

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:  # in the package; on an SSH host these names come from processes.py's source, sent first
    from .processes import check_identity, stop_recorded
except ImportError:  # pragma: no cover - the shipped script
    pass

KEY_RE = re.compile(r"^[A-Za-z0-9._-]+$")
CHECKSUM_RE = re.compile(r"^[0-9a-f]{64}")
PREFIX_RE = re.compile(r"^[0-9a-f]{2}$")
DATABASE_FILES = ("seamless.db", "seamless.db-wal", "seamless.db-shm", "seamless.db-journal")
FORBIDDEN = {"/", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/sys", "/proc", "/run", "/var",
             "/opt", "/tmp", "/home", "/root"}


class OpError(Exception):
    """A refused or failed operation; the message says why."""


def base_dir(request: dict[str, Any] | None = None) -> Path:
    """The launcher directory: the request's ``base`` (tests), ``$REMOTE_HTTP_LAUNCHER_DIR``, ``~/.remote-http-launcher``."""
    explicit = (request or {}).get("base")
    raw = explicit if isinstance(explicit, str) else os.environ.get("REMOTE_HTTP_LAUNCHER_DIR", "~/.remote-http-launcher")
    return Path(raw).expanduser()


def server_dir(request: dict[str, Any] | None = None) -> Path:
    return base_dir(request) / "server"


def _key(key: Any) -> str:
    if not isinstance(key, str) or not KEY_RE.fullmatch(key) or key in (".", ".."):
        raise OpError(f"invalid key {key!r}")
    return key


def _read(path: Path) -> tuple[dict[str, Any] | None, float | None]:
    try:
        mtime = path.stat().st_mtime
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    return (data, mtime) if isinstance(data, dict) else (None, None)


def _write(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _row(key: str, data: dict[str, Any] | None, mtime: float | None, check: bool) -> dict[str, Any]:
    """One ``rhl-ps --json`` row, with the PID checked for identity, not just existence."""
    row: dict[str, Any] = dict(data or {})
    row["key"] = key
    json_status = row.get("status")
    if json_status is not None:
        row["json_status"] = json_status
    status = json_status if isinstance(json_status, str) else "failed"
    live = None
    if data is not None and check and status in ("running", "starting") and not data.get("dry_run"):
        _info, reason = check_identity(data, mtime)
        live = not reason
        if status == "running" and not live:
            status = "stale"
        if reason and reason != "gone":
            row["stale_reason"] = reason
    row["status"] = status
    row["live"] = live
    row.setdefault("meta", {})
    return row


def op_server_dir(request: dict[str, Any]) -> Any:
    return str(server_dir(request))


def op_list(request: dict[str, Any]) -> Any:
    directory = server_dir(request)
    rows = []
    paths = sorted(directory.glob("*.json")) if directory.is_dir() else []
    for path in paths:
        data, mtime = _read(path)
        rows.append(_row(path.stem, data, mtime, bool(request.get("check", True))))
    return rows


def op_read(request: dict[str, Any]) -> Any:
    key = _key(request.get("key"))
    path = server_dir(request) / f"{key}.json"
    data, mtime = _read(path)
    if data is None:
        return None
    found: dict[str, Any] = {"path": str(path), "state": data, "row": _row(key, data, mtime, True)}
    return found


def op_stop(request: dict[str, Any]) -> Any:
    """Stop each key's process (identity-checked); keep the state JSON, marked ``stale``."""
    grace = float(request.get("grace", 5.0))
    results: list[dict[str, Any]] = []
    for raw in request.get("keys", []):
        key = _key(raw)
        path = server_dir(request) / f"{key}.json"
        data, mtime = _read(path)
        if data is None:
            results.append({"key": key, "outcome": "missing", "detail": "no state file"})
            continue
        outcome, detail = stop_recorded(data, mtime, grace)
        if outcome != "permission denied":
            data, _ = _read(path)
            if data is not None:
                data["status"] = "stale"
                if outcome == "pid reused":
                    data["stale_reason"] = detail
                _write(path, data)
        results.append({"key": key, "outcome": outcome, "detail": detail, "pid": (data or {}).get("pid")})
    return results


def op_remove(request: dict[str, Any]) -> Any:
    """Remove state JSON (the log stays); a key whose service still runs is refused unless ``force``."""
    results: list[dict[str, Any]] = []
    for raw in request.get("keys", []):
        key = _key(raw)
        path = server_dir(request) / f"{key}.json"
        data, mtime = _read(path)
        if data is None:
            results.append({"key": key, "outcome": "missing"})
            continue
        _info, reason = check_identity(data, mtime)
        if not reason and data.get("status") != "stale" and not request.get("force"):
            results.append({"key": key, "outcome": "running", "pid": data.get("pid")})
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        results.append({"key": key, "outcome": "removed"})
    return results


def _log_path(key: str, request: dict[str, Any] | None = None) -> Path:
    return server_dir(request) / f"{key}.log"


def op_log(request: dict[str, Any]) -> dict[str, Any]:
    key = _key(request.get("key"))
    path = _log_path(key, request)
    try:
        data = path.read_bytes()
    except OSError:
        return {"path": str(path), "text": None}
    tail = request.get("tail")
    if isinstance(tail, int) and tail >= 0:
        data = b"".join(data.splitlines(keepends=True)[-tail:]) if tail else b""
    return {"path": str(path), "text": data.decode(errors="replace")}


def follow(key: str, tail: int | None, out: Any) -> None:
    """Print the log (last ``tail`` lines), then what is appended, until stdin closes."""
    import select

    path = _log_path(_key(key))
    start = op_log({"key": key, "tail": tail})["text"] or ""
    out.write(start)
    out.flush()
    try:
        position = path.stat().st_size
    except OSError:
        position = 0
    while True:
        readable, _, _ = select.select([sys.stdin], [], [], 0.2)
        if readable and not sys.stdin.read(1):
            return
        try:
            size = path.stat().st_size
        except OSError:
            continue
        if size < position:
            position = 0  # truncated (a relaunch): start over
        if size > position:
            with path.open("rb") as handle:
                handle.seek(position)
                chunk = handle.read(size - position)
            position = size
            out.write(chunk.decode(errors="replace"))
            out.flush()


def _real(path: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_absolute():
        raise OpError(f"path must be absolute: {path!r}")
    if ".." in p.parts:
        raise OpError(f"path must not contain '..': {path!r}")
    return Path(os.path.realpath(p))


def _mtime(path: Path) -> str | None:
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(path.stat().st_mtime))
    except OSError:
        return None


def _persistent_row(path: Path, filename: str | None, marker: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"path": path.as_posix(), "state": "absent", "size": None, "modified": None}
    if not path.is_dir():
        return row
    if filename:
        target = path / filename
        if target.exists():
            row.update(state="populated", size=target.stat().st_size, modified=_mtime(target))
        else:
            row["state"] = "empty"
        return row
    populated = any(_is_buffer_entry(child) for child in path.iterdir())
    row.update(state="populated" if populated else "empty", modified=_mtime(path) if populated else None)
    return row


def op_persistent(request: dict[str, Any]) -> Any:
    """``rhl-ps-persistent --json --level N``: data directories below each root, by marker file."""
    rows = []
    for spec in request.get("specs", []):
        root = Path(str(spec["root"])).expanduser()
        level = int(spec.get("level", 2))
        filename, marker = spec.get("file"), spec.get("marker")

        def walk(path: Path, depth: int) -> None:
            if (path / marker).exists() if marker else path.is_dir():
                row = _persistent_row(path, filename, marker)
                row["root"] = str(root)
                row["service"] = spec.get("service")
                rows.append(row)
            if depth == 0 or not path.is_dir():
                return
            try:
                children = sorted(c for c in path.iterdir() if c.is_dir() and not c.is_symlink())
            except OSError:
                return
            for child in children:
                walk(child, depth - 1)

        walk(root, level)
    return rows


def _is_buffer_entry(path: Path) -> bool:
    """A hashserver buffer (a checksum-named file) or a prefix directory of them."""
    if path.is_symlink():
        return False
    if path.is_file():
        return bool(CHECKSUM_RE.match(path.name))
    return path.is_dir() and bool(PREFIX_RE.fullmatch(path.name))


def _clear_targets(service: str, workdir: Path) -> list[Path]:
    if service == "database":
        return [workdir / name for name in DATABASE_FILES if (workdir / name).is_file()]
    targets: list[Path] = []
    if not workdir.is_dir():
        return targets
    for child in sorted(workdir.iterdir()):
        if not _is_buffer_entry(child):
            continue  # another stage's directory, seamless.db, the layout marker...: not ours
        if child.is_file():
            targets.append(child)
            continue
        for buffer in sorted(child.iterdir()):
            if buffer.is_file() and not buffer.is_symlink() and CHECKSUM_RE.match(buffer.name):
                targets.append(buffer)
    return targets


def _running_users(workdir: Path, service: str, request: dict[str, Any]) -> list[dict[str, Any]]:
    """The state rows of running services whose data directory is ``workdir``."""
    users = []
    for row in op_list({"check": True, "base": request.get("base")}):
        if not row.get("live"):
            continue
        if (row.get("meta") or {}).get("service", service) != service and not str(row["key"]).startswith(service):
            continue
        raw = row.get("workdir")
        if isinstance(raw, str) and raw and os.path.realpath(os.path.expanduser(raw)) == str(workdir):
            users.append(row)
    return users


def op_clear(request: dict[str, Any]) -> Any:
    """Plan (``dry_run``) or do the deletion of one service's data in one project/stage directory.

    ``root`` is the configured bufferdir/database_dir, ``workdir`` the
    project/stage directory below it. Refuses paths outside the root, the root
    itself, and (unless ``stop``) a directory a running service uses; with
    ``stop`` that service is stopped first (identity-checked).
    """
    service = request.get("service")
    if service not in ("hashserver", "database"):
        raise OpError("only hashserver and database data can be cleared")
    root = _real(str(request["root"]))
    workdir = _real(str(request["workdir"]))
    if str(root) in FORBIDDEN or str(workdir) in FORBIDDEN:
        raise OpError(f"refusing to clear a system directory ({workdir})")
    if workdir == root or root not in workdir.parents:
        raise OpError(f"{workdir} is not a project/stage directory inside {root}")
    users = _running_users(workdir, service, request)
    stopped = []
    if users and not request.get("dry_run"):
        if not request.get("stop"):
            keys = ", ".join(str(u["key"]) for u in users)
            raise OpError(f"{service} is running on {workdir} ({keys}); stop it first or pass --force")
        stopped = op_stop({"keys": [u["key"] for u in users], "grace": request.get("grace", 5.0),
                           "base": request.get("base")})
        if any(s["outcome"] not in ("stopped", "kill required", "not running") for s in stopped):
            raise OpError(f"could not stop {service} on {workdir}: {stopped}")
    targets = _clear_targets(service, workdir)
    expected = request.get("expect")
    if isinstance(expected, list):  # only what the user confirmed
        allowed = {str(p) for p in expected}
        targets = [t for t in targets if str(t) in allowed]
    result: dict[str, Any] = {
        "workdir": str(workdir), "paths": [str(t) for t in targets],
        "running": [u["key"] for u in users], "stopped": stopped, "removed": 0,
    }
    if request.get("dry_run"):
        return result
    errors = []
    for target in targets:
        if workdir not in target.parents or target.is_symlink():
            continue
        try:
            target.unlink()
            result["removed"] += 1
        except FileNotFoundError:
            pass
        except OSError as exc:
            errors.append(f"{target}: {exc}")
    if service == "hashserver":
        for child in workdir.iterdir():
            if child.is_dir() and PREFIX_RE.fullmatch(child.name):
                try:
                    child.rmdir()
                except OSError:
                    pass  # not empty: something that is not a buffer lives there
    result["errors"] = errors
    return result


OPS = {
    "server_dir": op_server_dir, "list": op_list, "read": op_read, "stop": op_stop,
    "remove": op_remove, "log": op_log, "persistent": op_persistent, "clear": op_clear,
}


def execute(request: dict[str, Any]) -> dict[str, Any]:
    """One request -> ``{"ok": True, "result": ...}`` or ``{"ok": False, "error": ...}``."""
    op = OPS.get(str(request.get("op")))
    if op is None:
        return {"ok": False, "error": f"unknown operation {request.get('op')!r}"}
    try:
        return {"ok": True, "result": op(request)}
    except OpError as exc:
        return {"ok": False, "error": str(exc)}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def main(argv: list[str]) -> None:
    request = json.loads(argv[1])
    if request.get("op") == "follow":
        follow(str(request.get("key")), request.get("tail"), sys.stdout)
        return
    sys.stdout.write(json.dumps(execute(request)) + "\n")
