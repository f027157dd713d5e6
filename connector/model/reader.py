"""Typed access to parsed documents that records every problem with its path and line."""

from __future__ import annotations

import math
from typing import Any

from connector.errors import Problem
from connector.model.numbers import is_whole_number, parse_whole_number
from connector.model.source import Document, child_path


class Reader:
    """Collects problems while reading a Document; methods return None when a value is unusable."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def error(self, path: str, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))

    def warning(self, path: str, message: str) -> None:
        self.problems.append(self.doc.problem(path, message, severity="warning"))

    def mapping(self, value: Any, path: str, known: tuple[str, ...] | None = None,
                required: tuple[str, ...] = ()) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping, got {describe(value)}")
            return None
        if known is not None:
            for key in value:
                if key not in known:
                    self.error(child_path(path, key),
                               f"unknown key '{key}'; known keys: {', '.join(known)}")
        for key in required:
            if key not in value:
                self.error(path, f"missing required key '{key}'")
        return value

    def sequence(self, value: Any, path: str) -> list[Any] | None:
        if not isinstance(value, list):
            self.error(path, f"expected a list, got {describe(value)}")
            return None
        return value

    def string(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or not value:
            self.error(path, f"expected a non-empty string, got {describe(value)}")
            return None
        return value

    def number(self, value: Any, path: str, minimum: float | None = None) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(path, f"expected a number, got {describe(value)}")
            return None
        if not math.isfinite(value):
            self.error(path, f"expected a finite number, got {value}")
            return None
        if minimum is not None and value < minimum:
            self.error(path, f"expected a number >= {minimum:g}, got {value:g}")
            return None
        return float(value)

    def integer(self, value: Any, path: str, minimum: int | None = None) -> int | None:
        if isinstance(value, str) and is_whole_number(value):
            value = parse_whole_number(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(path, f"expected a whole number, got {describe(value)}")
            return None
        if minimum is not None and value < minimum:
            self.error(path, f"expected a whole number >= {minimum}, got {value}")
            return None
        return value

    def boolean(self, value: Any, path: str) -> bool | None:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            self.error(path, f"expected true or false, got {describe(value)}")
            return None
        return value

    def expression(self, value: Any, path: str) -> str | None:
        """Expression text; plain numbers and booleans are accepted as literal expressions."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return repr(value)
        return self.string(value, path)


def describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"the {type(value).__name__} {value!r}"
