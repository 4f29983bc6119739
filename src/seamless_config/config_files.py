"""Configuration files (compatibility façade): ``load_config_files``.

seamless-transformer calls ``load_config_files()`` directly (then adjusts the
selection, then ``change_stage()``); it re-reads the files with the current
stage and re-applies their commands.
"""

from __future__ import annotations

from .core.commands import COMMANDS
from .core.discovery import CONFIG_FILENAMES
from .state import STATE

__all__ = ["load_config_files", "CONFIG_FILENAMES", "COMMANDS"]


def load_config_files() -> None:
    STATE.load_files()


def load_tools() -> None:
    """Kept for callers of the reference; tool definitions now load on first use."""
