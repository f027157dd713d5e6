"""Render the public Python API (the `__all__` of connector.api and connector.doge) from its
docstrings into docs/api.md; tests/api/test_reference.py checks that the file is current.

    .venv/bin/python scripts/api_reference.py           # write docs/api.md
    .venv/bin/python scripts/api_reference.py --check   # exit 1 if docs/api.md is stale
"""

from __future__ import annotations

import argparse
import enum
import importlib
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUTPUT = ROOT / "docs" / "api.md"
MODULES = ("connector.api", "connector.doge")
HEADER = """# Python API reference

Generated from the docstrings by `scripts/api_reference.py` (do not edit by hand). Guides: the
README's "From Python" section and [docs/doge-migration.md](doge-migration.md).
"""


def render() -> str:
    parts = [HEADER]
    for name in MODULES:
        module = importlib.import_module(name)
        parts.append(_module(module))
    return "\n".join(parts).rstrip() + "\n"


def _module(module: ModuleType) -> str:
    lines = [f"## `{module.__name__}`", "", _doc(module), ""]
    for name in module.__all__:
        obj = getattr(module, name)
        lines += _entry(name, obj)
    return "\n".join(lines)


def _entry(name: str, obj: Any) -> list[str]:
    if isinstance(obj, TypeVar):
        return [f"### type variable `{name}`", "", "The type of the subjects a factory creates "
                "(any object with attributes, or a dict).", ""]
    if inspect.isclass(obj):
        if issubclass(obj, enum.Enum):
            members = ", ".join(f"`{m.name}`" for m in obj)
            return [f"### enum `{name}`", "", _doc(obj), "", f"Members: {members}.", ""]
        lines = [f"### class `{name}`", "", "```python", f"{name}{_signature(obj)}", "```", "",
                 _doc(obj), ""]
        for attr, member in obj.__dict__.items():
            if attr.startswith("_") or not _documented(member):
                continue
            lines += [f"#### `{name}.{attr}`", ""]
            function = member.__func__ if isinstance(member, classmethod | staticmethod) \
                else member
            if isinstance(member, property):
                lines += [_doc(member) or "(property)", ""]
                continue
            lines += ["```python", f"{attr}{_signature(function, skip_first=True)}", "```", "",
                      _doc(function), ""]
        return lines
    return [f"### `{name}`", "", "```python", f"{name}{_signature(obj)}", "```", "", _doc(obj),
            ""]


def _documented(member: Any) -> bool:
    target = member.__func__ if isinstance(member, classmethod | staticmethod) else member
    return isinstance(member, property) or (inspect.isfunction(target) and bool(target.__doc__))


def _signature(obj: Any, skip_first: bool = False) -> str:
    """The signature with annotations as written (they are strings under postponed
    evaluation), defaults as repr."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    params = list(sig.parameters.values())
    if skip_first and params and params[0].name in ("self", "cls"):
        params = params[1:]
    out, star = [], False
    for p in params:
        if p.kind is p.KEYWORD_ONLY and not star:
            out.append("*")
            star = True
        if p.kind is p.VAR_POSITIONAL:
            star = True
        prefix = "*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else ""
        text = prefix + p.name
        if p.annotation is not p.empty:
            text += f": {_annotation(p.annotation)}"
        if p.default is not p.empty:
            text += f" = {p.default!r}"
        out.append(text)
    result = f"({', '.join(out)})"
    if sig.return_annotation is not sig.empty:
        result += f" -> {_annotation(sig.return_annotation)}"
    return result


def _annotation(value: Any) -> str:
    return value if isinstance(value, str) else inspect.formatannotation(value)


def _doc(obj: Any) -> str:
    return inspect.getdoc(obj) or ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Exit 1 if docs/api.md is stale.")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is not current: run scripts/api_reference.py", file=sys.stderr)
            sys.exit(1)
        return
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
