"""Environment variables that change what the configuration means (cheap to import)."""

from __future__ import annotations

import os


def seamless_cache_dir() -> str | None:
    """The normalised ``SEAMLESS_CACHE`` directory, if set and non-empty."""
    value = os.environ.get("SEAMLESS_CACHE", "").strip()
    return os.path.abspath(os.path.expanduser(value)) if value else None
