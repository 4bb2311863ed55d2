"""Modules loaded on their first use, so that ``import psychometrics.<subpackage>`` stays light.

``stats = lazy_module("scipy.stats")`` at the top of a module reads like an import, but
scipy.stats (0.5 s) is only imported when ``stats.norm`` or another attribute is first looked
up, inside the function that needs it. Used where a module calls a scipy submodule from many
functions; elsewhere the import is written inside the function.
"""
from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["lazy_module"]


class _LazyModule:
    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_module", None)

    def _load(self) -> ModuleType:
        mod = self._module
        if mod is None:
            mod = importlib.import_module(self._name)
            object.__setattr__(self, "_module", mod)
        return mod

    def __getattr__(self, attr: str):
        return getattr(self._load(), attr)

    def __setattr__(self, attr: str, value) -> None:
        raise AttributeError(f"lazy module {self._name!r} is read-only")

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str):
    """A stand-in for module ``name`` that imports it on the first attribute lookup."""
    return _LazyModule(name)
