"""Parse and validate a launch dict the way remote-http-launcher 0.4.5 does.

A launch dict is the input of ``remote_http_launcher.run(conf)``. Its ``key``
and ``command`` are templates that the launcher evaluates as Python f-strings
over a namespace made of the dict's identifier-named entries (plus ``config``,
``key``, ``meta`` and ``status_file``). The names inside were validated
upstream; we still evaluate with no builtins, exactly like the launcher.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shlex
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .local_launch import LaunchRequest

from ..errors import ServiceError

CONFIG_DIR_ENV = "REMOTE_HTTP_LAUNCHER_DIR"
DEFAULT_DIRNAME = ".remote-http-launcher"

_FILENAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")
_DIRNAME_RE = re.compile(r"^[A-Za-z0-9@_./~-]+$")
_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")

# Keys of the launch dict that only steer the launcher's console output.
_LOGGING_KEYS = ("log_level", "log_file", "debug_log_file")


def is_valid_hostname_or_ip(host: str) -> bool:
    """Accept an IP address or an RFC 1123 host name (the launcher's rule)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    if not host or len(host) > 253:
        return False
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return all(label and _LABEL_RE.fullmatch(label) for label in labels)


def evaluate_template(template: str, namespace: Mapping[str, Any]) -> Any:
    """Evaluate ``template`` as an f-string, without builtins (as the launcher does)."""
    expression = f"f{template!r}"
    try:
        code = compile(expression, "<launch-dict>", "eval")
        return eval(code, {"__builtins__": {}}, dict(namespace))
    except Exception as exc:  # noqa: BLE001  (any error in a template is a config error)
        raise ValueError(f"cannot evaluate template {template!r}: {exc}") from None


def client_directory() -> Path:
    """Where client connection files live, as ``remote_http_launcher.run()`` sees it.

    The reference uses ``$REMOTE_HTTP_LAUNCHER_DIR`` itself (no ``client``
    suffix) when that variable is set, else ``~/.remote-http-launcher/client``.
    """
    base = os.environ.get(CONFIG_DIR_ENV)
    if base:
        return Path(base).expanduser()
    return Path.home() / DEFAULT_DIRNAME / "client"


def helper_base_directory() -> Path:
    """The base directory the ``rhl-*`` helpers use on *this* machine."""
    return Path(os.environ.get(CONFIG_DIR_ENV, f"~/{DEFAULT_DIRNAME}")).expanduser()


DEFAULT_SERVER_DIR = f"~/{DEFAULT_DIRNAME}/server"


@dataclass(frozen=True)
class Handshake:
    """The HTTP request that proves a service is up."""

    path: str = ""
    parameters: Mapping[str, str] = field(default_factory=dict)
    port_name: str | None = None

    def url(self, host: str, port: int) -> str:
        path = self.path
        params: dict[str, str] = {}
        if path:
            parsed = urllib.parse.urlsplit(path)
            path = parsed.path or ""
            params.update(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        params.update(self.parameters)
        if path and not path.startswith("/"):
            path = "/" + path
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        query = urllib.parse.urlencode(params)
        return urllib.parse.urlunsplit(("http", netloc, path or "/", query, ""))

    def port_of(self, data: Mapping[str, Any]) -> int:
        value = data[self.port_name or "port"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{self.port_name or 'port'} must be an integer")
        return value


def _parse_handshake(value: Any) -> Handshake | None:
    if value is None:
        return None
    if isinstance(value, str):
        return Handshake(path=value)
    if isinstance(value, Mapping):
        path = value.get("path", "")
        if not isinstance(path, str):
            raise TypeError("handshake.path must be a string")
        raw_params = value.get("parameters", {})
        if not isinstance(raw_params, Mapping):
            raise TypeError("handshake.parameters must be a mapping")
        params: dict[str, str] = {}
        for name, val in raw_params.items():
            if not isinstance(name, str) or not isinstance(val, (str, int, float)):
                raise TypeError(
                    "handshake parameters must map strings to simple values"
                )
            params[name] = str(val)
        port_name = value.get("port_name")
        if port_name is not None and not isinstance(port_name, str):
            raise TypeError("handshake.port_name must be a string")
        return Handshake(path=path, parameters=params, port_name=port_name)
    raise TypeError("handshake must be a path or a mapping with path and parameters")


def _json_mapping(value: Any, name: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping")
    try:
        json.dumps(value)
    except TypeError as exc:
        raise ValueError(f"{name} must be JSON-serializable: {exc}") from None
    return dict(value)


def _optional_host(
    data: Mapping[str, Any], name: str, default: Any = None
) -> str | None:
    value = data.get(name, default)
    if value is None:
        return None
    if not isinstance(value, str) or not is_valid_hostname_or_ip(value):
        raise TypeError(f"{name} must be a host name or IP address, not {value!r}")
    return value


@dataclass(frozen=True)
class LaunchConfig:
    """A validated launch dict, with its key evaluated."""

    key: str
    workdir: str
    command_template: str
    hostname: str | None
    ssh_hostname: str | None
    network_interface: str
    handshake: Handshake | None
    tunnel: bool
    conda_env: str | None
    file_parameters: dict[str, Any] | None
    meta: dict[str, Any] | None
    namespace: Mapping[str, Any]

    @property
    def is_local(self) -> bool:
        return self.hostname is None

    @property
    def host_label(self) -> str:
        return self.ssh_hostname or "localhost"

    @property
    def service_name(self) -> str:
        """A human name for error messages: ``meta.service`` if given, else the key."""
        if self.meta is not None:
            for name in ("service", "tool", "name"):
                value = self.meta.get(name)
                if isinstance(value, str) and value:
                    return value
        return self.key

    @classmethod
    def from_mapping(cls, conf: Mapping[str, Any]) -> LaunchConfig:
        try:
            return cls._build(conf)
        except (ValueError, TypeError) as exc:
            key = conf.get("key") if isinstance(conf, Mapping) else None
            raise ServiceError(
                f"Invalid launch dict{f' {key!r}' if isinstance(key, str) else ''}: {exc}. "
                "Fix the service definition that produced it.",
                service=key if isinstance(key, str) else None,
            ) from None

    @classmethod
    def _build(cls, conf: Mapping[str, Any]) -> LaunchConfig:
        if not isinstance(conf, Mapping):
            raise TypeError("a launch dict must be a mapping")
        data = {k: v for k, v in conf.items() if k not in _LOGGING_KEYS}
        workdir = data.get("workdir")
        if not isinstance(workdir, str) or not _DIRNAME_RE.fullmatch(workdir):
            raise TypeError("workdir must be a plausible UNIX directory name")
        hostname = _optional_host(data, "hostname")
        ssh_hostname = _optional_host(data, "ssh_hostname", hostname)
        if hostname is not None and ssh_hostname is None:
            raise ValueError("ssh_hostname is required when hostname is set")
        network_interface = _optional_host(data, "network_interface", "localhost")
        assert network_interface is not None
        handshake = _parse_handshake(data.get("handshake"))
        file_parameters = _json_mapping(data.get("file_parameters"), "file_parameters")
        meta = _json_mapping(data.get("meta"), "meta")
        tunnel = data.get("tunnel", False)
        if not isinstance(tunnel, bool):
            raise TypeError("tunnel must be a boolean")
        if tunnel and hostname is None:
            raise ValueError("tunnel needs hostname and ssh_hostname")
        conda = data.get("conda")
        if conda == "":
            conda = None  # as the reference launcher: an empty name means no conda
        if conda is not None and (
            not isinstance(conda, str) or not conda.strip() or "\n" in conda
        ):
            raise TypeError("conda must be an environment name")

        namespace: dict[str, Any] = {
            k: v for k, v in data.items() if isinstance(k, str) and k.isidentifier()
        }
        namespace["config"] = data
        key_template = data.get("key")
        if not isinstance(key_template, str):
            raise TypeError("key must be a string template")
        key = evaluate_template(key_template, namespace)
        if not isinstance(key, str) or not _FILENAME_RE.fullmatch(key):
            raise TypeError(
                f"the key must evaluate to a plausible file name, not {key!r}"
            )
        namespace["key"] = key
        if meta is not None:
            namespace["meta"] = meta
        command = data.get("command")
        if not isinstance(command, str):
            raise TypeError("command must be a string template")
        return cls(
            key=key,
            workdir=workdir,
            command_template=command,
            hostname=hostname,
            ssh_hostname=ssh_hostname,
            network_interface=network_interface,
            handshake=handshake,
            tunnel=tunnel,
            conda_env=conda,
            file_parameters=file_parameters,
            meta=meta,
            namespace=namespace,
        )

    def status_file(self, server_dir: str) -> str:
        return f"{server_dir.rstrip('/')}/{self.key}.json"

    def service_argv(self, server_dir: str) -> list[str]:
        """The evaluated service command line, split into words."""
        namespace = dict(self.namespace)
        namespace["status_file"] = self.status_file(server_dir)
        try:
            command = evaluate_template(self.command_template, namespace)
        except ValueError as exc:
            raise ServiceError(
                str(exc), service=self.service_name, host=self.host_label
            ) from None
        if not isinstance(command, str) or not command.strip() or "\n" in command:
            raise ServiceError(
                f"The command of {self.key!r} must evaluate to a one-line command, not {command!r}",
                service=self.service_name,
                host=self.host_label,
            )
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise ServiceError(
                f"The command of {self.key!r} cannot be split into words: {exc}",
                service=self.service_name,
                host=self.host_label,
            ) from None
        return argv

    def launch_request(self, server_dir: str) -> LaunchRequest:
        """The launch as a value; ``helper_argv()`` makes the ``rhl-launch-service`` argv where one runs."""
        from .local_launch import LaunchRequest

        return LaunchRequest(
            key=self.key, workdir=self.workdir, service_argv=tuple(self.service_argv(server_dir)),
            conda_env=self.conda_env or None, network_interface=self.network_interface or None,
            parameters=self.file_parameters, meta=self.meta,
        )

    def launch_argv(self, server_dir: str) -> list[str]:
        """``rhl-launch-service`` argv, built exactly as the reference builds it."""
        return self.launch_request(server_dir).helper_argv()
