"""Identifiers made from random bits of a site's stream: UUIDs and IP addresses.

Built as whole columns (hex digits and decimal octets looked up in tables), never per row in
Python. Each function draws a fixed number of `size`-long batches from its generator, so a row's
value only depends on its position in its shard's stream.
"""

from __future__ import annotations

import functools

import numpy as np

from connector.model.expr.chars import strings_of

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8).astype(np.uint32)
_NIBBLE_SHIFTS = np.arange(60, -1, -4, dtype=np.uint64)  # most significant nibble first
_DASH = ord("-")
# Where the 32 hex digits of a UUID go among its 36 characters.
_UUID_HEX = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def _nibbles(words: np.ndarray) -> np.ndarray:
    """(n, 16) hex digits of uint64 values, most significant first."""
    return ((words[:, None] >> _NIBBLE_SHIFTS[None, :]) & np.uint64(15)).astype(np.intp)


def uuid4(gen: np.random.Generator, size: int) -> np.ndarray:
    """Random (version 4, RFC 9562 variant) UUIDs in canonical lower-case form."""
    hi = gen.integers(0, 2**64, size=size, dtype=np.uint64, endpoint=False)
    lo = gen.integers(0, 2**64, size=size, dtype=np.uint64, endpoint=False)
    digits = np.hstack([_nibbles(hi), _nibbles(lo)])
    digits[:, 12] = 4  # version
    digits[:, 16] = 8 | (digits[:, 16] & 3)  # variant 10xx
    codes = np.full((size, 36), _DASH, dtype=np.uint32)
    codes[:, _UUID_HEX] = _HEX[digits]
    return strings_of(codes)


@functools.cache
def _decimal(count: int) -> np.ndarray:
    """'0'..str(count - 1) as an object array."""
    out = np.empty(count, dtype=object)
    out[:] = [str(i) for i in range(count)]
    out.flags.writeable = False
    return out


@functools.cache
def _hex16() -> np.ndarray:
    """'0'..'ffff' (no leading zeros) as an object array."""
    out = np.empty(1 << 16, dtype=object)
    out[:] = [format(i, "x") for i in range(1 << 16)]
    out.flags.writeable = False
    return out


def decimal_text(values: np.ndarray, below: int) -> np.ndarray:
    """Decimal text of small non-negative integers (< below) by table lookup."""
    out: np.ndarray = _decimal(below)[values]
    return out


def ipv4(gen: np.random.Generator, size: int) -> np.ndarray:
    """Dotted IPv4 addresses; the first octet is 1-223 without 127 (no 0/8, loopback,
    multicast or reserved), the other 24 bits uniform."""
    first = gen.integers(1, 223, size=size, dtype=np.int64)
    first += first >= 127
    rest = gen.integers(0, 1 << 24, size=size, dtype=np.int64)
    octet = _decimal(256)
    out = octet[first]
    for shift in (16, 8, 0):
        out = out + "." + octet[(rest >> shift) & 255]
    return np.asarray(out, dtype=object)


def ipv6(gen: np.random.Generator, size: int) -> np.ndarray:
    """Global unicast IPv6 addresses (2000::/3): eight groups of hex without leading zeros,
    not compressed (as Faker writes them); 125 random bits."""
    hi = gen.integers(0, 2**64, size=size, dtype=np.uint64, endpoint=False)
    lo = gen.integers(0, 2**64, size=size, dtype=np.uint64, endpoint=False)
    hi = (hi & np.uint64((1 << 61) - 1)) | np.uint64(1 << 61)
    table = _hex16()
    groups = [(w >> np.uint64(s)) & np.uint64(0xFFFF) for w in (hi, lo) for s in (48, 32, 16, 0)]
    out = table[groups[0].astype(np.intp)]
    for g in groups[1:]:
        out = out + ":" + table[g.astype(np.intp)]
    return np.asarray(out, dtype=object)
