"""The client connection file ``<client dir>/<key>.json``, in the reference format."""

from __future__ import annotations

import json
import os
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .launch_config import client_directory

CLIENT_FILE_PERMS = 0o600


@dataclass(frozen=True)
class ClientFile:
    directory: Path
    key: str

    @classmethod
    def for_key(cls, key: str, directory: Path | None = None) -> ClientFile:
        return cls(directory if directory is not None else client_directory(), key)

    @property
    def path(self) -> Path:
        return self.directory / f"{self.key}.json"

    @property
    def lock_path(self) -> Path:
        return self.directory / f"{self.key}.lock"

    def lock(self, *, timeout: float) -> AbstractAsyncContextManager[None]:
        """Serialise ensure_service for this key between local processes."""
        from .file_lock import file_lock  # anyio: not needed by the synchronous quick check

        return file_lock(self.lock_path, timeout=timeout)

    def read(self) -> dict[str, Any] | None:
        """The recorded connection, or None if absent or unreadable."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return None
        return data if isinstance(data, dict) else None

    def write(self, payload: dict[str, Any]) -> None:
        """Atomically replace the file (mode 0600, like the reference)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{self.key}.{os.getpid()}.tmp"
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(payload, handle)
        os.chmod(tmp, CLIENT_FILE_PERMS)
        tmp.replace(self.path)

    def delete(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
