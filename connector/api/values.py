"""Python values given to the builder as model data, and where in the user's code they came from.

A model document holds only what YAML can: mappings with string keys, lists, strings, numbers,
booleans and null. Anything else a caller passes (a function, a set, an object) is refused here
with the path it would have had in a model file, so no bad value travels further in.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import attrs
import numpy as np

from connector.errors import Problem, UserError
from connector.model.reader import describe
from connector.model.source import child_path

P = ParamSpec("P")
R = TypeVar("R")
MAX_DEPTH = 32  # deeper nesting is never a model; it also stops self-referencing lists
_PACKAGE = str(Path(__file__).resolve().parents[1])  # the `connector` package directory


@attrs.frozen
class CallSite:
    """The user's file and line that made a builder call (the first frame outside `connector`)."""

    file: str | None
    line: int | None

    def problem(self, path: str, message: str) -> Problem:
        return Problem(message, file=self.file, path=path or None, line=self.line)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """For public entry points: a UserError surfaces from the call the user made, without the
    library's frames in its traceback (its message already says where and what)."""
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            raise exc.with_traceback(None) from None

    return wrapper


def call_site() -> CallSite:
    """The caller's position in the user's code (notebook cells have a pseudo file name)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE + os.sep):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return CallSite(None, None)
    return CallSite(frame.f_code.co_filename, frame.f_lineno)


def plain(value: Any, path: str, site: CallSite) -> Any:
    """`value` as YAML-like data (numpy scalars become numbers, tuples lists), or UserError."""
    return _plain(value, path, site, 0)


def _plain(value: Any, path: str, site: CallSite, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise UserError([site.problem(path, f"nested deeper than {MAX_DEPTH} levels")])
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise UserError([site.problem(path, f"mapping keys must be strings, got "
                                                    f"{describe(key)}")])
            out[key] = _plain(item, child_path(path, key), site, depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, child_path(path, i), site, depth + 1) for i, item in enumerate(value)]
    raise UserError([site.problem(path, _unusable(value))])


def _unusable(value: Any) -> str:
    if callable(value):
        return ("a Python function cannot be part of a model: conditions, updates and fields "
                "are expressions such as 'balance >= amount' (Python code goes into plugin "
                "functions, or use connector.doge for DOGE-style callbacks)")
    if isinstance(value, set | frozenset):
        return "a set has no order; give a list"
    return (f"cannot be part of a model: {type(value).__name__} (expected a string, number, "
            "boolean, list or mapping)")
