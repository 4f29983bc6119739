"""The reference's private module globals, as views of the one state object.

The reference (seamless-config 0.3.2) kept its state in module globals
(``seamless_config._initialized``, ``seamless_config.select._current_cluster``,
``_execution_source``, ...), and published tests of the ecosystem reset them
with ``monkeypatch.setattr(module, name, value)``. Here those names are
properties of the two compat modules' classes: reading one reads
``seamless_config.state.STATE``, assigning one changes it. Nothing else in the
package uses them.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import ConfigState

Getter = Callable[[], Any]
Setter = Callable[[Any], None]


def _state() -> ConfigState:
    from .state import STATE

    return STATE


def _flag(attribute: str) -> tuple[Getter, Setter]:
    def get() -> Any:
        return getattr(_state(), attribute)

    def set_(value: Any) -> None:
        with _state().lock:
            setattr(_state(), attribute, value)

    return get, set_


def _setting_part(name: str, part: str, label: str) -> tuple[Getter, Setter]:
    """A view of one part (value, source, command_seen, for_cluster) of the setting *name*."""

    def get() -> Any:
        return getattr(_state().selection[name], part)

    def set_(value: Any) -> None:
        from .core.selection import Origin, Selection

        def change(sel: Selection) -> Selection:
            setting = sel[name]
            changes: dict[str, Any] = {part: value}
            if part == "value":
                changes["origin"] = Origin("api", detail=label)
            new = replace(setting, **changes)
            return Selection(types.MappingProxyType({**sel.settings, name: new}))

        _state().update(change)

    return get, set_


def package_views() -> dict[str, tuple[Getter, Setter]]:
    return {
        "_initialized": _flag("initialized"),
        "_set_workdir_called": _flag("workdir_set"),
        "_remote_clients_set": _flag("remote_clients_set"),
        "_workdir": _flag("workdir"),
    }


def select_views() -> dict[str, tuple[Getter, Setter]]:
    from .core.selection import SETTINGS

    views: dict[str, tuple[Getter, Setter]] = {}
    for name in SETTINGS:
        views[f"_current_{name}"] = _setting_part(name, "value", f"seamless_config.select._current_{name}")
    for name in ("execution", "queue", "remote", "persistent", "record", "node"):
        views[f"_{name}_source"] = _setting_part(name, "source", f"_{name}_source")
    for name in ("execution", "persistent", "record"):
        views[f"_{name}_command_seen"] = _setting_part(name, "command_seen", f"_{name}_command_seen")
    views["_queue_cluster"] = _setting_part("queue", "for_cluster", "_queue_cluster")
    return views


def install(module: types.ModuleType, views: dict[str, tuple[Getter, Setter]]) -> None:
    """Give *module* a class on which each of *views* is a property (a data descriptor).

    Properties, not ``__getattr__``: ``monkeypatch`` sees a data descriptor,
    records the value it read and writes it back through the setter on undo.
    """

    def prop(get: Getter, set_: Setter) -> property:
        return property(lambda self: get(), lambda self, value: set_(value))

    namespace = {name: prop(get, set_) for name, (get, set_) in views.items()}
    module.__class__ = type("CompatModule", (types.ModuleType,), namespace)
