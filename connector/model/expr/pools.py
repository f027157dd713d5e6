"""Seeded pools of realistic values from Faker, built once per process, indexed columnar.

Why Faker (not mimesis): it is far more widely used and kept up (rank ~430 vs ~3900 among PyPI
downloads), has no dependencies, and has the widest set of locales (110) with the providers we
need (person, address, phone, company, job, internet, lorem, bank, credit card). Faker is slow
per value (3-40 us), so it never runs on the hot path: each pool is POOL_SIZE values drawn from
a Faker seeded from the pool's name and locale (never from wall time), so a pool is the same in
every process; expressions index pools with their call site's random stream (`pool[indices]`).
Values are kept with Faker's frequencies (a common first name appears in the pool more often).

Faker is imported when the first pool or locale list is asked for (~0.1 s at import, paid by every
`doge` command and task otherwise, whether its model fakes values or not).

Faker's output for a seed can change between its versions: setup.cfg pins it, and `identity()`
(library, version, pool size and a digest of the pools' contents) goes into the run fingerprint,
so a run is never resumed with other values.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import re
import threading
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import faker

POOL_SIZE = 4096
DEFAULT_LOCALE = "en_US"

@functools.cache
def _library() -> ModuleType:
    """The faker package, with the submodules used here, imported on first use."""
    for submodule in ("faker.config", "faker.decode"):
        importlib.import_module(submodule)
    return importlib.import_module("faker")


@functools.cache
def locales() -> tuple[str, ...]:
    """The locales Faker has, sorted."""
    return tuple(sorted(_library().config.AVAILABLE_LOCALES))


_Draw = Callable[["faker.Faker"], str]
_NOT_ASCII_WORD = r"[^a-z]"


def _romanized(kind: str) -> _Draw:
    """An ASCII lower-case name: the locale's romanized names where it has them (ja_JP), else
    Faker's own transliteration of the name; letters only, so it can go into an address."""

    def draw(f: faker.Faker) -> str:
        try:
            name = getattr(f, f"{kind}_romanized_name")()
        except AttributeError:
            name = getattr(f, f"{kind}_name")()
        return re.sub(_NOT_ASCII_WORD, "", _library().decode.unidecode(name).lower())

    return draw


def _method(name: str) -> _Draw:
    def draw(f: faker.Faker) -> str:
        return str(getattr(f, name)())

    return draw


# Pool name -> how one value is drawn. Pools are combined by fakes.py into the fake kinds.
DRAWS: dict[str, _Draw] = {
    "first_name": _method("first_name"),
    "last_name": _method("last_name"),
    "first_ascii": _romanized("first"),
    "last_ascii": _romanized("last"),
    "free_email_domain": _method("free_email_domain"),
    "domain": _method("domain_name"),
    "phone": _method("phone_number"),
    "street_address": _method("street_address"),
    "city": _method("city"),
    "country": _method("country"),
    "postcode": _method("postcode"),
    "company": _method("company"),
    "job": _method("job"),
    "user_agent": _method("user_agent"),
    "iban": _method("iban"),
    "credit_card": _method("credit_card_number"),
    "word": _method("word"),
}

_LOCK = threading.Lock()


@functools.cache
def _faker(locale: str) -> faker.Faker:
    made: faker.Faker = _library().Faker(locale)
    return made


def _seed(name: str, locale: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{name}|{locale}".encode()).digest()[:8], "little")


@functools.cache
def pool(name: str, locale: str) -> np.ndarray:
    """The pool as an object array of POOL_SIZE str (empty draws skipped, cycled to fill)."""
    draw = DRAWS[name]
    with _LOCK:  # one seeded Faker per locale: re-seed and draw without interleaving
        f = _faker(locale)
        f.seed_instance(_seed(name, locale))
        values = [v for v in (draw(f) for _ in range(POOL_SIZE)) if v]
    if not values:  # e.g. no name of the locale transliterates to letters
        values = ["x"]
    out = np.empty(POOL_SIZE, dtype=object)
    out[:] = [values[i % len(values)] for i in range(POOL_SIZE)]
    out.flags.writeable = False
    return out


@functools.cache
def sentence_style(locale: str) -> tuple[str, str]:
    """(word connector, sentence end) of the locale's lorem provider: (' ', '.'), ('', '。')."""
    for provider in _faker(locale).providers:
        if hasattr(provider, "word_connector"):
            return str(provider.word_connector), str(provider.sentence_punctuation)
    return " ", "."


def identity(pools: Iterable[tuple[str, str]]) -> dict[str, object]:
    """What the values of these (pool, locale) pairs are a function of, for the run
    fingerprint: the library and its version, the pool size, and a digest of the contents."""
    digest = hashlib.blake2b(digest_size=16)
    names = sorted(set(pools))
    for name, locale in names:
        digest.update(f"{name}|{locale}\n".encode())
        digest.update("\x00".join(pool(name, locale).tolist()).encode())
    return {"library": f"faker {_library().VERSION}", "pool_size": POOL_SIZE,
            "pools": [f"{n}/{loc}" for n, loc in names], "digest": digest.hexdigest()}
