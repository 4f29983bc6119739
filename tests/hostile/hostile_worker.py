"""Run hostile cases in this process, under rlimits and an audit hook; one JSON line per case.

    python hostile_worker.py CASES.json OUT.jsonl [CASE_ID ...]

The audit hook (PEP 578) counts, per case, every attempt to start a process,
send a signal or open a socket ("launched"), every ``compile()`` of source
that mentions the canary ("executed": a config string turned into code) and
every write outside ``__pycache__`` ("writes"). Loading follows the path of
``seamless-init`` up to the launch, and stops there: resolve the files, build
the plan, validate it. Nothing in this process is ever launched.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import logging
import os
import resource
import sys
import time
from typing import Any

MEMORY_LIMIT = 512 * 1024 * 1024  # address space of this process (the alias bomb once took ~780 MB)
CPU_LIMIT = 120  # seconds of CPU for the whole batch


class Audit:
    LAUNCH_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                     "os.forkpty", "pty.spawn", "os.kill", "os.killpg", "socket.connect", "socket.bind",
                     "os.startfile", "ctypes.dlopen"}
    WRITE_EVENTS = {"os.mkdir", "os.remove", "os.rename", "os.rmdir", "os.symlink", "os.link", "os.truncate",
                    "os.chmod", "os.chown", "os.utime", "shutil.rmtree", "shutil.move", "shutil.copyfile"}

    def __init__(self) -> None:
        self.active = False
        self.launched: list[str] = []
        self.executed: list[str] = []
        self.writes: list[str] = []

    def reset(self) -> None:
        self.launched, self.executed, self.writes = [], [], []

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event in self.LAUNCH_EVENTS:
            self.launched.append(f"{event} {str(args)[:200]}")
        elif event == "compile":
            source = args[0]
            text = source.decode("utf-8", "replace") if isinstance(source, bytes) else str(source)
            if "pwned" in text:
                self.executed.append(text[:200])
        elif event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
            if writing and "__pycache__" not in str(path) and not str(path).startswith("/dev/"):
                self.writes.append(f"open {path!r} {mode!r}")
        elif event in self.WRITE_EVENTS:
            if "__pycache__" not in str(args):
                self.writes.append(f"{event} {str(args)[:200]}")


def _preload() -> None:
    """Import everything a case may touch before the hook counts (imports are not the payload)."""
    import ruamel.yaml  # noqa: F401
    import ruamel.yaml.composer  # noqa: F401
    import ruamel.yaml.events  # noqa: F401
    import ruamel.yaml.nodes  # noqa: F401
    import typer  # noqa: F401

    import seamless_config  # noqa: F401
    import seamless_config.cli.init  # noqa: F401
    import seamless_config.cluster  # noqa: F401
    import seamless_config.extern_clients  # noqa: F401
    import seamless_config.orchestrator.plan  # noqa: F401
    import seamless_config.select  # noqa: F401
    from seamless_config.core import yaml_io

    yaml_io.parse_yaml("a: [1, {b: c}]\nd: &x 1\ne: *x\n", yaml_io.Path("warmup.yaml"))


def _load(case: dict[str, Any]) -> Any:
    from seamless_config import _configure
    from seamless_config.orchestrator.plan import make_plan, without_disabled
    from seamless_config.state import STATE

    STATE.set_workdir(case["proj"])
    _configure(case.get("stage"), None)
    plan = without_disabled(make_plan(STATE.snapshot()))
    plan.validate()
    return f"plan with {len(plan.names)} services (not launched)"


def _cli(case: dict[str, Any]) -> Any:
    from seamless_config.cli import init

    out, err = io.StringIO(), io.StringIO()
    os.chdir(case["proj"])
    code: Any = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            # Without standalone mode click returns the exit code of typer.Exit instead of exiting.
            code = init.app(case["args"], prog_name="seamless-init", standalone_mode=False)
        except SystemExit as exc:
            code = exc.code
        except Exception as exc:  # click usage errors, typer.Exit
            code = getattr(exc, "exit_code", None)
            message = getattr(exc, "format_message", lambda: str(exc))()
            err.write(f"{type(exc).__name__}: {message}\n")
    return {"exit": code, "stderr": err.getvalue()[-2000:], "stdout": out.getvalue()[-2000:]}


def _remote_clients_env(case: dict[str, Any]) -> Any:
    from seamless_config.extern_clients import set_remote_clients_from_env

    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("seamless_config")
    handler = Keep(logging.WARNING)
    logger.addHandler(handler)
    try:
        set_remote_clients_from_env(include_dask=False)
    finally:
        logger.removeHandler(handler)
    return {"logged": records}


def _api(case: dict[str, Any], arg: Any) -> Any:
    from seamless_config import select
    from seamless_config.cluster import define_clusters

    functions = {"define_clusters": define_clusters, "select_project": select.select_project,
                 "select_stage": select.select_stage, "select_cluster": select.select_cluster}
    functions[case["action"]](arg)
    return "accepted"


def _peak_rss_kb() -> int:
    """This process's peak resident set (VmHWM; ru_maxrss would include the parent's before exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_case(case: dict[str, Any], audit: Audit) -> dict[str, Any]:
    from seamless_config.errors import ConfigurationError
    from seamless_config.state import STATE

    os.environ["HOME"] = case["home"]
    for var in ("SEAMLESS_CACHE", "SEAMLESS_REMOTE_CLIENTS", "SEAMLESS_CONFIG_MAX_FILE_SIZE"):
        os.environ.pop(var, None)
    os.environ.update(case.get("env", {}))
    STATE.reset()
    result: dict[str, Any] = {"id": case["id"]}
    # Parsed before the hook counts: literal_eval compiles the argument (which names the canary).
    arg = ast.literal_eval(case["args"]) if isinstance(case.get("args"), str) else None
    audit.reset()
    before = _peak_rss_kb()
    t0 = time.perf_counter()
    audit.active = True
    try:
        action = case["action"]
        if action == "load":
            value = _load(case)
        elif action == "cli":
            value = _cli(case)
        elif action == "remote_clients_env":
            value = _remote_clients_env(case)
        else:
            value = _api(case, arg)
        result["outcome"] = "returned"
        result["value"] = value
    except ConfigurationError as exc:
        location = getattr(exc, "location", None)
        result.update(outcome="config_error", type=type(exc).__name__, message=str(exc)[:3000],
                      location=None if location is None else
                      {"path": location.path, "line": location.line, "column": location.column})
    except BaseException as exc:  # noqa: BLE001 - the report of an unexpected exception
        result.update(outcome="unexpected", type=type(exc).__name__, message=str(exc)[:3000])
    finally:
        audit.active = False
        os.chdir("/")
    result["seconds"] = round(time.perf_counter() - t0, 4)
    peak = _peak_rss_kb()
    result["maxrss_growth_kb"], result["maxrss_kb"] = peak - before, peak
    result["launched"], result["executed"], result["writes"] = audit.launched, audit.executed, audit.writes
    return result


def main(argv: list[str]) -> int:
    cases_path, out_path, *only = argv
    cases = json.loads(open(cases_path, encoding="utf-8").read())
    if only:
        cases = [c for c in cases if c["id"] in set(only)]
    _preload()
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT))
    audit = Audit()
    sys.addaudithook(audit)
    with open(out_path, "w", encoding="utf-8") as out:  # opened before the hook counts writes
        for case in cases:
            out.write(json.dumps(run_case(case, audit)) + "\n")
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
