"""The cluster vocabulary, described once: every field's name, type, default, constraints and docs.

Four things are derived from these tables and nothing else:

- the loader's checks (``check_shape`` / ``check_value``, used by ``clusters.py``),
- the diagnostics ``seamless-config validate`` collects (the same checks, all of them),
- the JSON Schemas shipped in ``seamless_config/schemas/`` (``cluster_file_schema``),
- the field tables in ``docs/clusters.md`` (``markdown_table``).

A rule that involves several fields (``port_start`` with ``port_end``,
``exclusive`` against ``cores``) is a ``Rule``: its check lives in
``clusters.py`` and its description here, with the JSON Schema fragment that
expresses it when JSON Schema can (``schema=None`` when it cannot: the schema
test lists those rules as the only allowed difference).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ClusterDefinitionError, ConfigFileError
from .hints import did_you_mean
from .names import MAX_NAME_LENGTH, MAX_PATH_LENGTH, PLAIN_DATA_DEPTH_MESSAGE, PLAIN_DATA_SCHEMA, check_host, check_name, check_path, json_schema_for
from .yaml_io import Here, SexagesimalInt

Kind = Literal[
    "name", "conda", "host", "path", "string", "integer", "boolean", "duration", "memory",
    "string_list", "mapping", "choice",
]

# JSON Schema patterns equal to the safe-name checks of names.py (the schema test proves it on the corpus).
# Known differences left (JSON Schema cannot say them, or not without a page of regex), besides the Rules
# with schema=None below: a whole-number float ('cores: 1.0') is an integer to JSON Schema, not to the loader;
# a malformed IPv6 address ('::::') or one with a scope ('fe80::1%eth0') is judged by ipaddress, not here;
# a NaN inside extra_dask_config has no JSON form.
# Each ends in '$(?!\n)': jsonschema searches with Python's re, whose '$' also matches before a final newline.
NAME_BODY = r"(?!.*--)(?!.*STAGE-)[A-Za-z0-9_][A-Za-z0-9_.+-]*"
NAME_PATTERN = "^" + NAME_BODY + r"$(?!\n)"
HOST_PATTERN = (
    r"^(?=.{1,253}\.?$(?!\n))(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$(?!\n)|^(?=[^:]*:)[0-9A-Fa-f:.]{2,45}$(?!\n)"
)  # the second form: an IPv6 address (IPv4 addresses are hostnames by the first); it still admits '::::'

PATH_PATTERN = r"^(?!(?:.*/)?\.\.(?:/|$))[A-Za-z0-9@_./~][A-Za-z0-9@_./~-]*$(?!\n)"
NAME_SCHEMA: dict[str, Any] = {"type": "string", "maxLength": MAX_NAME_LENGTH, "pattern": NAME_PATTERN}


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    doc: str
    required: bool = False
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = True  # an explicit ``null`` means "unset"


@dataclass(frozen=True)
class Rule:
    """A constraint across fields of one shape."""

    doc: str
    schema: dict[str, Any] | None = None  # its JSON Schema form, if JSON Schema can say it
    # Fragments of the loader's messages for this rule (when the schema cannot say it, the schema
    # test allows exactly these as the difference between schema and loader).
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shape:
    """A mapping with a fixed set of keys (a cluster, a frontend, a service, a queue)."""

    name: str
    doc: str
    fields: tuple[Field, ...]
    rules: tuple[Rule, ...] = ()
    extra_keys: tuple[str, ...] = ()  # keys handled by the shape's parser (nested shapes)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields) + self.extra_keys

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


_PORT_DOC = "first/last port the service may listen on (it picks a free one); set both or neither"
PORT_RULE = Rule(
    "'port_start' and 'port_end' are set together",
    schema={"dependentRequired": {"port_start": ["port_end"], "port_end": ["port_start"]}},
)
PORT_ORDER_RULE = Rule("port_start <= port_end", messages=("use port_start <= port_end",))


def _ports() -> tuple[Field, ...]:
    return (
        Field("port_start", "integer", _PORT_DOC, minimum=1, maximum=65535),
        Field("port_end", "integer", _PORT_DOC, minimum=1, maximum=65535),
    )


_CONDA = Field("conda", "conda", 'conda environment to run the service in; "" (or absent) means no conda')
_IFACE = "the address the service listens on (127.0.0.1, 0.0.0.0, a hostname)"

HASHSERVER = Shape(
    "hashserver", "The buffer server of a frontend.",
    (Field("bufferdir", "path", "directory of the buffers (per project and stage below it)", required=True),
     _CONDA, Field("network_interface", "host", _IFACE)) + _ports(),
    rules=(PORT_RULE, PORT_ORDER_RULE),
)
DATABASE = Shape(
    "database", "The result database of a frontend.",
    (Field("database_dir", "path", "directory of the database files", required=True),
     _CONDA, Field("network_interface", "host", _IFACE)) + _ports(),
    rules=(PORT_RULE, PORT_ORDER_RULE),
)
JOBSERVER = Shape(
    "jobserver", "The HTTP jobserver (runs transformations on the frontend).",
    (Field("network_interface", "host", _IFACE, required=True, nullable=False),
     Field("port_start", "integer", _PORT_DOC, required=True, minimum=1, maximum=65535, nullable=False),
     Field("port_end", "integer", _PORT_DOC, required=True, minimum=1, maximum=65535, nullable=False),
     _CONDA),
    rules=(PORT_RULE, PORT_ORDER_RULE),
)
DASKSERVER = Shape(
    "daskserver", "The Dask scheduler wrapper (submits workers to the cluster's queues).",
    (Field("network_interface", "host", _IFACE, required=True, nullable=False),
     Field("port_start", "integer", _PORT_DOC, required=True, minimum=1, maximum=65535, nullable=False),
     Field("port_end", "integer", _PORT_DOC, required=True, minimum=1, maximum=65535, nullable=False)),
    rules=(PORT_RULE, PORT_ORDER_RULE),
)
SERVICE_SHAPES: dict[str, Shape] = {s.name: s for s in (HASHSERVER, DATABASE, JOBSERVER, DASKSERVER)}

FRONTEND = Shape(
    "frontend", "A host that runs services for the cluster.",
    (Field("hostname", "host", "the host's name (may be omitted only in 'type: local' clusters: localhost)",
           nullable=False),
     Field("ssh_hostname", "host", "SSH alias or host to connect to, if not hostname")),
    rules=(Rule("'hostname' is required unless the cluster is 'type: local'"),),  # schema: in CLUSTER
    extra_keys=tuple(SERVICE_SHAPES),
)

QUEUE = Shape(
    "queue", "A Dask job queue (daskserver clusters). 'TEMPLATE: other' copies the fields of a queue "
    "defined before it; '-' in keys is read as '_'.",
    (
        Field("conda", "conda", "conda environment of the workers"),
        Field("walltime", "duration", 'job time limit, e.g. "01:00:00" (quoted)'),
        Field("memory", "memory", 'memory per job, e.g. "64GB"'),
        Field("unknown_task_duration", "duration", "Dask's guess for tasks it has not timed"),
        Field("target_duration", "duration", "Dask adaptive scaling target"),
        Field("maximum_jobs", "integer", "most jobs at once", minimum=0),
        Field("lifetime_stagger", "duration", "spread of worker lifetimes"),
        Field("interactive", "boolean", "run workers interactively"),
        Field("exclusive", "boolean", "one task at a time per job: a job of 'cores', or without 'cores' a whole node"),
        Field("project", "string", "scheduler account/project"),
        Field("partition", "string", "scheduler partition"),
        Field("tmpdir", "string", "local scratch directory of the workers"),
        Field("worker_threads", "integer", "threads per worker", minimum=1),
        Field("processes", "integer", "worker processes per job", minimum=1),
        Field("lifetime", "duration", "worker lifetime before restart"),
        Field("extra_dask_config", "mapping", "extra Dask configuration"),
        Field("job_extra_directives", "string_list", "extra scheduler directives"),
        Field("job_script_prologue", "string_list", "lines run before the worker starts"),
        Field("dask_resources", "mapping", "Dask worker resources"),
        Field("cores", "integer", "cores per job (required unless exclusive or local)", minimum=1),
        Field("job_cores", "integer", "cores requested from the scheduler, if not cores", minimum=1),
    ),
    rules=(
        Rule("'TEMPLATE' names a queue defined before this one", messages=("uses TEMPLATE",)),
        Rule("'exclusive: true' excludes 'job_cores'; without it, 'cores' is required (except in local clusters); "
             "checked after TEMPLATE merging", messages=("remove 'job_cores'", "exclusive queue needs 'cores'",
                                                          "set 'cores'")),
        Rule("durations such as 1:00:00 are quoted (YAML 1.1 reads them as numbers of seconds)",
             messages=("is read by YAML 1.1 as the number",)),
        Rule("values of 'extra_dask_config' / 'dask_resources' are nested at most 16 deep",
             messages=(PLAIN_DATA_DEPTH_MESSAGE,)),
        Rule("'job_script_prologue' only in ~/.seamless cluster files, not in a project file's 'clusters' "
             "(the project schema allows only null there)", schema={}),  # expressed by cluster_schema(allow_shell)
    ),
    extra_keys=("TEMPLATE", "name"),
)

CLUSTER_TYPES: tuple[str, ...] = ("local", "slurm", "oar")
CLUSTER = Shape(
    "cluster", "One cluster: where services run and where workers are submitted.",
    (
        Field("type", "choice", "the scheduler", choices=CLUSTER_TYPES),
        Field("tunnel", "boolean", "reach the services through SSH tunnels", default=False),
        Field("workers", "integer", "Dask workers / jobserver workers", minimum=1),
        Field("memory_per_core_property_name", "string", "scheduler property for memory per core"),
        Field("default_queue", "string", "the queue used when none is selected (must be one of 'queues')"),
    ),
    rules=(
        Rule("'default_queue' names one of the cluster's queues", messages=("names no queue of cluster",)),
        Rule("'hostname' of each frontend is required unless 'type: local'", schema={
            "if": {"properties": {"type": {"const": "local"}}, "required": ["type"]},
            "else": {"properties": {"frontends": {"items": {"required": ["hostname"]}}}},
        }),
        Rule("'local_cluster' names a defined cluster", messages=("names no defined cluster",)),
    ),
    extra_keys=("frontends", "queues"),
)
SHAPES: tuple[Shape, ...] = (CLUSTER, FRONTEND, HASHSERVER, DATABASE, JOBSERVER, DASKSERVER, QUEUE)


# ------------------------------------------------------------------ checks


@dataclass
class Diagnostics:
    """Problems found so far; the loader raises the first, ``validate`` reports them all."""

    problems: list[ConfigFileError] = field(default_factory=list)
    count: int = 0  # every problem added, duplicates included (callers compare it before/after)
    _seen: set[tuple[str, str]] = field(default_factory=set, repr=False)  # linear dedupe (a file can hold ~10^4)

    def add(self, error: ConfigFileError) -> None:
        self.count += 1
        key = (str(error.location), error.reason)
        if error.location is None or key not in self._seen:
            self._seen.add(key)
            self.problems.append(error)

    def guard(self, check: Callable[[], Any], default: Any = None) -> Any:
        """Run *check*; record a configuration error and return *default* instead of raising."""
        try:
            return check()
        except ConfigFileError as error:
            self.add(error)
            return default

    def raise_first(self) -> None:
        if self.problems:
            raise self.problems[0]

    def __iter__(self) -> Iterator[ConfigFileError]:
        return iter(self.problems)

    def __bool__(self) -> bool:
        return bool(self.problems)


def fail(message: str, here: Here) -> ClusterDefinitionError:
    return ClusterDefinitionError(message, here.location)


def check_keys(data: dict[str, Any], shape: Shape, what: str, here: Here, diags: Diagnostics,
               display: Callable[[str], str] = str) -> None:
    allowed = shape.keys
    for key in data:
        if key not in allowed:
            hint = did_you_mean(key, tuple(f.name for f in shape.fields) if shape is QUEUE else allowed)
            diags.add(fail(f"unknown key '{display(key)}' in {what}{hint}", here.at(display(key))))


def check_required(data: dict[str, Any], shape: Shape, what: str, here: Here, diags: Diagnostics) -> None:
    for f in shape.fields:
        if f.required and f.name not in data:
            diags.add(fail(f"{what} needs '{f.name}'", here))


def check_value(f: Field, value: Any, here: Here) -> Any:
    """The checked value of field *f* (``here`` is the mapping holding it); raises on a bad value."""
    key = f.name
    at = here.at(key)
    if value is None and f.nullable:
        return None
    kind = f.kind
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(f"'{key}' must be a whole number, not {value!r}", at)
        if f.minimum is not None and value < f.minimum or f.maximum is not None and value > f.maximum:
            bounds = f"between {f.minimum} and {f.maximum}" if f.maximum is not None else f"at least {f.minimum}"
            raise fail(f"'{key}: {value}' is out of range; use a whole number {bounds}", at)
        return int(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise fail(f"'{key}' must be true or false, not {value!r}", at)
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise fail(f"'{key}' must be a string, not {value!r}; put it in quotes", at)
        return value
    if kind == "choice":
        if value not in f.choices:
            raise fail(f"unknown {key} {value!r}{did_you_mean(value, f.choices)}", at)
        return value
    if kind == "duration":
        if isinstance(value, SexagesimalInt):
            raise fail(
                f"'{key}: {value.text}' is read by YAML 1.1 as the number {int(value)}, not a duration; "
                f'quote it: {key}: "{value.text}"', at)
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise fail(f"'{key}' must be a duration string such as \"01:00:00\" or \"10m\", not {value!r}", at)
    if kind == "memory":
        if isinstance(value, str):
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(f"'{key}' must be a whole number or a string such as \"64GB\", not {value!r}", at)
        return value
    if kind == "string_list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(f"'{key}' must be a list of strings, not {value!r}", at)
        return list(value)
    if kind == "mapping":
        if not isinstance(value, dict):
            raise fail(f"'{key}' must be a mapping, not {value!r}", at)
        return dict(value)
    if kind == "conda":
        return "" if value == "" else check_name("conda", value, at.location)
    if kind == "name":
        return check_name(key, value, at.location)
    if kind == "host":
        return check_host(key, value, at.location)
    if kind == "path":
        return check_path(key, value, at.location)
    raise AssertionError(kind)


def check_fields(data: dict[str, Any], shape: Shape, here: Here, diags: Diagnostics) -> dict[str, Any]:
    """Every written field of *shape* checked; bad ones are reported and left out."""
    values: dict[str, Any] = {}
    for f in shape.fields:
        if f.name in data:
            try:
                values[f.name] = check_value(f, data[f.name], here)
            except ConfigFileError as error:
                diags.add(error)
    return values


# ------------------------------------------------------------------ JSON Schema


def _field_schema(f: Field) -> dict[str, Any]:
    schema: dict[str, Any]
    if f.kind == "integer":
        schema = {"type": "integer"}
        if f.minimum is not None:
            schema["minimum"] = f.minimum
        if f.maximum is not None:
            schema["maximum"] = f.maximum
    elif f.kind == "boolean":
        schema = {"type": "boolean"}
    elif f.kind == "string":
        schema = {"type": "string"}
    elif f.kind == "choice":
        schema = {"enum": list(f.choices)}
    elif f.kind == "duration":
        schema = {"type": ["string", "integer"]}
    elif f.kind == "memory":
        schema = {"type": ["string", "integer"]}
    elif f.kind == "string_list":
        schema = {"type": "array", "items": {"type": "string"}}
    elif f.kind == "mapping":
        schema = {"type": "object"}
    elif f.kind == "conda":
        schema = {"type": "string", "maxLength": MAX_NAME_LENGTH, "pattern": "^$|" + NAME_PATTERN}
    elif f.kind == "name":
        schema = dict(NAME_SCHEMA)
    elif f.kind == "host":
        schema = {"type": "string", "pattern": HOST_PATTERN}
    else:
        schema = {"type": "string", "maxLength": MAX_PATH_LENGTH, "pattern": PATH_PATTERN}
    if f.nullable and not f.required:
        schema = {"anyOf": [schema, {"type": "null"}]}
    schema["description"] = f.doc
    return schema


def _checked_field_schema(f: Field) -> dict[str, Any]:
    """A queue or cluster field's schema, with what names.py checks before it reaches a job script."""
    schema = _field_schema(f)
    extra = json_schema_for(f.name)
    if extra is None:
        return schema
    if f.kind == "integer":
        extra = {**_field_schema(Field(f.name, f.kind, f.doc, minimum=f.minimum, nullable=False)), **extra}
    else:
        extra = dict(extra)
    extra["description"] = f.doc
    return {"anyOf": [extra, {"type": "null"}], "description": f.doc} if f.nullable and not f.required else extra


