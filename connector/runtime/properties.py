"""Java `.properties` files, read as `java.util.Properties.load` reads them.

The library javaproperties implements the whole grammar (`key=value`, `key: value` and the
`key value` form, `\\:` and `\\uXXXX` escapes, continuation lines, `#` and `!` comments), which a
hand parser kept getting wrong: `bootstrap.servers=host\\:9092`, as `Properties.store` writes it,
must read as `host:9092`. A connector file of `connect-standalone` (flat keys, `name` among
them) becomes the `{"name": ..., "config": {...}}` document the REST API takes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import javaproperties

from connector.errors import Problem, UserError

SUFFIX = ".properties"


def parse_properties(text: str, file: str | None) -> dict[str, str]:
    """The key -> value map Java reads from `text` (the last of repeated keys wins, as there)."""
    try:
        return dict(javaproperties.loads(text))
    except ValueError as exc:  # a malformed \\u escape, the only thing the grammar refuses
        line = _line_of(text, getattr(exc, "escape", None))
        raise UserError([Problem(f"{exc}: expected \\u and four hexadecimal digits", file=file,
                                 line=line)]) from None


def _line_of(text: str, fragment: str | None) -> int | None:
    if not fragment:
        return None
    at = text.find(fragment)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def read_config_text(path: Path, what: str = "file") -> str:
    """A config file's text (UTF-8, of which what `Properties.store` writes is a subset), or
    a UserError naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError([Problem(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                                 file=str(path))]) from None
    except OSError as exc:
        raise UserError([Problem(f"cannot read {what}: {exc.strerror or exc}",
                                 file=str(path))]) from None


def read_properties(path: Path) -> dict[str, str]:
    """A properties file from disk."""
    return parse_properties(read_config_text(path), str(path))


def connector_document(values: dict[str, str], file: str) -> dict[str, Any]:
    """A `connect-standalone` connector file as the REST API's document."""
    name = values.get("name")
    if not name:
        raise UserError([Problem("expected the connector's name as `name=...` (as in "
                                 "connect-standalone's connector files)", file=file, path="name")])
    return {"name": name, "config": {k: v for k, v in values.items() if k != "name"}}
