"""Load YAML or JSON documents into plain data while remembering the line of every value.

JSON is read with the YAML loader too (JSON is YAML's flow style), so both formats give the same
structure and every error can name `file:line` and a path such as `transitions[3].condition`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import yaml

from connector.errors import Problem, UserError


@attrs.frozen
class Document:
    """Parsed data plus `lines`: path string -> 1-based line where that value starts."""

    data: Any
    file: str | None
    lines: dict[str, int]

    def line(self, path: str) -> int | None:
        """Line of `path`, or of its nearest enclosing value that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.lines.get("")

    def problem(self, path: str, message: str, severity: str = "error") -> Problem:
        return Problem(message, file=self.file, path=path or None, line=self.line(path),
                       severity=severity)

    def sub(self, path: str, data: Any) -> Document:
        """A view on a nested value whose paths stay relative to this document's root."""
        return Document(data, self.file, self.lines)


def child_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def _construct(node: yaml.Node, path: str, lines: dict[str, int], file: str | None) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise UserError([Problem("mapping keys must be plain strings", file=file,
                                         line=key_node.start_mark.line + 1)])
            key = str(yaml.safe_load(yaml.serialize(key_node)))
            sub = child_path(path, key)
            if key in out:
                raise UserError([Problem(f"duplicate key '{key}'", file=file, path=sub,
                                         line=key_node.start_mark.line + 1)])
            out[key] = _construct(value_node, sub, lines, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, child_path(path, i), lines, file) for i, v in enumerate(node.value)]
    # Scalars: resolve with the safe loader's own tag rules (ints, floats, bools, null, strings).
    return yaml.safe_load(yaml.serialize(node))


def parse_text(text: str, file: str | None) -> Document:
    """Parse YAML/JSON text; a syntax error becomes a UserError naming the file and line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise UserError([Problem(f"not valid YAML/JSON: {exc.problem}", file=file,
                                 line=line)]) from None
    lines: dict[str, int] = {}
    data = None if root is None else _construct(root, "", lines, file)
    return Document(data, file, lines)


def load_file(path: str | Path) -> Document:
    """Read a model or connector file (.yaml, .yml or .json)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError([Problem("file not found", file=str(p))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError([Problem(f"cannot read file: {exc}", file=str(p))]) from None
    if p.suffix == ".json":
        # Strict JSON first so JSON-only mistakes (trailing commas...) get JSON's precise message.
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError([Problem(f"not valid JSON: {exc.msg} (column {exc.colno})",
                                     file=str(p), line=exc.lineno)]) from None
    return parse_text(text, str(p))
