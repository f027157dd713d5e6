"""Kafka Connect's ConfigDef, in small: one table per config (name, type, default, validation,
doc, importance) drives parsing, the `config/validate` REST answer and the README tables."""

from __future__ import annotations

import difflib
import enum
import math
from collections.abc import Callable, Iterable

import attrs

from connector.errors import Problem
from connector.model.numbers import parse_whole_number, shorten


class ConfigType(enum.Enum):
    """Connect's type names, as `config/validate` shows them."""

    STRING = "STRING"
    INT = "INT"
    BOOLEAN = "BOOLEAN"
    LONG = "LONG"
    CLASS = "CLASS"
    LIST = "LIST"
    PASSWORD = "PASSWORD"


HIDDEN = "[hidden]"  # what Connect shows of a PASSWORD value


class Importance(enum.Enum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


@attrs.frozen
class ConfigKey:
    name: str
    type: ConfigType
    default: str | None
    doc: str
    importance: Importance = Importance.MEDIUM
    required: bool = False
    minimum: int | None = None  # whole numbers (INT, LONG) below it are refused
    shown_default: str | None = None  # for the README, when the default is decided elsewhere
    # The key's bounds beyond `minimum`: raises ValueError with a one-line message.
    validator: Callable[[int], None] | None = None
    choices: tuple[str, ...] | None = None  # the values a STRING key accepts (any case)

    def shown(self, value: str | None) -> str | None:
        """The value as answers show it: a PASSWORD's never (Connect's `[hidden]`)."""
        return HIDDEN if self.type is ConfigType.PASSWORD and value is not None else value

    def whole_number(self, text: str) -> int | str:
        """The value as a whole number, or what is wrong with it."""
        try:
            number = parse_whole_number(text)
        except ValueError as exc:
            return str(exc) + _spelled_out(text)
        if self.minimum is not None and number < self.minimum:
            return f"expected a whole number >= {self.minimum}, got {number}"
        if self.validator is not None:
            try:
                self.validator(number)
            except ValueError as exc:
                return str(exc)
        return number

    def choice(self, text: str) -> str | None:
        """The value of a key with `choices`, as the table spells it; None if not one of them."""
        wanted = text.strip().upper()
        return next((c for c in self.choices or () if c.upper() == wanted), None)

    def boolean(self, text: str) -> bool | str:
        """The value of a BOOLEAN key (`true` or `false`, any case, as Connect reads them), or
        what is wrong with it."""
        value = text.strip().lower()
        if value not in ("true", "false"):
            return f"expected true or false, got {shorten(text)!r}"
        return value == "true"


@attrs.frozen
class ConfigPrefix:
    """Keys passed on as they are under a prefix (e.g. `producer.*`)."""

    prefix: str
    doc: str


@attrs.frozen
class ConfigDef:
    keys: tuple[ConfigKey, ...]
    prefixes: tuple[ConfigPrefix, ...] = ()

    def __contains__(self, name: object) -> bool:
        return any(k.name == name for k in self.keys)

    def __getitem__(self, name: str) -> ConfigKey:
        return next(k for k in self.keys if k.name == name)

    @property
    def names(self) -> list[str]:
        return [k.name for k in self.keys]

    def known(self, name: str) -> bool:
        return name in self or name.startswith(tuple(p.prefix for p in self.prefixes))

    def suggestion(self, name: str) -> str | None:
        """The known key `name` is most likely a typo of, if any is close."""
        close = difflib.get_close_matches(name, self.names, n=1, cutoff=0.75)
        return close[0] if close else None

    def unknown_problems(self, names: Iterable[str], file: str | None = None,
                         path_prefix: str = "", line_of: dict[str, int | None] | None = None
                         ) -> list[Problem]:
        """One problem per unknown key, with a "did you mean" where one is close; the list of
        known keys is said once, on the last of them."""
        unknown = [n for n in names if not self.known(n)]
        problems = []
        for i, name in enumerate(unknown):
            guess = self.suggestion(name)
            message = f"unknown key '{name}'" + (f" (did you mean '{guess}'?)" if guess else "")
            if i == len(unknown) - 1:
                message += "; known keys: " + ", ".join(sorted(self.names))
                if self.prefixes:
                    message += ", and keys starting with " + ", ".join(
                        p.prefix for p in self.prefixes)
            problems.append(Problem(message, file=file, path=f"{path_prefix}{name}",
                                    line=(line_of or {}).get(name)))
        return problems

    def markdown(self) -> str:
        """The README table of this config."""
        rows = ["| key | type | default | importance | meaning |",
                "| --- | --- | --- | --- | --- |"]
        for k in self.keys:
            default = k.shown_default or ("—" if k.default is None else f"`{k.default}`"
                                          if k.default else "(empty)")
            rows.append(f"| `{k.name}` | {k.type.value.lower()} | {default} | "
                        f"{k.importance.value.lower()} | {k.doc} |")
        for p in self.prefixes:
            shown = f"{p.prefix}*" if p.prefix.endswith(".") else p.prefix
            rows.append(f"| `{shown}` | | | | {p.doc} |")
        return "\n".join(rows) + "\n"


def _spelled_out(text: str) -> str:
    """For `1e9` or `2.0`: the hint to write the whole number in digits."""
    try:
        value = float(text)
    except ValueError:
        return ""
    if not (math.isfinite(value) and value.is_integer()) or abs(value) >= 1e40:
        return ""
    return f"; write it in digits: {int(value)}"
