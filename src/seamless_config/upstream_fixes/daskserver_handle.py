"""What the two daskserver workarounds share: a step run after ``DaskserverLaunchedHandle.config``.

Both ``daskserver-requires-conda`` and ``daskserver-exclusive-worker-count``
correct what seamless-remote 0.4.0's handle derived from the launch dict, right
after its own ``config()``. Each step is added once (it carries the workaround's
name), whichever order they are applied in and however often.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import FixOutcome

STEPS_ATTRIBUTE = "_seamless_config_after_config"  # the names of the steps a wrapped config() runs


def after_handle_config(name: str, step: Callable[[Any], None], applied: str) -> FixOutcome:
    """Make ``DaskserverLaunchedHandle.config`` call ``step(handle)`` after the original, once per *name*."""
    try:
        from seamless_remote import daskserver_remote
    except ImportError as exc:  # seamless-dask's dependencies are optional
        return FixOutcome(name, False, f"cannot import seamless_remote.daskserver_remote: {exc}")
    handle_class: Any = getattr(daskserver_remote, "DaskserverLaunchedHandle", None)
    original: Any = getattr(handle_class, "config", None)
    if original is None:
        return FixOutcome(name, False, "DaskserverLaunchedHandle.config not found")
    steps: frozenset[str] = getattr(original, STEPS_ATTRIBUTE, frozenset())
    if name in steps:
        return FixOutcome(name, True, "already applied")

    def config(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        step(self)

    setattr(config, STEPS_ATTRIBUTE, steps | {name})
    handle_class.config = config
    return FixOutcome(name, True, applied)
