"""The package's logger: ``logging.getLogger("seamless_config")`` and its children.

A library does not configure logging; it only makes sure that its records
are not printed by Python's last-resort handler when the application has
configured nothing (``seamless-init --verbose`` shows them on stderr).
Loaded by the modules that log, not by ``import seamless_config``.
"""

from __future__ import annotations

import logging

ROOT = "seamless_config"
_root = logging.getLogger(ROOT)
if not any(isinstance(h, logging.NullHandler) for h in _root.handlers):
    _root.addHandler(logging.NullHandler())


def get_logger(name: str) -> logging.Logger:
    """The logger for module *name* (``seamless_config.x.y``), a child of ``seamless_config``."""
    return logging.getLogger(name if name.startswith(ROOT) else f"{ROOT}.{name}")
