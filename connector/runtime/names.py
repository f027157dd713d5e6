"""The one rule for connector names: REST bodies and paths, the worker, connector files."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from connector.errors import Problem, UserError
from connector.model.numbers import shorten

MAX_NAME_CHARS = 249  # Kafka's limit on topic names; names appear in records' keys and logs
PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a connector, or None: the one rule for REST, the worker and
    connector files.

    A name is 1 to MAX_NAME_CHARS printable characters without '/', '\\', '..' or `%XX`, not '.'
    (names end up in URLs, in offset and snapshot keys "<name>/..." and in log
    lines: nothing in them may be read as a path, an escape or a line break).
    """
    shown = repr(shorten(name))
    if not name:
        return "The connector name must not be empty"
    if len(name) > MAX_NAME_CHARS:
        return (f"The connector name has {len(name):,} characters, more than the limit of "
                f"{MAX_NAME_CHARS}")
    if name != name.strip():
        return f"Connector name {shown} must not begin or end with white space"
    bad = next((c for c in name if unicodedata.category(c)[0] == "C"
                or unicodedata.category(c) in ("Zl", "Zp")), None)
    if bad is not None:
        return (f"Connector name {shown} must not contain control, format or unassigned "
                f"characters (U+{ord(bad):04X})")
    for text, why in (("/", "'/'"), ("\\", "'\\'"), ("..", "'..'")):
        if text in name:
            return f"Connector name {shown} must not contain {why}"
    if PERCENT_ESCAPE.search(name):
        # `%2e%2e` once decoded is `..`: a name must read the same however often it is decoded.
        return f"Connector name {shown} must not contain a percent-encoded character (%XX)"
    if set(name) == {"."}:
        return f"Connector name {shown} must not be '.'"
    return None


def check_connector_name(name: str, config: Mapping[str, Any], file: str | None) -> None:
    """Refuse a name against the rule, or a config whose own `name` is another (UserError)."""
    problem = name_problem(name)
    if problem is not None:
        raise UserError([Problem(problem, file=file, path="name")])
    if config.get("name", name) != name:
        raise UserError(f"connector name in the config ({config.get('name')!r}) does not "
                        f"match the name {name!r}")
