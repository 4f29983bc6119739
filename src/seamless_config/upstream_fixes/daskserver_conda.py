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

NAME = "daskserver-requires-conda"
# The seamless-remote versions whose daskserver handle asserts that the queue names a conda environment.
AFFECTED = frozenset({"0.4.0"})


def apply(version: str) -> FixOutcome:
    try:
        from seamless_remote import daskserver_remote
    except ImportError as exc:  # seamless-dask's dependencies are optional
        return FixOutcome(NAME, False, f"cannot import seamless_remote.daskserver_remote: {exc}")
    handle_class: Any = getattr(daskserver_remote, "DaskserverLaunchedHandle", None)
    original: Any = getattr(handle_class, "config", None)
    if original is None:
        return FixOutcome(NAME, False, "DaskserverLaunchedHandle.config not found")
    if getattr(original, "_seamless_config_fix", False):
        return FixOutcome(NAME, True, "already applied")

    def config(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        launch_config = getattr(self, "launch_config", None)
        if isinstance(launch_config, dict) and launch_config.get("conda") is None:
            launch_config["conda"] = ""  # remote-http-launcher: "" and None both mean "no conda"

    config._seamless_config_fix = True  # type: ignore[attr-defined]
    handle_class.config = config
    return FixOutcome(NAME, True, f"seamless-remote {version}: a queue without conda launches without conda")


WORKAROUND = Workaround(NAME, "seamless-remote", AFFECTED, apply)
