"""Safe-name checks for every string that reaches a launcher template, a path or a shell word.

remote-http-launcher evaluates ``key`` and ``command`` as Python f-strings, and
the hostnames become SSH arguments. A name from a YAML file must therefore be
data, never code: anything outside a conservative alphabet is refused here,
before it is stored, with a message that says what is allowed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from ..errors import Location, UnsafeNameError

_T = TypeVar("_T")

# Letters, digits, '_', '.', '-' and '+'; must start with a letter, digit or '_'.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
# A hostname label (RFC 1123), the rule remote-http-launcher applies: checking it here
# reports the file position instead of failing at launch. Never starts with '-'.
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _is_host(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    name = value[:-1] if value.endswith(".") else value
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))
# Directory paths: the launcher's own alphabet (no quotes, braces, '$' or whitespace),
# not starting with '-' so that a path can never be read as an option.
_PATH = re.compile(r"[A-Za-z0-9@_./~][A-Za-z0-9@_./~-]*")

# Names become path components and parts of the launcher key, itself a file name
# ('<key>.json', at most 255 bytes): each name is kept well below that.
MAX_NAME_LENGTH = 64
MAX_PATH_LENGTH = 1024

NAME_RULE = "letters, digits, '_', '.', '-' and '+', starting with a letter, digit or '_'"


def _refuse(kind: str, value: object, rule: str, location: Location | None) -> UnsafeNameError:
    shown = _short(value) if isinstance(value, str) else repr(value)
    return UnsafeNameError(f"{kind} {shown} is not allowed: use {rule}", location)


def _too_long(kind: str, value: str, limit: int, location: Location | None) -> UnsafeNameError:
    return UnsafeNameError(f"{kind} {_short(value)} is too long: at most {limit} characters", location)


def _short(value: str) -> str:
    """*value* for a message: whole if short, else its start and its length."""
    return repr(value) if len(value) <= 80 else repr(value[:60]) + f"... ({len(value)} characters)"


def check_name(kind: str, value: object, location: Location | None = None) -> str:
    """A project, stage, substage, cluster, queue or conda environment name."""
    if not isinstance(value, str):
        raise UnsafeNameError(f"{kind} must be a string, not {type(value).__name__}", location)
    if len(value) > MAX_NAME_LENGTH:
        raise _too_long(kind, value, MAX_NAME_LENGTH, location)
    if not _NAME.fullmatch(value):
        raise _refuse(kind, value, NAME_RULE, location)
    if "--" in value:
        raise UnsafeNameError(f"{kind} {value!r} must not contain '--' (it separates key parts)", location)
    if "STAGE-" in value:
        raise UnsafeNameError(f"{kind} {value!r} must not contain 'STAGE-' (it marks stage directories)", location)
    return value


def check_subproject(value: object, location: Location | None = None) -> str:
    """A subproject: like a name, but '/' may separate path components."""
    if not isinstance(value, str):
        raise UnsafeNameError(f"subproject must be a string, not {type(value).__name__}", location)
    if len(value) > 2 * MAX_NAME_LENGTH:
        raise _too_long("subproject", value, 2 * MAX_NAME_LENGTH, location)
    parts = value.split("/")
    for part in parts:
        if not _NAME.fullmatch(part):
            raise _refuse("subproject", value, NAME_RULE + ", with '/' between parts", location)
    if "--" in value:
        raise UnsafeNameError(f"subproject {value!r} must not contain '--'", location)
    if "STAGE-" in value:
        raise UnsafeNameError(f"subproject {value!r} must not contain 'STAGE-'", location)
    return value


def check_host(kind: str, value: object, location: Location | None = None) -> str:
    """A hostname, SSH alias or network interface address."""
    if not isinstance(value, str):
        raise UnsafeNameError(f"{kind} must be a string, not {type(value).__name__}", location)
    if not _is_host(value):
        raise _refuse(
            kind, value,
            "a hostname or IP address (dot-separated labels of letters, digits and '-', "
            "not starting or ending with '-'; no '_', which remote-http-launcher refuses)",
            location,
        )
    return value


def check_path(kind: str, value: object, location: Location | None = None) -> str:
    """A directory on a frontend (bufferdir, database_dir)."""
    if not isinstance(value, str):
        raise UnsafeNameError(f"{kind} must be a string, not {type(value).__name__}", location)
    if len(value) > MAX_PATH_LENGTH:
        raise _too_long(kind, value, MAX_PATH_LENGTH, location)
    if not _PATH.fullmatch(value) or ".." in value.split("/"):
        raise _refuse(
            kind,
            value,
            "a path of letters, digits and '@_./~-', not starting with '-' and without '..'",
            location,
        )
    return value


# ------------------------------------------------------------------ queue fields
#
# A queue's fields end up in the daskserver's launch parameters, from where
# seamless-dask-wrapper and dask-jobqueue write them into the job script that
# bash runs: '#SBATCH -p <partition>', '#SBATCH -A <project>', '#SBATCH <directive>',
# '--local-directory <tmpdir>' on the worker command line (an unquoted shell
# word), 'export DASK_<KEY>=...' for extra_dask_config keys, prologue lines as
# they are. Each gets the alphabet it needs, and never a newline.

MAX_FIELD_LENGTH = 256

# Each rule is written once, as the source of a regex the loader matches whole; the JSON Schema
# of the same field (``json_schema_for``, used by core/fields.py) is built from the same string.

# Scheduler names: SLURM partitions (a comma-separated list is allowed), accounts, OAR queues.
SCHED_NAME_RE = r"[A-Za-z0-9_][A-Za-z0-9_.+-]*(?:,[A-Za-z0-9_][A-Za-z0-9_.+-]*)*"
# '32000MB', '16 GiB', '2.5G', '1000'
MEMORY_RE = r"[0-9]+(?:\.[0-9]+)? ?[A-Za-z]{0,3}"
# '01:00:00', '1-12:00:00', '30:00', '10m', '1.5h', '90 s', '2 hours'
DURATION_RE = r"[0-9]+(?:[-:][0-9]+){0,3}|[0-9]+(?:\.[0-9]+)? ?[A-Za-z]{1,12}"
# A tmpdir: the path alphabet, plus $VAR / ${VAR} (a scratch directory is often $TMPDIR or /scratch/$USER).
TMPDIR_RE = (r"(?:[A-Za-z0-9@_./~]|\$[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_]*\})"
             r"(?:[A-Za-z0-9@_./~-]|\$[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_]*\})*")
# A scheduler directive ('--gres=gpu:1', '-A acct', "host='n1'", '--constraint=a|b'): printable ASCII
# without '`' and '$' (sbatch reads the line itself, but nothing in it is for a shell to expand).
DIRECTIVE_RE = r"[\x20-\x23\x25-\x5f\x61-\x7e]*"
# Dask config keys ('distributed.worker.memory.target'): they become environment variable names.
DOTTED_RE = r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*"
# Anything that would end or break a line of a script.
LINE_BREAKER_RE = r"[\x00-\x1f\x7f\x85\u2028\u2029]"
ONE_LINE_RE = r"[^\x00-\x1f\x7f\x85\u2028\u2029]*"

_SCHED_NAME = re.compile(SCHED_NAME_RE)
_MEMORY = re.compile(MEMORY_RE)
_DURATION = re.compile(DURATION_RE)
_TMPDIR = re.compile(TMPDIR_RE)
_DIRECTIVE = re.compile(DIRECTIVE_RE)
_DOTTED = re.compile(DOTTED_RE)
_LINE_BREAKERS = re.compile(LINE_BREAKER_RE)


def _require_str(kind: str, value: object, location: Location | None) -> str:
    if not isinstance(value, str):
        raise UnsafeNameError(f"{kind} must be a string, not {type(value).__name__}", location)
    return value


def _one_line(kind: str, value: str, location: Location | None) -> None:
    bad = _LINE_BREAKERS.search(value)
    if bad is not None:
        raise UnsafeNameError(
            f"{kind} {_short(value)} holds a newline or control character (U+{ord(bad.group()):04X}); "
            "it would start a new line of the job script",
            location,
        )


def _length(kind: str, value: str, limit: int, location: Location | None) -> None:
    if len(value) > limit:
        raise _too_long(kind, value, limit, location)


def check_scheduler_name(kind: str, value: object, location: Location | None = None) -> str:
    """A SLURM partition (list), account/project or OAR queue: a '#SBATCH -p <value>' word."""
    text = _require_str(kind, value, location)
    _one_line(kind, text, location)
    _length(kind, text, MAX_FIELD_LENGTH, location)
    if not _SCHED_NAME.fullmatch(text):
        raise _refuse(kind, text, "letters, digits, '_', '.', '-' and '+' (',' between several), "
                      "starting with a letter, digit or '_'", location)
    return text


def check_memory(kind: str, value: object, location: Location | None = None) -> str | int:
    """A memory size: a whole number of bytes or '32000MB', '16 GiB'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = _require_str(kind, value, location)
    _one_line(kind, text, location)
    if not _MEMORY.fullmatch(text):
        raise _refuse(kind, text, "a size such as 32000MB, 16GB or 2.5GiB", location)
    return text


