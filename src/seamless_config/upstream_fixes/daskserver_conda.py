"""``daskserver-requires-conda`` (seamless-remote 0.4.0).

``DaskserverLaunchedHandle`` asserts that the launch dict names a conda
environment, so a queue without ``conda`` (absent or ``null``: "run without
conda", as for every other service) fails with a bare ``AssertionError``. The
workaround sets ``conda: ""`` in that handle's launch dict, which
remote-http-launcher reads as "no conda" too; the dict
``configure_daskserver()`` returns is unchanged.
"""

from __future__ import annotations

from typing import Any

from . import FixOutcome, Workaround
from .daskserver_handle import after_handle_config

NAME = "daskserver-requires-conda"
# The seamless-remote versions whose daskserver handle asserts that the queue names a conda environment.
AFFECTED = frozenset({"0.4.0"})


def _no_conda_is_empty(handle: Any) -> None:
    launch_config = getattr(handle, "launch_config", None)
    if isinstance(launch_config, dict) and launch_config.get("conda") is None:
        launch_config["conda"] = ""  # remote-http-launcher: "" and None both mean "no conda"


def apply(version: str) -> FixOutcome:
    return after_handle_config(
        NAME, _no_conda_is_empty, f"seamless-remote {version}: a queue without conda launches without conda")


WORKAROUND = Workaround(NAME, "seamless-remote", AFFECTED, apply)
