"""Errors of the expression language: user mistakes (ExprError) and runtime faults of plugins."""

from __future__ import annotations


class ExprError(Exception):
    """A mistake in an expression's text, found while parsing or type-checking.

    `message` says what is wrong in plain words; `column` is the 1-based character offset in the
    expression text. `str(err)` joins them as one line; the caller prefixes file and model path.
    """

    def __init__(self, message: str, column: int) -> None:
        self.message = message
        self.column = column
        super().__init__(f"{message} at column {column}")

    def __reduce__(self) -> tuple[type[ExprError], tuple[str, int]]:
        # Errors may cross process boundaries (tasks run in their own processes).
        return (ExprError, (self.message, self.column))


class ValueLimitError(ValueError):
    """A value computed at run time went past a bound of the language (a string's length)."""


class PluginError(Exception):
    """An operator-installed plugin function misbehaved at evaluation time (not a user mistake)."""