def check_duration(kind: str, value: object, location: Location | None = None) -> str | int:
    """A duration: '01:00:00', '1-00:00:00', '10m', '1.5h' or a number of seconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = _require_str(kind, value, location)
    _one_line(kind, text, location)
    if not _DURATION.fullmatch(text):
        raise _refuse(kind, text, 'a duration such as "01:00:00", "1-12:00:00", "10m" or "1.5h"', location)
    return text


def check_tmpdir(kind: str, value: object, location: Location | None = None) -> str:
    """A worker's scratch directory: a path, which may use $VAR or ${VAR}."""
    text = _require_str(kind, value, location)
    _one_line(kind, text, location)
    _length(kind, text, MAX_FIELD_LENGTH * 4, location)
    if not _TMPDIR.fullmatch(text) or ".." in text.split("/") or "IFS" in re.findall(r"\$\{?(\w+)", text):
        raise _refuse(kind, text, "a path of letters, digits and '@_./~-' (and $VAR or ${VAR}, not $IFS), "
                      "not starting with '-' and without '..'", location)
    return text


def check_directive(kind: str, value: object, location: Location | None = None) -> str:
    """One scheduler directive (one '#SBATCH <value>' / '#OAR <value>' line)."""
    text = _require_str(kind, value, location)
    _one_line(kind, text, location)
    _length(kind, text, MAX_FIELD_LENGTH * 4, location)
    if not _DIRECTIVE.fullmatch(text):
        raise _refuse(kind, text, "printable ASCII, without '`' and '$' (one scheduler option such as "
                      "--gres=gpu:1 per item)", location)
    return text


