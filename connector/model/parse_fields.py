"""Read how a model gives record values: emitted fields, topic keys and headers (structure only).

Field values stay close to the YAML (expressions, mappings, lists): what a mapping means (a
nested record, an array or map form, a union branch) depends on the schema, which validation
knows (model/fills.py). Dotted keys (`user.userId: ...`) are merged here into nested mappings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.errors import UserError
from connector.model import format as fmt
from connector.model.reader import Reader
from connector.model.source import child_path, load_file
from connector.model.spec import FieldNode, HeaderSpec, KeyKind, KeySpec

_SCALARS = (str, int, float, bool)


def parse_fields(r: Reader, value: Any, path: str
                 ) -> tuple[list[tuple[str, str]], list[tuple[str, FieldNode]]]:
    """(plain, shaped): top-level fields given as one expression, and all the others."""
    mapping = r.mapping(value, path)
    if mapping is None:
        return [], []
    node = _mapping_node(r, mapping, path)
    plain, shaped = [], []
    for name, child in node.entries or ():
        raw = mapping.get(name)
        if child.expression is not None and isinstance(raw, _SCALARS):
            plain.append((name, child.expression))
        else:
            shaped.append((name, child))
    return plain, shaped


def field_node(r: Reader, value: Any, path: str) -> FieldNode:
    """A field value as given: null is the expression `null`, numbers and booleans literals."""
    if isinstance(value, dict):
        return _mapping_node(r, value, path)
    if isinstance(value, list):
        return FieldNode(path, items=tuple(field_node(r, v, child_path(path, i))
                                           for i, v in enumerate(value)))
    if value is None:
        return FieldNode(path, expression="null")
    return FieldNode(path, expression=r.expression(value, path) or "null")


def _mapping_node(r: Reader, mapping: dict[str, Any], path: str) -> FieldNode:
    """A mapping with dotted keys merged: `a.b: x` is `a: {b: x}` (and meets `a: {c: y}`)."""
    tree: dict[str, Any] = {}  # name -> FieldNode, or a dict for a mapping still being merged
    for key, value in mapping.items():
        kpath = child_path(path, key)
        parts = key.split(".")
        if any(not p for p in parts):
            r.error(kpath, f"'{key}' is not a field name or a dotted path such as 'user.id'")
            continue
        _insert(r, tree, parts, field_node(r, value, kpath), kpath)
    return _freeze(tree, path)


def _insert(r: Reader, level: dict[str, Any], parts: list[str], node: FieldNode,
            path: str) -> None:
    name = parts[0]
    here = level.get(name)
    if isinstance(here, FieldNode) and here.entries is not None:
        here = level[name] = dict(here.entries)  # a mapping given whole meets a dotted path
    if len(parts) == 1:
        if here is None:
            level[name] = node
        elif isinstance(here, dict) and node.entries is not None:
            for key, sub in node.entries:
                _insert(r, here, [key], sub, sub.path)
        else:
            r.error(path, f"'{name}' is given twice (as a value, a mapping or a dotted path)")
        return
    if here is None:
        here = level[name] = {}
    if not isinstance(here, dict):
        r.error(path, f"'{name}' is given a value at {here.path} and also fields at "
                f"{path}; give either the value or its fields")
        return
    _insert(r, here, parts[1:], node, path)


def _freeze(tree: dict[str, Any], path: str) -> FieldNode:
    entries = []
    for name, value in tree.items():
        sub = child_path(path, name)
        entries.append((name, _freeze(value, sub) if isinstance(value, dict) else value))
    return FieldNode(path, entries=tuple(entries))


def parse_key(r: Reader, spec: dict[str, Any], path: str, schemas_dir: Path) -> KeySpec | None:
    """A topic's `key:` (None when absent: the user id)."""
    if "key" not in spec:
        return None
    kpath = child_path(path, "key")
    raw = spec["key"]
    if raw is None:
        return KeySpec(KeyKind.NULL, kpath)
    if isinstance(raw, _SCALARS):
        text = r.expression(raw, kpath)
        return None if text is None else KeySpec(KeyKind.EXPRESSION, kpath, expression=text)
    body = r.mapping(raw, kpath, fmt.KEY.names, required=fmt.KEY.required)
    if body is None or "schema" not in body:
        return None
    loaded = load_schema_ref(r, body["schema"], child_path(kpath, "schema"), schemas_dir)
    if loaded is None:
        return None
    name, data, file = loaded
    plain, shaped = parse_fields(r, body.get("fields", {}), child_path(kpath, "fields"))
    return KeySpec(KeyKind.RECORD, kpath, schema_name=name, schema=data, schema_file=file,
                   fields=tuple(plain), shaped=tuple(shaped))


def parse_headers(r: Reader, spec: dict[str, Any], path: str) -> tuple[HeaderSpec, ...]:
    """A topic's `headers:`, name -> expression, in the given order."""
    if "headers" not in spec:
        return ()
    hpath = child_path(path, "headers")
    mapping = r.mapping(spec["headers"], hpath)
    out = []
    for name, raw in (mapping or {}).items():
        npath = child_path(hpath, name)
        text = "null" if raw is None else r.expression(raw, npath)
        if text is not None:
            out.append(HeaderSpec(name, text, npath))
    return tuple(out)


def load_schema_ref(r: Reader, schema: Any, path: str, schemas_dir: Path
                    ) -> tuple[str, dict[str, Any], str | None] | None:
    """(name, schema JSON data, file) of an inline schema or a file in the schemas folder."""
    if isinstance(schema, dict):
        return str(schema.get("name", "inline")), schema, None
    schema_name = r.string(schema, path)
    if schema_name is None:
        return None
    stem = schema_name if schema_name.endswith(".avsc") else f"{schema_name}.avsc"
    file = schemas_dir / stem
    try:
        data = load_file(file, (".avsc",)).data
    except UserError as exc:
        detail = "; ".join(p.message + (f" (line {p.line})" if p.line else "")
                           for p in exc.problems)
        missing = detail == "file not found"
        hint = f" (schemas are looked up in {schemas_dir})" if missing else ""
        r.error(path, f"schema file {file}: {detail}{hint}")
        return None
    return Path(schema_name).stem, data, str(file)
