"""Find the configuration files: the workdir's, its parents' (``inherit_from_parent``), the cluster files."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigFileError, Location
from .commands import Entry, parse_file, wants_parent
from .yaml_io import YamlDocument, load_yaml_file

CONFIG_FILENAMES: tuple[str, ...] = ("seamless.yaml", "seamless.profile.yaml")


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    entries: tuple[Entry, ...]


def discover_config_files(workdir: str | Path) -> list[ConfigFile]:
    """The project's files, parents first, so that child commands override parent commands."""
    directories: list[list[ConfigFile]] = []
    current = Path(workdir).resolve()
    depth = 0
    while True:
        inherited_from = str(current) if depth > 0 else None
        files: list[ConfigFile] = []
        inherit = False
        for filename in CONFIG_FILENAMES:
            path = current / filename
            if not path.is_file():
                check_not_broken_link(path)
                continue
            entries = parse_file(load_yaml_file(path), inherited_from)
            files.append(ConfigFile(path, entries))
            inherit = inherit or wants_parent(entries)
        directories.append(files)
        if not inherit or current.parent == current:
            break
        current = current.parent
        depth += 1
    return [f for files in reversed(directories) for f in files]


def check_not_broken_link(path: Path) -> None:
    """A symlink in place of a configuration file that leads nowhere is an error, not an absent file.

    So is a FIFO, socket or device there: it is never read (a FIFO would block, /dev/zero never ends).
    """
    if not path.is_symlink():
        if path.exists() and not path.is_dir():
            raise ConfigFileError(
                f"{path.name} is not a regular file (a FIFO, socket or device); replace it with a file",
                Location(str(path)),
            )
        return
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop this way
        problem = "is a symlink loop"
    except OSError as exc:
        problem = "is a symlink loop" if exc.errno == errno.ELOOP else f"is a dangling symlink (to {os.readlink(path)})"
    else:
        problem = "is a symlink to something that is not a file"
    raise ConfigFileError(f"{path.name} {problem}; fix or remove the link", Location(str(path)))


def cluster_files(home: str | Path) -> list[Path]:
    """``~/.seamless/clusters.yaml`` then ``~/.seamless/clusters/*.yaml`` (sorted)."""
    base = Path(home) / ".seamless"
    paths = [base / "clusters.yaml"] + sorted((base / "clusters").glob("*.yaml"))
    for p in paths:
        if not p.is_file():
            check_not_broken_link(p)
    return [p for p in paths if p.is_file()]


def load_cluster_file(path: Path) -> YamlDocument:
    doc = load_yaml_file(path)
    if doc.data is not None and not isinstance(doc.data, dict):
        raise ConfigFileError(
            "expected a mapping of cluster names to cluster definitions", doc.locate(())
        )
    return doc