def check_prologue_line(kind: str, value: object, location: Location | None = None) -> str:
    """One line of shell run before the worker starts ('module load cuda'): one line, no control characters."""
    text = _require_str(kind, value, location)
    _one_line(kind, text, location)
    _length(kind, text, MAX_FIELD_LENGTH * 16, location)
    return text


def check_dotted_key(kind: str, value: object, location: Location | None = None) -> str:
    """A Dask configuration key; it becomes part of an environment variable name in the job script."""
    text = _require_str(kind, value, location)
    _one_line(kind, text, location)
    _length(kind, text, MAX_FIELD_LENGTH, location)
    if not _DOTTED.fullmatch(text):
        raise _refuse(kind, text, "dot-separated names of letters, digits, '_' and '-' "
                      "(such as distributed.worker.memory.target)", location)
    return text


def check_plain_data(kind: str, value: object, location: Location | None = None, depth: int = 0) -> object:
    """A value written into the job script by the wrapper (quoted there): plain data, single-line strings."""
    if depth > 16:
        raise UnsafeNameError(f"{kind} is nested too deeply", location)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        _one_line(kind, value, location)
        _length(kind, value, MAX_FIELD_LENGTH * 16, location)
        return value
    if isinstance(value, list):
        for item in value:
            check_plain_data(kind, item, location, depth + 1)
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            check_dotted_key(f"a key of {kind}", key, location)
            check_plain_data(kind, item, location, depth + 1)
        return value
    raise UnsafeNameError(f"{kind} may hold strings, numbers, booleans, lists and mappings, not {type(value).__name__}",
                          location)


_QUEUE_CHECKS: dict[str, Callable[[str, object, Location | None], object]] = {
    "partition": check_scheduler_name,
    "project": check_scheduler_name,
    "tmpdir": check_tmpdir,
    "memory": check_memory,
    "walltime": check_duration,
    "unknown_task_duration": check_duration,
    "target_duration": check_duration,
    "lifetime_stagger": check_duration,
    "lifetime": check_duration,
}
_QUEUE_LIST_CHECKS: dict[str, Callable[[str, object, Location | None], object]] = {
    "job_extra_directives": check_directive,
    "job_script_prologue": check_prologue_line,
}
_QUEUE_MAPPING_FIELDS = ("extra_dask_config", "dask_resources")
# Counts: each is a number of processes, threads, cores or jobs that something will start.
_QUEUE_COUNTS = ("cores", "job_cores", "processes", "worker_threads", "maximum_jobs")
MAX_QUEUE_COUNT = 100_000
MAX_LOCAL_WORKERS = 1024  # 'workers': local processes started by 'execution: spawn'


def check_count(kind: str, value: _T, location: Location | None = None, maximum: int = MAX_QUEUE_COUNT) -> _T:
    """A whole number of things to start: at most *maximum* (a file must not fork-bomb the machine).

    Lower bounds are the fields' own (``core/fields.py``).
    """
    if isinstance(value, int) and not isinstance(value, bool) and value > maximum:
        raise UnsafeNameError(f"{kind}: {value} is out of range; use a number up to {maximum:,}", location)
    return value


Locate = Callable[..., "Location | None"]