def shape_schema(shape: Shape, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    make = _checked_field_schema if shape in (QUEUE, CLUSTER) else _field_schema
    properties = {f.name: make(f) for f in shape.fields}
    properties.update(extra or {})
    schema: dict[str, Any] = {
        "type": "object",
        "description": shape.doc,
        "properties": properties,
        "additionalProperties": False,
    }
    required = [f.name for f in shape.fields if f.required]
    if required:
        schema["required"] = required
    for rule in shape.rules:
        if rule.schema:
            schema.update(rule.schema)
    return schema


def unexpressible_messages() -> tuple[str, ...]:
    """Message fragments of the rules JSON Schema cannot express (the schema test's allowed difference)."""
    return tuple(m for shape in SHAPES for rule in shape.rules if rule.schema is None for m in rule.messages)


def cluster_schema(allow_shell: bool = True) -> dict[str, Any]:
    """The ``$defs`` of a cluster; *allow_shell* False for clusters inside a project file (no job_script_prologue)."""
    services = {name: shape_schema(s) for name, s in SERVICE_SHAPES.items()}
    frontend = shape_schema(FRONTEND, services)
    queue_props: dict[str, Any] = {"TEMPLATE": {"type": ["string", "null"],
                                                "description": "a queue defined before this one, whose fields are copied"}}
    if not allow_shell:
        queue_props["job_script_prologue"] = {
            "type": "null", "description": "shell lines run before the worker: only in ~/.seamless cluster files"}
    queue = shape_schema(QUEUE, queue_props)
    # '-' in queue keys is read as '_': accept both spellings.
    queue["properties"].update({k.replace("_", "-"): v for k, v in list(queue["properties"].items()) if "_" in k})
    queue["properties"]["name"] = {}
    cluster = shape_schema(CLUSTER, {
        "frontends": {"type": "array", "items": {"$ref": "#/$defs/frontend"},
                      "description": "the hosts that run services"},
        "queues": {"anyOf": [{"type": "object", "propertyNames": NAME_SCHEMA,
                              "additionalProperties": {"$ref": "#/$defs/queue"}}, {"type": "null"}],
                   "description": "Dask job queues"},
    })
    cluster["required"] = ["frontends"]
    return {"cluster": cluster, "frontend": frontend, "queue": queue, "plain_data": PLAIN_DATA_SCHEMA}


def cluster_file_schema() -> dict[str, Any]:
    """The JSON Schema of ``~/.seamless/clusters.yaml`` (and ``clusters/*.yaml``)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://seamless-config/schemas/clusters.schema.json",
        "title": "seamless-config cluster file",
        "description": "A mapping of cluster names to cluster definitions; 'local_cluster' names "
                       "the machine's own cluster.",
        "type": ["object", "null"],
        "properties": {"local_cluster": {"type": "string"}},
        "propertyNames": NAME_SCHEMA,
        "additionalProperties": {"$ref": "#/$defs/cluster"},
        "$defs": cluster_schema(),
    }


def project_file_schema(commands: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The JSON Schema of ``seamless.yaml`` / ``seamless.profile.yaml`` (*commands*: name -> value schema)."""
    items: list[dict[str, Any]] = [{"const": "inherit_from_parent"}]
    for name, value in commands.items():
        items.append({"type": "object", "properties": {name: value}, "required": [name],
                      "additionalProperties": False})
    items.append({"type": "object", "minProperties": 1, "maxProperties": 1,
                  "patternProperties": {r"^stage\s+(?=\S{1,%d}\s*$(?!\n))" % MAX_NAME_LENGTH + NAME_BODY + r"\s*$(?!\n)": {"$ref": "#/$defs/commands"}},
                  "additionalProperties": False})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://seamless-config/schemas/project.schema.json",
        "title": "seamless.yaml / seamless.profile.yaml",
        "description": "A list of commands, applied in order; 'stage NAME:' blocks apply in that stage.",
        "anyOf": [{"$ref": "#/$defs/commands"}, {"type": "null"}],
        "$defs": {"commands": {"type": "array", "items": {"anyOf": items}}, **cluster_schema(allow_shell=False)},
    }


