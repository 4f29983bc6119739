"""Find the configuration files: the workdir's, its parents' (``inherit_from_parent``), the cluster files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigFileError
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


def cluster_files(home: str | Path) -> list[Path]:
    """``~/.seamless/clusters.yaml`` then ``~/.seamless/clusters/*.yaml`` (sorted)."""
    base = Path(home) / ".seamless"
    paths = [base / "clusters.yaml"] + sorted((base / "clusters").glob("*.yaml"))
    return [p for p in paths if p.is_file()]


def load_cluster_file(path: Path) -> YamlDocument:
    doc = load_yaml_file(path)
    if doc.data is not None and not isinstance(doc.data, dict):
        raise ConfigFileError(
            "expected a mapping of cluster names to cluster definitions", doc.locate(())
        )
    return doc