def check_queue_fields(values: Mapping[str, object], locate: Locate, *, allow_shell: bool = True) -> None:
    """Check the (type-checked) fields written for one queue; *locate(key[, index])* gives their position.

    ``job_script_prologue`` lines are shell commands by design: *allow_shell* is False
    for clusters defined inside a project's files, which may come with a cloned repository.
    """
    for key, value in values.items():
        if value is None:
            continue
        if key in _QUEUE_CHECKS:
            _QUEUE_CHECKS[key](key, value, locate(key))
        elif key in _QUEUE_COUNTS:
            check_count(key, value, locate(key))
        elif key in _QUEUE_LIST_CHECKS and isinstance(value, list):
            if key == "job_script_prologue" and not allow_shell:
                raise UnsafeNameError(
                    "job_script_prologue runs shell commands on the cluster's nodes, and a project file "
                    "(it may come with a cloned repository) cannot set it: define this queue in "
                    "~/.seamless/clusters.yaml (or ~/.seamless/clusters/*.yaml) instead",
                    locate(key),
                )
            for index, item in enumerate(value):
                _QUEUE_LIST_CHECKS[key](f"{key} item", item, locate(key, index))
        elif key in _QUEUE_MAPPING_FIELDS and isinstance(value, Mapping):
            for name, item in value.items():
                check_dotted_key(f"a key of {key}", name, locate(key, name))
                check_plain_data(f"{key}[{name!r}]", item, locate(key, name))


def check_cluster_fields(values: Mapping[str, object], locate: Callable[[str], "Location | None"]) -> None:
    """Cluster-level fields that reach a job script or start processes."""
    if values.get("memory_per_core_property_name") is not None:
        check_scheduler_name("memory_per_core_property_name", values["memory_per_core_property_name"],
                             locate("memory_per_core_property_name"))
    check_count("workers", values.get("workers"), locate("workers"), MAX_LOCAL_WORKERS)


# ------------------------------------------------------------------ the same rules as JSON Schema


def json_pattern(regex: str, *lookaheads: str) -> str:
    """*regex*, which the loader matches whole, as a JSON Schema ``pattern`` (which is searched).

    Anchored at both ends; ``$(?!\n)`` because Python's ``$`` (jsonschema's) also matches before a
    final newline, which the loader's ``fullmatch`` refuses. *lookaheads* are extra conditions at the start.
    """
    return "^" + "".join(lookaheads) + f"(?:{regex})$(?!\\n)"


def _string(regex: str, max_length: int | None, *lookaheads: str) -> dict[str, object]:
    schema: dict[str, object] = {"type": "string", "pattern": json_pattern(regex, *lookaheads)}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


_NO_DOTDOT = r"(?!(?:.*/)?\.\.(?:/|$))"
_NO_IFS = r"(?!.*\$\{?IFS(?![A-Za-z0-9_]))"
DOTTED_KEY_SCHEMA = _string(DOTTED_RE, MAX_FIELD_LENGTH)
# check_plain_data, but for its depth limit (which JSON Schema cannot count).
PLAIN_DATA_SCHEMA: dict[str, object] = {"anyOf": [
    {"type": ["null", "boolean", "number"]},
    _string(ONE_LINE_RE, MAX_FIELD_LENGTH * 16),
    {"type": "array", "items": {"$ref": "#/$defs/plain_data"}},
    {"type": "object", "propertyNames": DOTTED_KEY_SCHEMA, "additionalProperties": {"$ref": "#/$defs/plain_data"}},
]}
PLAIN_DATA_DEPTH_MESSAGE = "is nested too deeply"


def json_schema_for(key: str) -> dict[str, object] | None:
    """The JSON Schema of the checks above for queue/cluster field *key* (``None``: no such check).

    Mappings refer to ``#/$defs/plain_data`` (``PLAIN_DATA_SCHEMA``); counts are a ``maximum``.
    """
    if key in ("partition", "project", "memory_per_core_property_name"):
        return _string(SCHED_NAME_RE, MAX_FIELD_LENGTH)
    if key == "memory":
        return {"anyOf": [{"type": "integer"}, _string(MEMORY_RE, None)]}
    if _QUEUE_CHECKS.get(key) is check_duration:
        return {"anyOf": [{"type": "integer"}, _string(DURATION_RE, None)]}
    if key == "tmpdir":
        return _string(TMPDIR_RE, MAX_FIELD_LENGTH * 4, _NO_DOTDOT, _NO_IFS)
    if key == "job_extra_directives":
        return {"type": "array", "items": _string(DIRECTIVE_RE, MAX_FIELD_LENGTH * 4)}
    if key == "job_script_prologue":
        return {"type": "array", "items": _string(ONE_LINE_RE, MAX_FIELD_LENGTH * 16)}
    if key in _QUEUE_MAPPING_FIELDS:
        return {"type": "object", "propertyNames": DOTTED_KEY_SCHEMA,
                "additionalProperties": {"$ref": "#/$defs/plain_data"}}
    if key in _QUEUE_COUNTS:
        return {"type": "integer", "maximum": MAX_QUEUE_COUNT}
    if key == "workers":
        return {"type": "integer", "maximum": MAX_LOCAL_WORKERS}
    return None
