"""Operator-installed expression functions: import paths or entry points, never connector text.

A plugin is a `FunctionSpec` (or a list of them) exposed by a module, named as `module:attribute`
in the worker config (`plugins=`) or with `doge run --plugin`, or registered by an installed
package under the entry-point group `doge_connect.functions`. Connector configs arriving over
REST can only call functions the operator installed this way.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from importlib.metadata import entry_points

from connector.errors import Problem, UserError
from connector.model.expr import FunctionSpec

ENTRY_POINT_GROUP = "doge_connect.functions"


def load_plugins(paths: Iterable[str], source: str | None = None,
                 include_entry_points: bool = True) -> tuple[FunctionSpec, ...]:
    """Every FunctionSpec named by `paths` (`module:attribute`) and by installed entry points."""
    found: list[FunctionSpec] = []
    for path in (p.strip() for p in paths if p.strip()):
        module_name, _, attribute = path.partition(":")
        # An absolute, dotted module name: import_module raises ValueError or TypeError (not
        # ImportError) for an empty or relative one.
        if not attribute or not all(p.isidentifier() for p in module_name.split(".")):
            raise UserError([Problem(f"plugin {path!r}: expected 'module:attribute' (a dotted "
                                     f"module name)", file=source, path="plugins")])
        try:
            value = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise UserError([Problem(f"plugin {path!r} cannot be loaded: {exc}", file=source,
                                     path="plugins")]) from None
        found.extend(_specs(value, path, source))
    if include_entry_points:
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            found.extend(_specs(entry.load(), entry.value, source))
    names = [f.name for f in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserError([Problem(f"plugin functions defined twice: {', '.join(duplicates)}",
                                 file=source, path="plugins")])
    return tuple(found)


def _specs(value: object, path: str, source: str | None) -> list[FunctionSpec]:
    values = value if isinstance(value, list | tuple) else [value]
    if not all(isinstance(v, FunctionSpec) for v in values):
        raise UserError([Problem(f"plugin {path!r} must be a FunctionSpec or a list of them",
                                 file=source, path="plugins")])
    return [v for v in values if isinstance(v, FunctionSpec)]
