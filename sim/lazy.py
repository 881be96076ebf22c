"""Lazy exports for packages: names resolved from their modules on first use, so importing a
package (and ``adoptsim --help``) imports nothing heavy."""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module


def lazy_exports(
    module_name: str, public: dict[str, str]
) -> tuple[Callable[[str], object], list[str]]:
    """A module-level ``__getattr__`` for ``module_name`` and its sorted ``__all__``.

    ``public`` maps each exported name to the module defining it. The first access of a name
    imports that module and stores the value in ``module_name``'s namespace, so later accesses
    are plain attribute look-ups (and a submodule of the same name cannot shadow the export)."""

    def __getattr__(name: str):
        if name in public:
            value = getattr(import_module(public[name]), name)
            setattr(sys.modules[module_name], name, value)
            return value
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__, sorted(public)
