"""DOGE subjects kept as columns (one per attribute, indexed by user id) and rebuilt as objects of
the subject's own class only for the users that move, so a tick costs O(movers) in Python.

A column holds int64, float64 or bool when every subject's value has exactly that type, else
Python objects (strings, None, lists, anything); a value a callback writes that does not fit its
column turns the column into objects, so every value comes back exactly as it was written.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from connector.api.values import CallSite
from connector.doge.core import DogeError

_TYPED: dict[type, np.dtype[Any]] = {int: np.dtype(np.int64), float: np.dtype(np.float64),
                                     bool: np.dtype(np.bool_)}
_PYTHON = {dtype: kind for kind, dtype in _TYPED.items()}


class SubjectStore:
    """The attributes of every subject as columns; `objects` / `write_back` for movers."""

    def __init__(self, subjects: Sequence[Any], site: CallSite) -> None:
        if not subjects:
            self.names: list[str] = []
            self.columns: list[np.ndarray] = []
            self._make: Callable[[tuple[Any, ...]], Any] = lambda row: None
            self._fields: Callable[[Any], dict[str, Any]] = lambda obj: {}
            return
        first = subjects[0]
        cls = type(first)
        if any(type(s) is not cls for s in subjects):
            other = next(type(s) for s in subjects if type(s) is not cls)
            raise DogeError(site, "subject_factory", f"the factory created subjects of two "
                            f"classes ({cls.__name__} and {other.__name__}); doge-connect keeps "
                            "subjects as columns and needs one class")
        self._make, self._fields, names = _kind(first, site)
        dicts = [self._fields(s) for s in subjects]
        expected = set(names)
        for k, d in enumerate(dicts):
            if d.keys() != expected:
                raise DogeError(site, "subject_factory", f"subject {k} has attributes "
                                f"{sorted(d)} but subject 0 has {sorted(names)}; every subject "
                                "needs the same attributes")
        self.names = names
        self.columns = [_column([d[name] for d in dicts]) for name in names]

    def objects(self, user_ids: np.ndarray) -> list[Any]:
        """Fresh subject objects of these users, with their current attribute values."""
        make = self._make
        return [make(row) for row in zip(*(c[user_ids].tolist() for c in self.columns),
                                         strict=True)]

    def write_back(self, user_ids: np.ndarray, objects: Sequence[Any]) -> None:
        """Store the (possibly changed) attributes of these users' objects."""
        fields = [self._fields(o) for o in objects]
        for i, name in enumerate(self.names):
            try:
                values = [f[name] for f in fields]
            except KeyError:
                raise DogeError(CallSite(None, None), "action_callback", f"a callback deleted "
                                f"the subject attribute '{name}'") from None
            self.columns[i] = _assign(self.columns[i], user_ids, values)
        if fields and any(len(f) != len(self.names) for f in fields):
            extra = sorted({k for f in fields for k in f} - set(self.names))
            raise DogeError(CallSite(None, None), "action_callback", f"a callback added the "
                            f"attribute(s) {', '.join(extra)} that subjects did not have when "
                            "created; give them a value in the SubjectFactory")


def _kind(first: Any, site: CallSite) -> tuple[Callable[[tuple[Any, ...]], Any],
                                               Callable[[Any], dict[str, Any]], list[str]]:
    """How to rebuild a subject from a row and how to read its attributes."""
    cls = type(first)
    if isinstance(first, dict):
        names = list(first)
        return (lambda row: cls(zip(names, row, strict=True))), (lambda obj: obj), names
    if hasattr(first, "__dict__") and not _slots(cls):
        names = list(vars(first))
        # A class with its own __new__ may need arguments: copy the first subject instead.
        plain_new = getattr(cls, "__new__", None) is object.__new__

        def make(row: tuple[Any, ...]) -> Any:
            obj = object.__new__(cls) if plain_new else copy.copy(first)
            obj.__dict__ = dict(zip(names, row))  # noqa: B905  (rows are built from names)
            return obj

        return make, vars, names
    slots = _slots(cls)
    if slots and not hasattr(first, "__dict__"):
        names = [s for s in slots if hasattr(first, s)]

        def make_slotted(row: tuple[Any, ...]) -> Any:
            obj = copy.copy(first)
            for name, value in zip(names, row, strict=True):
                object.__setattr__(obj, name, value)
            return obj

        return make_slotted, (lambda obj: {n: getattr(obj, n) for n in names if
                                           hasattr(obj, n)}), names
    raise DogeError(site, "subject_factory", f"subjects of type {cls.__name__} have no "
                    "attributes to keep (expected an object with attributes or a dict)")


def _slots(cls: type) -> list[str]:
    return [s for c in cls.__mro__ for s in getattr(c, "__slots__", ()) if s != "__weakref__"]


def _column(values: list[Any]) -> np.ndarray:
    kinds = set(map(type, values))
    if len(kinds) == 1:
        dtype = _TYPED.get(next(iter(kinds)))
        if dtype is not None:
            try:
                return np.array(values, dtype=dtype)
            except OverflowError:  # an int beyond 64 bits stays a Python int
                pass
    return _objects(values)


def _objects(values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):  # item by item: lists must stay lists, not dimensions
        out[i] = value
    return out


def _assign(column: np.ndarray, user_ids: np.ndarray, values: list[Any]) -> np.ndarray:
    """Write `values`; returns the column (an object column if they no longer fit its type)."""
    if column.dtype != object:
        if set(map(type, values)) <= {_PYTHON[column.dtype]}:
            try:
                column[user_ids] = np.array(values, dtype=column.dtype)
                return column
            except OverflowError:
                pass
        column = column.astype(object)
    column[user_ids] = _objects(values)
    return column
