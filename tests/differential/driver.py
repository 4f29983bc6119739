#!/usr/bin/env python3
"""Differential-test driver: load configurations, record every query's outcome.

Standalone on purpose: it imports no code of this repository, only whatever
``seamless_config`` the running interpreter has (the reference 0.3.2 in the
reference venv, ours in the dev venv), so the same script drives both.

    python driver.py CASES.json OUT.jsonl

CASES.json is a list of cases (see corpus.py for the fields). OUT.jsonl gets one
JSON object per line: ``{"start": id}`` before a case and ``{"result": {...}}``
after it, flushed each time, then ``{"done": true}``. If the process dies or
hangs inside a case, the harness knows which case from the last ``start`` line
and restarts the driver with the remaining cases.

For every case and for each of two load paths, in a freshly imported
``seamless_config`` (all ``seamless_config*`` modules purged from sys.modules):

- ``high``: ``set_workdir(dir)`` then ``init()`` or ``set_stage(stage, substage)``
- ``low``:  ``set_workdir(dir)``, ``select.select_stage(stage)``,
  ``select.select_substage(substage)``, ``config_files.load_config_files()``
  (the path seamless-transformer's command-line tools take), then, recorded
  separately, ``change_stage()``

then every query below. An outcome is ``{"value": <JSON-normalised>}`` or
``{"error": <exception class name>, "is_value_error": ..,
"is_configuration_error": .., "message": ..}``.

Nothing may launch: ``seamless_remote.*_remote.DISABLED`` and
``seamless_config.pure_daskserver.DISABLED`` are set, ``remote_http_launcher.run``
and the worker ``spawn`` are replaced by recorders (recorded as queries too).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import importlib
import json
import os
import signal
import sys
import traceback
import warnings
from pathlib import PurePath
from typing import Any, Callable

CASE_TIMEOUT = int(os.environ.get("DIFF_DRIVER_CASE_TIMEOUT", "20"))
IGNORED_WARNING_CATEGORIES = (
    DeprecationWarning,
    PendingDeprecationWarning,
    ResourceWarning,
    ImportWarning,
)

# Attributes read off cluster objects (the ones seamless-transformer and the
# tools read; see the reference's cluster.py).
CLUSTER_FIELDS = (
    "name",
    "type",
    "tunnel",
    "workers",
    "memory_per_core_property_name",
    "default_queue",
)
FRONTEND_FIELDS = ("hostname", "ssh_hostname")
SERVICE_FIELDS = {
    "hashserver": ("bufferdir", "conda", "network_interface", "port_start", "port_end"),
    "database": ("database_dir", "conda", "network_interface", "port_start", "port_end"),
    "jobserver": ("conda", "network_interface", "port_start", "port_end"),
    "daskserver": ("network_interface", "port_start", "port_end"),
}
QUEUE_FIELDS = (
    "name",
    "conda",
    "walltime",
    "memory",
    "unknown_task_duration",
    "target_duration",
    "maximum_jobs",
    "lifetime_stagger",
    "interactive",
    "exclusive",
    "project",
    "partition",
    "tmpdir",
    "worker_threads",
    "processes",
    "lifetime",
    "extra_dask_config",
    "job_extra_directives",
    "job_script_prologue",
    "dask_resources",
    "cores",
    "job_cores",
)
MISSING = "<missing attribute>"


class CaseTimeout(BaseException):
    """Raised by SIGALRM when one case takes too long (BaseException: not swallowed)."""


# ---------------------------------------------------------------- normalising


def norm(value: Any) -> Any:
    """JSON-normalise a value: tuples -> lists, mappings -> dicts with str keys."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return norm(value.value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if value == value else "NaN"
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, dict) or hasattr(value, "items"):
        try:
            return {str(k): norm(v) for k, v in value.items()}
        except Exception:
            pass
    if isinstance(value, (list, tuple, set, frozenset)):
        seq = [norm(v) for v in value]
        if isinstance(value, (set, frozenset)):
            seq.sort(key=lambda x: json.dumps(x, sort_keys=True))
        return seq
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: norm(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return {"<unnormalisable>": type(value).__name__}


def _attrs(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: norm(getattr(obj, f, MISSING)) for f in fields}


def norm_cluster(clus: Any) -> Any:
    """Normalise a cluster object through the attributes consumers read."""
    out = _attrs(clus, CLUSTER_FIELDS)
    frontends = []
    for fe in getattr(clus, "frontends", None) or []:
        d = _attrs(fe, FRONTEND_FIELDS)
        for service, fields in SERVICE_FIELDS.items():
            svc = getattr(fe, service, MISSING)
            if svc is None or svc == MISSING:
                d[service] = svc
            else:
                d[service] = _attrs(svc, fields)
        frontends.append(d)
    out["frontends"] = frontends
    queues = getattr(clus, "queues", MISSING)
    if queues == MISSING:
        out["queues"] = MISSING
    else:
        # None and {} mean the same to every consumer ("if not clus.queues").
        out["queues"] = {str(k): _attrs(q, QUEUE_FIELDS) for k, q in (queues or {}).items()}
    return out


def strip_meta(conf: Any) -> Any:
    if isinstance(conf, dict):
        conf = dict(conf)
        conf.pop("meta", None)
    return conf


# ------------------------------------------------------------------- outcomes


def _configuration_error_class() -> type | None:
    mod = sys.modules.get("seamless_config")
    return getattr(mod, "ConfigurationError", None) if mod is not None else None


def error_outcome(exc: BaseException) -> dict[str, Any]:
    cfg = _configuration_error_class()
    msg = str(exc)
    if len(msg) > 600:
        msg = msg[:600] + "..."
    return {
        "error": type(exc).__name__,
        "is_value_error": isinstance(exc, ValueError),
        "is_configuration_error": bool(cfg is not None and isinstance(exc, cfg)),
        "message": msg,
    }


def outcome(fn: Callable[[], Any], post: Callable[[Any], Any] = norm) -> dict[str, Any]:
    try:
        value = fn()
    except CaseTimeout:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit etc. must not kill the run
        if isinstance(exc, KeyboardInterrupt):
            raise
        return error_outcome(exc)
    try:
        return {"value": post(value)}
    except Exception as exc:  # normalisation failure is reported, not fatal
        return {"error": "NormalisationFailed:" + type(exc).__name__,
                "is_value_error": False, "is_configuration_error": False,
                "message": str(exc)}


# ----------------------------------------------------------- safety recorders

_spawn_calls: list[Any] = []
_launch_calls: list[Any] = []


def _fake_spawn(*args: Any, **kwargs: Any) -> None:
    _spawn_calls.append({"args": norm(list(args)), "kwargs": norm(kwargs)})


def _fake_launch_run(conf: Any, *args: Any, **kwargs: Any) -> Any:
    _launch_calls.append(norm(strip_meta(conf)))
    raise RuntimeError("differential driver: remote_http_launcher.run() is disabled")


def install_recorders() -> None:
    """Make sure nothing can launch a service or spawn workers."""
    for modname in (
        "seamless_remote.buffer_remote",
        "seamless_remote.database_remote",
        "seamless_remote.jobserver_remote",
        "seamless_remote.daskserver_remote",
    ):
        try:
            mod = importlib.import_module(modname)
        except Exception:
            continue
        mod.DISABLED = True
    try:
        import remote_http_launcher

        remote_http_launcher.run = _fake_launch_run
    except Exception:
        pass
    for modname in ("seamless_transformer", "seamless_transformer.worker"):
        mod = sys.modules.get(modname)
        if mod is None:
            try:
                mod = importlib.import_module(modname)
            except Exception:
                continue
        mod.spawn = _fake_spawn
    try:
        import seamless.transformer as st

        st.spawn = _fake_spawn
    except Exception:
        pass


def purge_seamless_config() -> None:
    for name in list(sys.modules):
        if name == "seamless_config" or name.startswith("seamless_config."):
            del sys.modules[name]


def fresh_seamless_config() -> Any:
    purge_seamless_config()
    sc = importlib.import_module("seamless_config")
    for sub in ("select", "config_files", "cluster", "tools", "pure_daskserver"):
        try:
            importlib.import_module("seamless_config." + sub)
        except Exception:
            pass
    pd = sys.modules.get("seamless_config.pure_daskserver")
    if pd is not None:
        pd.DISABLED = True
    install_recorders()
    return sc


# ---------------------------------------------------------------------- cases

_BASE_ENV: dict[str, str] = {}


def set_environment(case: dict[str, Any]) -> None:
    os.environ.clear()
    os.environ.update(_BASE_ENV)
    os.environ["HOME"] = case["home"]
    os.environ["REMOTE_HTTP_LAUNCHER_DIR"] = os.path.join(case["root"], ".rhl")
    for key, val in (case.get("env") or {}).items():
        if val is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = val


def run_path(case: dict[str, Any], path: str) -> dict[str, Any]:
    """Load the case's configuration through one path; run all queries."""
    _spawn_calls.clear()
    _launch_calls.clear()
    set_environment(case)
    elsewhere = os.path.join(case["root"], "elsewhere")
    os.makedirs(elsewhere, exist_ok=True)
    os.chdir(elsewhere)
    result: dict[str, Any] = {}
    caught: list[warnings.WarningMessage] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        imp = outcome(fresh_seamless_config, post=lambda m: None)
        result["import"] = imp
        if "error" in imp:
            return result
        sc = sys.modules["seamless_config"]
        stage, substage = case.get("stage"), case.get("substage")
        result["set_workdir"] = outcome(lambda: sc.set_workdir(case["workdir"]), post=lambda v: None)
        if path == "high":
            if case.get("api") == "init":
                result["load"] = outcome(lambda: sc.init(), post=lambda v: None)
            else:
                result["load"] = outcome(lambda: sc.set_stage(stage, substage), post=lambda v: None)
        else:
            def low() -> None:
                select = importlib.import_module("seamless_config.select")
                config_files = importlib.import_module("seamless_config.config_files")
                select.select_stage(stage)
                select.select_substage(substage)
                config_files.load_config_files()

            result["load"] = outcome(low, post=lambda v: None)
            if "error" not in result["load"]:
                result["change_stage"] = outcome(lambda: sc.change_stage(), post=lambda v: None)
    result["warnings"] = [
        {"category": w.category.__name__, "message": str(w.message)[:300]}
        for w in caught
        if not issubclass(w.category, IGNORED_WARNING_CATEGORIES)
    ]
    result["queries"] = run_queries(case)
    return result


def run_queries(case: dict[str, Any]) -> dict[str, Any]:
    sc = sys.modules["seamless_config"]
    q: dict[str, Any] = {}

    def mod(name: str) -> Any:
        return importlib.import_module("seamless_config." + name)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q["get_current"] = outcome(lambda: mod("select").get_current())
        q["get_selected_cluster"] = outcome(lambda: mod("select").get_selected_cluster())
        q["get_execution"] = outcome(lambda: mod("select").get_execution())
        q["get_persistent"] = outcome(lambda: mod("select").get_persistent())
        q["get_queue"] = outcome(lambda: mod("select").get_queue())
        q["get_remote"] = outcome(lambda: mod("select").get_remote())
        q["get_record"] = outcome(lambda: mod("select").get_record())
        q["get_node"] = outcome(lambda: mod("select").get_node())
        q["get_stage"] = outcome(lambda: mod("select").get_stage())
        q["get_selected_project"] = outcome(lambda: mod("select").get_selected_project())
        q["check_remote_redundancy"] = outcome(
            lambda: mod("select").check_remote_redundancy(mod("select").get_selected_cluster())
        )
        q["select.get_nparallel"] = outcome(lambda: mod("select").get_nparallel())
        q["get_nparallel"] = outcome(lambda: sc.get_nparallel())
        q["get_seamless_cache"] = outcome(lambda: sc.get_seamless_cache())
        q["get_local_cluster"] = outcome(lambda: mod("cluster").get_local_cluster())
        names = list(case.get("cluster_names") or [])
        if case.get("env", {}).get("SEAMLESS_CACHE"):
            names.append("__SEAMLESS_CACHE__")
        for name in names:
            q[f"get_cluster[{name}]"] = outcome(
                lambda name=name: mod("cluster").get_cluster(name), post=norm_cluster
            )
        post = lambda v: norm(strip_meta(v))  # noqa: E731
        q["configure_hashserver[rw]"] = outcome(lambda: mod("tools").configure_hashserver("rw"), post)
        q["configure_hashserver[ro]"] = outcome(lambda: mod("tools").configure_hashserver("ro"), post)
        q["configure_database[rw]"] = outcome(lambda: mod("tools").configure_database("rw"), post)
        q["configure_database[ro]"] = outcome(lambda: mod("tools").configure_database("ro"), post)
        q["configure_jobserver"] = outcome(lambda: mod("tools").configure_jobserver(), post)
        q["configure_daskserver"] = outcome(lambda: mod("tools").configure_daskserver(), post)
        q["configure_pure_daskserver"] = outcome(lambda: mod("tools").configure_pure_daskserver(), post)
        q["spawn_calls"] = {"value": list(_spawn_calls)}
        q["launch_calls"] = {"value": list(_launch_calls)}
    return q


def _alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout(f"case exceeded {CASE_TIMEOUT}s")


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {"id": case["id"], "runs": {}}
    for path in case.get("paths") or ("high", "low"):
        signal.alarm(CASE_TIMEOUT)
        try:
            res["runs"][path] = run_path(case, path)
        except CaseTimeout as exc:
            res["runs"][path] = {"crash": f"timeout: {exc}"}
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
            res["runs"][path] = {
                "crash": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-2000:]
            }
        finally:
            signal.alarm(0)
    return res


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    _BASE_ENV.update(
        {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SEAMLESS_", "REMOTE_HTTP_LAUNCHER"))
        }
    )
    signal.signal(signal.SIGALRM, _alarm)
    real_stdout = sys.stdout
    with open(argv[2], "w", encoding="utf-8") as out:

        def emit(obj: Any) -> None:
            out.write(json.dumps(obj, sort_keys=True) + "\n")
            out.flush()

        info = {"executable": sys.executable}
        try:
            import importlib.metadata as md

            info["seamless_config_version"] = md.version("seamless-config")
        except Exception:
            pass
        try:
            import importlib.util

            spec = importlib.util.find_spec("seamless_config")
            info["seamless_config_file"] = spec.origin if spec is not None else None
        except Exception:
            pass
        emit({"info": info})
        # Anything the implementation prints goes to stderr, never into results.
        with contextlib.redirect_stdout(sys.stderr):
            for case in cases:
                emit({"start": case["id"]})
                emit({"result": run_case(case)})
        emit({"done": True})
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
