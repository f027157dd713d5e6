"""Strings as code matrices: a column of n strings is an (n, width) uint32 array of code points
(NUL-padded), which numpy views as fixed-width '<U' text in one step. Generated values are built
and checked (Luhn, IBAN mod 97) here with whole-column arithmetic, never a Python loop per row.
"""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt

_U32 = npt.NDArray[np.uint32]
_I64 = npt.NDArray[np.int64]
ZERO = ord("0")
# At most this many decimal digits come from one 64-bit draw.
_DIGITS_PER_DRAW = 18
_POW10 = 10 ** np.arange(_DIGITS_PER_DRAW, dtype=np.int64)


def codes_of(values: np.ndarray) -> _U32:
    """(n, width) code points of a column of str; width is the longest value (at least 1)."""
    text = np.asarray(values.tolist() or [""], dtype=str)
    width = max(text.dtype.itemsize // 4, 1)
    return np.ascontiguousarray(text.astype(f"<U{width}")).view(np.uint32).reshape(-1, width)


def strings_of(codes: _U32) -> np.ndarray:
    """An object column of str from (n, width) code points (trailing NULs dropped)."""
    n, width = codes.shape
    flat = np.ascontiguousarray(codes).view(f"<U{width}").reshape(n)
    return flat.astype(object)


def random_digits(gen: np.random.Generator, size: int, count: int) -> _I64:
    """(size, count) uniform decimal digits, one draw of `size` values per 18 digits."""
    out = np.empty((size, count), dtype=np.int64)
    for start in range(0, count, _DIGITS_PER_DRAW):
        k = min(_DIGITS_PER_DRAW, count - start)
        v = gen.integers(0, 10**k, size=size, dtype=np.int64)
        out[:, start : start + k] = (v[:, None] // _POW10[None, :k]) % 10
    return out


@attrs.frozen(eq=False)
class Template:
    """A pool of strings whose chosen digit positions are redrawn per row.

    `codes` has one extra all-NUL column that padding slots point at, so every row writes the
    same number of digits (and draws the same amount of its stream)."""

    codes: _U32
    lengths: _I64
    slots: _I64  # (pool size, most slots) positions to redraw, padded with the scratch column

    @classmethod
    def build(cls, values: np.ndarray, skip_first: int = 0, last: int | None = None,
              keep_last: int = 0) -> Template:
        """Redraw the digits at or after position `skip_first`, only the `last` ones if given,
        leaving the final `keep_last` digits (a check digit) for the caller to set."""
        codes = codes_of(values)
        n, width = codes.shape
        codes = np.hstack([codes, np.zeros((n, 1), dtype=np.uint32)])
        lengths = (codes[:, :width] != 0).sum(axis=1).astype(np.int64)
        is_digit = (codes[:, :width] >= ZERO) & (codes[:, :width] <= ZERO + 9)
        is_digit[:, :skip_first] = False
        rows: list[list[int]] = []
        for row in is_digit:  # once per pool, at build time
            positions = np.flatnonzero(row).tolist()
            positions = positions[: len(positions) - keep_last]
            rows.append(positions if last is None else positions[-last:])
        most = max(1, *(len(r) for r in rows))
        slots = np.full((n, most), width, dtype=np.int64)
        for i, r in enumerate(rows):
            slots[i, : len(r)] = r
        return cls(codes, lengths, slots)

    def fill(self, gen: np.random.Generator, index: _I64) -> tuple[_U32, _I64]:
        """Code points (scratch column included) and lengths of the pool rows `index`, their
        digits redrawn from `gen`."""
        out = self.codes[index]
        slots = self.slots[index]
        digits = random_digits(gen, index.shape[0], slots.shape[1])
        out[np.arange(index.shape[0])[:, None], slots] = (ZERO + digits).astype(np.uint32)
        return out, self.lengths[index]


def text(codes: _U32) -> np.ndarray:
    """Strings of filled template rows (the scratch column dropped)."""
    return strings_of(codes[:, :-1])


def set_luhn(codes: _U32, lengths: _I64) -> None:
    """Overwrite the last digit of each row with its Luhn check digit (all-digit rows)."""
    n = codes.shape[0]
    rows = np.arange(n)[:, None]
    offset = np.arange(1, codes.shape[1], dtype=np.int64)[None, :]  # from the right, 0 = check
    pos = lengths[:, None] - 1 - offset
    valid = pos >= 0
    d = np.where(valid, codes[rows, np.maximum(pos, 0)].astype(np.int64) - ZERO, 0)
    doubled = d * 2
    d = np.where(offset % 2 == 1, doubled - 9 * (doubled > 9), d)
    check = (10 - d.sum(axis=1) % 10) % 10
    codes[np.arange(n), lengths - 1] = (ZERO + check).astype(np.uint32)


def _mod97_value(codes: _U32) -> tuple[_I64, _I64]:
    """Per code: its IBAN numeric value (digit 0-9, letter A-Z 10-35) and 10 or 100 for its
    number of decimal digits."""
    c = codes.astype(np.int64)
    letter = c >= ord("A")
    return np.where(letter, c - ord("A") + 10, c - ZERO), np.where(letter, 100, 10)


def set_iban_check(codes: _U32, lengths: _I64) -> None:
    """Set positions 2-3 (the check digits) so that each IBAN passes the ISO 13616 mod-97 test:
    BBAN + country code + '00' as a number, mod 97, gives check = 98 - remainder."""
    n = codes.shape[0]
    rem = np.zeros(n, dtype=np.int64)
    value, scale = _mod97_value(codes)
    for j in range(4, codes.shape[1]):
        inside = j < lengths
        rem = np.where(inside, (rem * scale[:, j] + value[:, j]) % 97, rem)
    for j in (0, 1):  # the country code, then '00'
        rem = (rem * scale[:, j] + value[:, j]) % 97
    rem = (rem * 100) % 97
    check = 98 - rem
    codes[:, 2] = (ZERO + check // 10).astype(np.uint32)
    codes[:, 3] = (ZERO + check % 10).astype(np.uint32)
