"""`Model`: a model built in Python that is exactly the document a YAML file gives.

Every builder call adds plain data at the path it would have in a model file, and remembers the
line of the user's code that made the call; validation, errors, fingerprints and the engine then
treat the document as they treat a file (an error names `your_script.py:12` and a path such as
`transitions[1].condition`).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from connector.api.values import CallSite, call_site, plain, user_errors
from connector.errors import UserError
from connector.model import expr as ex
from connector.model.source import Document, child_path, load_file
from connector.model.validate import ValidatedModel, validate_document

# Keys in the order the example YAML files use, so `to_yaml()` reads like them.
_ORDER = ("name", "description", "timezone", "schemas", "states", "initial", "final", "jitter",
          "population", "attributes", "profiles", "topics", "transitions")


class Model:
    """A model: states, attributes, topics, transitions (see the README's model reference).

    Methods add to the model and return it, so calls chain. Nothing is checked until the model
    is used (or `validate()` is called); then every problem is reported at once, as for a file.

        m = Model(["offline", "online"], initial="offline", name="bank")
        m.attribute("balance", "long", initial="randint(0, 1000)")
        m.topic("clickstream", "clickstream")           # schemas/clickstream.avsc
        m.transition("login", "offline", "online", chance=0.1, emit=["clickstream"])
    """

    @user_errors
    def __init__(self, states: Sequence[str], initial: str | Mapping[str, float] | None = None,
                 *, name: str | None = None, final: Sequence[str] | None = None,
                 timezone: str | None = None, jitter: bool | None = None,
                 schemas: str | os.PathLike[str] | None = None,
                 description: str | None = None) -> None:
        """`initial`: a state or weights {state: weight} (default: the first state); `schemas`:
        the folder of `.avsc` files (default: the nearest `schemas/` folder above the file that
        builds the model, or above the working directory)."""
        site = call_site()
        self._site = site
        self._base_dir = Path(site.file).resolve().parent if site.file and \
            Path(site.file).is_file() else Path.cwd()
        self._data: dict[str, Any] = {}
        self._lines: dict[str, int] = {}
        self._file = site.file
        given = {"name": name, "description": description, "timezone": timezone,
                 "schemas": schemas, "states": states, "initial": initial, "final": final,
                 "jitter": jitter}
        for key, value in given.items():
            if value is not None:
                self._set((key,), value, site)
        self._data["transitions"] = []  # required in every model; `transition()` adds to it
        self._note("", site)

    # -- building -----------------------------------------------------------------------------
    @user_errors
    def attribute(self, name: str, type: str, initial: Any = None, *,
                  description: str | None = None) -> Model:
        """A user attribute: `type` long, double, boolean or string; `initial` an expression
        evaluated per user when created (default zero / empty)."""
        body = {"type": type, "initial": initial, "description": description}
        return self._add("attributes", name, body)

    @user_errors
    def topic(self, name: str, schema: str | Mapping[str, Any], *,
              description: str | None = None) -> Model:
        """A topic and its Avro value schema: a schema file's name (`schemas/<name>.avsc`) or an
        inline Avro record schema."""
        if isinstance(schema, str) and description is None:
            return self._add("topics", name, schema)  # the short form `topic: schema-name`
        return self._add("topics", name, {"schema": schema, "description": description})

    @user_errors
    def profile(self, name: str, *, hours: Any = None, weekdays: Any = None,
                timezone: str | None = None, description: str | None = None) -> Model:
        """A time profile: 24 hour multipliers (or {hour: m}), 7 weekday multipliers (Monday
        first); transitions name it with `profile=`."""
        body = {"hours": hours, "weekdays": weekdays, "timezone": timezone,
                "description": description}
        return self._add("profiles", name, body)

    @user_errors
    def population(self, users: int | None = None, *, arrivals: Mapping[str, Any] | None = None,
                   arrival_state: str | None = None) -> Model:
        """Default users, arrivals ({every: 10m} | {per_hour: n} | {per_day: n}) and the state
        arriving users start in."""
        site = call_site()
        body = {"users": users, "arrivals": arrivals, "arrival_state": arrival_state}
        self._set(("population",), {k: v for k, v in body.items() if v is not None}, site)
        return self

    @user_errors
    def transition(self, name: str, source: str | Sequence[str], target: str, *,
                   chance: float | str | None = None, every: str | float | None = None,
                   condition: str | None = None, vars: Mapping[str, Any] | None = None,
                   update: Any = None, emit: Any = None, profile: str | None = None,
                   session: str | None = None, description: str | None = None) -> Model:
        """A transition from `source` (a state or several) to `target` (a state or "self"):
        `chance` in percent per tick (DOGE's 0.1 = 0.1 %) or `every` (a mean interval such as
        "17h"); optional `condition`, `vars`, `update` (list of "attr += expr" or {attr: expr}),
        `emit` (topics, or {"topic": t, "fields": {field: expr}}), `profile`, `session`
        ("open" or "close")."""
        site = call_site()
        body = {"name": name, "from": source, "to": target, "chance": chance, "every": every,
                "profile": profile, "session": session, "vars": vars, "condition": condition,
                "update": update, "emit": emit, "description": description}
        items = self._data.setdefault("transitions", [])
        path = child_path("transitions", len(items))
        items.append(plain({k: v for k, v in body.items() if v is not None}, path, site))
        self._note(path, site)
        return self

    # -- using --------------------------------------------------------------------------------
    @user_errors
    def validate(self, functions: Sequence[ex.FunctionSpec] = ()) -> list[str]:
        """Check the whole model; raises UserError listing every error, else returns the
        warnings (as printed by `doge validate`)."""
        model = self._validated(functions)
        return [p.render() for p in model.warnings]

    def _validated(self, functions: Sequence[ex.FunctionSpec] = ()) -> ValidatedModel:
        """The validated model the engine runs (raises UserError with every problem)."""
        return validate_document(self._document(), self._base_dir, tuple(functions))

    def _document(self) -> Document:
        """The model as the document a YAML file would give (a copy)."""
        return Document(self.to_dict(), self._file, dict(self._lines))

    def to_dict(self) -> dict[str, Any]:
        """The model as plain data (a copy), keys in the order the example files use."""
        ordered = {k: self._data[k] for k in _ORDER if k in self._data}
        ordered.update({k: v for k, v in self._data.items() if k not in ordered})
        return copy.deepcopy(ordered)

    def to_yaml(self) -> str:
        """The model as YAML text that `Model.load` (or any model file reader) reads back."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)

    @property
    def name(self) -> str:
        value = self._data.get("name")
        return value if isinstance(value, str) and value else "model"

    @property
    def base_dir(self) -> Path:
        """Where relative paths in the model (schemas) are resolved from."""
        return self._base_dir

    @classmethod
    @user_errors
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """A model file (.yaml, .yml or .json) as a Model, to run, change or extend."""
        doc = load_file(Path(path))
        site = CallSite(doc.file, doc.line(""))
        if not isinstance(doc.data, dict):
            raise UserError([site.problem("", "expected a mapping (the model) at the top "
                                              "level of the file")])
        model = cls.__new__(cls)
        model._site = site
        model._base_dir = Path(path).resolve().parent
        model._data = doc.data
        model._lines = dict(doc.lines)
        model._file = doc.file
        return model

    def __repr__(self) -> str:
        states = self._data.get("states")
        count = len(self._data.get("transitions", []))
        return f"Model(name={self.name!r}, states={states!r}, transitions={count})"

    # -- details ------------------------------------------------------------------------------
    def _add(self, section: str, name: str, body: dict[str, Any] | str) -> Model:
        site = call_site()
        if not isinstance(name, str) or not name:
            raise UserError([site.problem(section, f"expected a non-empty string as the name, "
                                                   f"got {name!r}")])
        table = self._data.setdefault(section, {})
        if not isinstance(table, dict):
            raise UserError([site.problem(section, f"'{section}' is not a mapping")])
        path = child_path(section, name)
        if name in table:
            raise UserError([site.problem(path, f"duplicate key '{name}'")])
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if v is not None}
        table[name] = plain(body, path, site)
        self._note(path, site)
        return self

    def _set(self, keys: tuple[str, ...], value: Any, site: CallSite) -> None:
        path = ".".join(keys)
        self._data[keys[0]] = plain(value, path, site)
        self._note(path, site)

    def _note(self, path: str, site: CallSite) -> None:
        """Remember the line of `path` (only for calls from the file the model is built in)."""
        if site.line is not None and site.file == self._file:
            self._lines[path] = site.line
