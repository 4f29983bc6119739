"""Safe-name checks for every string that reaches a launcher template, a path or a shell word.

remote-http-launcher evaluates ``key`` and ``command`` as Python f-strings, and
the hostnames become SSH arguments. A name from a YAML file must therefore be
data, never code: anything outside a conservative alphabet is refused here,
before it is stored, with a message that says what is allowed.
"""

from __future__ import annotations

import ipaddress
import re

from ..errors import Location, UnsafeNameError

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

NAME_RULE = "letters, digits, '_', '.', '-' and '+', starting with a letter, digit or '_'"


def _refuse(kind: str, value: object, rule: str, location: Location | None) -> UnsafeNameError:
    return UnsafeNameError(f"{kind} {value!r} is not allowed: use {rule}", location)


def check_name(kind: str, value: object, location: Location | None = None) -> str:
    """A project, stage, substage, cluster, queue or conda environment name."""
    if not isinstance(value, str):
        raise UnsafeNameError(f"{kind} must be a string, not {type(value).__name__}", location)
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
    if not _PATH.fullmatch(value) or ".." in value.split("/"):
        raise _refuse(
            kind,
            value,
            "a path of letters, digits and '@_./~-', not starting with '-' and without '..'",
            location,
        )
    return value