# ------------------------------------------------------------------ docs


def markdown_table(shape: Shape) -> str:
    """The docs table of *shape*'s fields (docs/clusters.md includes these; a test keeps them in sync)."""
    rows = ["| key | type | default | constraints | meaning |", "|---|---|---|---|---|"]
    for f in shape.fields:
        constraints = []
        if f.required:
            constraints.append("required")
        if f.minimum is not None:
            constraints.append(f">= {f.minimum}")
        if f.maximum is not None:
            constraints.append(f"<= {f.maximum}")
        if f.choices:
            constraints.append(" / ".join(f.choices))
        default = "" if f.default is None else f"`{f.default!r}`".replace("False", "false")
        rows.append(f"| `{f.name}` | {f.kind} | {default} | {', '.join(constraints)} | {f.doc} |")
    for rule in shape.rules:
        rows.append(f"| (rule) | | | | {rule.doc} |")
    return "\n".join(rows)


# ------------------------------------------------------------------ the command language's values

SUBPROJECT_PATTERN = r"^(?!.*--)(?!.*STAGE-)[A-Za-z0-9_][A-Za-z0-9_.+-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*$(?!\n)"
NODE_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.,\[\]-]*$(?!\n)"


def command_value_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each command's argument (``rules.choose_*`` check the same)."""
    name = NAME_SCHEMA
    return {
        "project": {**name, "description": "the project: storage is per project"},
        "subproject": {"type": "string", "maxLength": 2 * MAX_NAME_LENGTH, "pattern": SUBPROJECT_PATTERN,
                       "description": "a subproject ('/' separates parts)"},
        "cluster": {"anyOf": [name, {"type": "null"}], "description": "the cluster to use"},
        "execution": {"enum": ["process", "spawn", "remote"], "description": "where transformations run"},
        "queue": {"type": "string", "description": "a queue of the selected cluster"},
        "remote": {"enum": [None, "jobserver", "daskserver"], "description": "which job backend"},
        "persistent": {"type": "boolean", "description": "store results in the cluster's database"},
        "record": {"type": "boolean", "description": "capture full execution records"},
        "node": {"anyOf": [{"type": "string", "pattern": NODE_PATTERN}, {"type": "null"}],
                 "description": "a node name or SLURM node list"},
        "inherit_from_parent": {"description": "also read the parent directory's files (argument ignored)"},
        "nparallel": {"type": "integer", "minimum": 1, "description": "parallel transformations"},
        "clusters": {"type": "object", "propertyNames": NAME_SCHEMA,
                     "properties": {"local_cluster": {"type": "string"}},
                     "additionalProperties": {"$ref": "#/$defs/cluster"},
                     "description": "inline cluster definitions"},
    }
