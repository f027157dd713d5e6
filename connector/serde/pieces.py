"""Columnar Avro binary primitives: each field of n rows becomes a `Piece` of per-row bytes.

A piece is either a zero-padded (n, width) uint8 block (row i uses its first `lens[i]` bytes) or,
for long strings, a ragged flat buffer with per-row lengths. `assemble` interleaves the pieces of a
record row by row into one contiguous buffer. Everything is numpy over whole columns: the only
per-value Python work is `len` and one join/encode of each string column.
"""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]

# A string column becomes a padded block while its widest value is at most this many bytes, or
# while padding wastes little; past that (one huge outlier) it stays ragged so memory stays linear.
_NARROW_STRING = 32
# Most distinct row layouts (tuples of variable field lengths) worth precomputing masks for.
_MAX_MASK_PATTERNS = 4096


@attrs.frozen
class Piece:
    """Per-row bytes of one field: a padded `block` (n, width) or a ragged `flat` buffer."""

    n: int
    block: U8 | None = None  # (n, width), row i uses block[i, :lens[i]]
    flat: U8 | None = None  # ragged: row i's bytes follow row i-1's
    lens: I64 | None = None  # None: every row uses the whole block width
    right: bool = False  # row i uses the block's last lens[i] bytes (right-aligned digits)

    @property
    def width(self) -> int:
        return 0 if self.block is None else int(self.block.shape[1])

    def row_lens(self) -> I64:
        if self.lens is not None:
            return self.lens
        return np.full(self.n, self.width, dtype=np.int64)


def constant(data: bytes, n: int) -> Piece:
    """The same bytes on every row (the wire header, a union branch that never changes)."""
    row = np.frombuffer(data, dtype=np.uint8)
    return Piece(n, block=np.broadcast_to(row, (n, row.shape[0])))


def zigzag(values: I64) -> U64:
    """Avro's zigzag mapping of signed longs onto unsigned ones (small magnitudes stay small)."""
    v = values.astype(np.int64, copy=False)
    return ((v << 1) ^ (v >> 63)).view(np.uint64)


def varint(z: U64) -> Piece:
    """Unsigned LEB128 varints of `z`: 7 bits per byte, high bit set on all but the last byte."""
    n = int(z.shape[0])
    if n == 0:
        return Piece(0, block=np.zeros((0, 1), dtype=np.uint8))
    width = max(1, (int(z.max()).bit_length() + 6) // 7)
    block = np.empty((n, width), dtype=np.uint8)
    lens = np.ones(n, dtype=np.int64)
    for k in range(width):
        byte = (z >> (7 * k)).astype(np.uint8)  # truncation keeps the low 8 bits
        byte &= 0x7F
        if k < width - 1:
            more = z >= (1 << (7 * (k + 1)))
            byte |= more.view(np.uint8) << 7
            lens += more
        block[:, k] = byte
    # Equal lengths (timestamps of one tick) need no mask when assembling.
    return Piece(n, block=block, lens=None if int(lens.min()) == width else lens)


# Powers of ten up to 10**19 (the largest below 2**64), and the 4-digit text of 0..9999 as
# one little-endian uint32 each (so that one gather writes four digits).
POW10 = np.array([10**k for k in range(20)], dtype=np.uint64)
_QUADS = np.frombuffer("".join(f"{i:04d}" for i in range(10_000)).encode(), dtype="<u4")
_E8 = np.uint64(10**8)


def decimal_pieces(values: I64) -> list[Piece]:
    """Decimal text of int64 values (what `str` writes): a "-" where negative, then the digits
    as a right-aligned block, four digits per gather; 64-bit division only to split each value
    at 10**8, the rest in 32 bits."""
    n = int(values.shape[0])
    if n and values.min() == values.max():  # e.g. the event times of one tick
        return [constant(b"%d" % int(values[0]), n)]
    negative = values < 0
    magnitude = values.astype(np.uint64)
    np.negative(magnitude, out=magnitude, where=negative)  # two's complement |v|, int64 min too
    ndigits = np.searchsorted(POW10[1:], magnitude, side="right").astype(np.int64) + 1
    quads = (int(ndigits.max()) + 3) // 4 if n else 1
    block = np.empty((n, quads), dtype="<u4")
    if quads <= 2:
        _quads(magnitude.astype(np.uint32), block, quads)
    else:  # the 8 low digits in 32 bits, the rest (below 2**64 / 10**8) in 64 then 32 bits
        upper = magnitude // _E8
        _quads((magnitude - upper * _E8).astype(np.uint32), block[:, quads - 2:], 2)
        high = upper // _E8
        _quads((upper - high * _E8).astype(np.uint32), block[:, max(quads - 4, 0): quads - 2],
               min(quads - 2, 2))
        if quads > 4:
            _quads(high.astype(np.uint32), block[:, : quads - 4], quads - 4)
    widest = int(ndigits.max()) if n else 1  # right-aligned: drop the all-zero left columns
    digits = Piece(n, block=block.view(np.uint8)[:, 4 * quads - widest:], lens=ndigits,
                   right=True)
    if not negative.any():
        return [digits]
    sign = Piece(n, block=np.full((n, 1), ord("-"), dtype=np.uint8),
                 lens=negative.astype(np.int64))
    return [sign, digits]


def signed_lengths(bits: U64) -> I64:
    """Bytes of big-endian two's complement that hold values whose significant bits (without
    the sign) are `bits`: one more byte per 8 bits, the top bit of the first kept for the sign."""
    lens = np.ones(bits.shape[0], dtype=np.int64)
    for k in range(1, 9):
        lens += bits >= np.uint64(1 << (8 * k - 1))
    return lens


def signed_bytes(values: I64, lens: I64) -> Piece:
    """The last `lens[i]` bytes of each value's big-endian two's complement, sign-extended to
    9 bytes (decimals): a block whose row i uses its first lens[i] bytes."""
    n = int(values.shape[0])
    big_endian = values.astype(">i8").view(np.uint8).reshape(n, 8)
    sign = np.where(values < 0, 0xFF, 0).astype(np.uint8).reshape(n, 1)
    rows = np.hstack([sign, big_endian])
    # Left-align each row's bytes (a block row uses its first `lens` bytes).
    shift = np.minimum((9 - lens)[:, None] + np.arange(9), 8)
    return Piece(n, block=np.take_along_axis(rows, shift, axis=1), lens=lens)


def _quads(values: npt.NDArray[np.uint32], out: npt.NDArray[np.uint32], count: int) -> None:
    """The last `count` groups of four decimal digits of `values` into the columns of `out`."""
    rest = values
    for q in range(count - 1, -1, -1):
        upper = rest // np.uint32(10_000)
        out[:, q] = _QUADS[rest - upper * np.uint32(10_000)]
        rest = upper


def long_bytes(value: int) -> bytes:
    """One Avro int/long (zigzag varint), for values written one at a time (headers, keys)."""
    return uvarint_bytes((value << 1) ^ (value >> 63))


def uvarint_bytes(value: int) -> bytes:
    """One unsigned LEB128 varint of a 64-bit value (Protobuf's int64: negatives take 10 bytes)."""
    z = value & 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def long_piece(values: I64) -> Piece:
    """Avro int/long: zigzag varint."""
    return varint(zigzag(values))


def fixed_piece(values: npt.NDArray[np.generic], dtype: str) -> Piece:
    """Fixed-width little-endian values (double '<f8', float '<f4', boolean 'u1')."""
    with np.errstate(over="ignore"):  # a double beyond float range becomes inf, as in fastavro
        arr = np.ascontiguousarray(values, dtype=dtype)
    return Piece(int(arr.shape[0]), block=arr.view(np.uint8).reshape(arr.shape[0], arr.itemsize))


def ragged_piece(flat: bytes, lens: I64) -> Piece:
    """The joined values with their byte lengths, as a piece: padded while that stays cheap."""
    n = int(lens.shape[0])
    data = np.frombuffer(flat, dtype=np.uint8)
    widest = int(lens.max()) if n else 0
    if _narrow(widest, int(data.shape[0]), n):
        return Piece(n, block=ragged_block(data, lens, widest), lens=lens)
    return Piece(n, flat=data, lens=lens)


def separated_piece(data: U8, ends: I64) -> Piece:
    """Values each followed by one separator byte (at `ends` in `data`), as a piece: the
    separators give the lengths without a `len` per value, and become padding of a block
    while that stays cheap (else they are dropped from a ragged buffer)."""
    spans = np.diff(ends, prepend=-1)  # each value and its separator
    lens = spans - 1
    n = int(ends.shape[0])
    widest = int(spans.max()) if n else 1
    if _narrow(widest - 1, int(data.shape[0]) - n, n):
        return Piece(n, block=ragged_block(data, spans, widest), lens=lens)
    return Piece(n, flat=np.delete(data, ends), lens=lens)


def bytes_pieces(flat: bytes, lens: I64) -> list[Piece]:
    """Avro string/bytes from the joined values and their byte lengths: length prefix, body."""
    return [long_piece(lens), ragged_piece(flat, lens)]


def utf8_join(items: list[str]) -> tuple[bytes, I64]:
    """The UTF-8 of a column of `str` joined, and each value's byte length: one join, one encode."""
    n = len(items)
    # utf-8 of the joined column == the joined utf-8 of each value; join also rejects non-str.
    joined = "".join(items)
    flat = joined.encode("utf-8")
    if len(flat) == len(joined):
        lens = np.fromiter(map(len, items), dtype=np.int64, count=n)
    else:  # some value is not ASCII: byte lengths differ from chars
        lens = np.fromiter((len(s.encode("utf-8")) for s in items), dtype=np.int64, count=n)
    return flat, lens


def string_pieces(values: npt.NDArray[np.object_]) -> list[Piece]:
    """Avro string of an object column of `str`: length prefix, body."""
    body = string_body(values)
    return [long_piece(body.row_lens()), body]


def string_body(values: npt.NDArray[np.object_]) -> Piece:
    """The UTF-8 of an object column of `str`, as a piece. One join and one UTF-8 encode with a
    NUL after each value: where the NULs fall gives the byte lengths (no `len` nor encode per
    value); a column whose values hold NULs themselves is measured value by value."""
    n = int(values.shape[0])
    items = values.tolist()
    data = np.frombuffer(("\0".join(items) + "\0").encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(data == 0)  # join rejects non-str
    if ends.shape[0] != n:
        return ragged_piece(*utf8_join(items))
    return separated_piece(data, ends)


def _narrow(widest: int, total: int, n: int) -> bool:
    """Whether padding every row to the widest is cheap enough for a block (memory stays
    linear in the data: no single huge value inflates every row)."""
    return widest <= _NARROW_STRING or widest * n <= 2 * total + _NARROW_STRING * n


def expand(piece: Piece, rows: I64, n: int) -> Piece:
    """Spread a piece computed for `rows` (ascending) over n rows; the other rows get no bytes."""
    lens = np.zeros(n, dtype=np.int64)
    lens[rows] = piece.row_lens()
    if piece.block is None:
        return Piece(n, flat=piece.flat, lens=lens)
    block = np.zeros((n, piece.width), dtype=np.uint8)
    block[rows] = piece.block
    return Piece(n, block=block, lens=lens, right=piece.right)


def assemble(pieces: list[Piece], n: int) -> tuple[U8, I64]:
    """Interleave the pieces row by row: (contiguous buffer, n+1 record offsets)."""
    offsets = np.zeros(n + 1, dtype=np.int64)
    if n == 0 or not pieces:  # no rows, or records without fields or header: all empty
        return np.zeros(0, dtype=np.uint8), offsets
    np.cumsum(total_lens(pieces, n), out=offsets[1:])
    # Runs of adjacent blocks collapse into one ragged piece with a single masked compress.
    merged: list[Piece] = []
    run: list[Piece] = []
    for piece in pieces:
        if piece.block is not None:
            if run and _is_constant(run[-1]) and _is_constant(piece):  # e.g. '","name":"'
                assert run[-1].block is not None
                run[-1] = constant(run[-1].block[0].tobytes() + piece.block[0].tobytes(), n)
            else:
                run.append(piece)
            continue
        if run:
            merged.append(_compress(run, n))
            run = []
        merged.append(piece)
    if run:
        merged.append(_compress(run, n))
    if len(merged) == 1:
        assert merged[0].flat is not None
        return merged[0].flat, offsets
    return _interleave(merged, offsets, n), offsets


def _is_constant(piece: Piece) -> bool:
    """Whether the piece is the same bytes on every row (`constant`: a broadcast row)."""
    return piece.block is not None and piece.lens is None and piece.block.strides[0] == 0


def _compress(blocks: list[Piece], n: int) -> Piece:
    """Concatenate blocks side by side and drop each row's padding."""
    parts = [b.block for b in blocks if b.block is not None]
    matrix = parts[0] if len(parts) == 1 else np.hstack(parts)
    lens = total_lens(blocks, n)
    if all(b.lens is None for b in blocks):
        return Piece(n, flat=np.ascontiguousarray(matrix).reshape(-1), lens=lens)
    return Piece(n, flat=matrix[_row_masks(blocks, n)], lens=lens)


def _row_masks(blocks: list[Piece], n: int) -> npt.NDArray[np.bool_]:
    """Which bytes of each row of the side-by-side blocks are data, not padding."""
    # A row's mask depends only on its tuple of variable lengths: number each tuple (mixed radix),
    # build the few distinct masks once and gather them, instead of comparing every row.
    radix = 1
    for b in blocks:
        if b.lens is not None:
            radix *= b.width + 1
    if radix > _MAX_MASK_PATTERNS or radix * 4 > n:  # small batches: the table costs more
        mask = np.ones((n, sum(b.width for b in blocks)), dtype=bool)
        col = 0
        for b in blocks:
            if b.lens is not None:
                _used(b, b.lens, mask[:, col : col + b.width])
            col += b.width
        return mask
    code = np.zeros(n, dtype=np.int64)
    codes = np.arange(radix)
    columns: list[npt.NDArray[np.bool_]] = []
    step = 1
    for b in blocks:
        if b.lens is None:
            columns.append(np.ones((radix, b.width), dtype=bool))
            continue
        code += b.lens * step
        columns.append(_piece_mask(b, (codes // step) % (b.width + 1), radix))
        step *= b.width + 1
    return np.hstack(columns).take(code, axis=0)


def _piece_mask(b: Piece, lens: I64 | None, rows: int) -> npt.NDArray[np.bool_]:
    if lens is None:
        return np.ones((rows, b.width), dtype=bool)
    return _used(b, lens, np.empty((lens.shape[0], b.width), dtype=bool))


def _used(b: Piece, lens: I64, out: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Which bytes of each row of block `b` hold data, given each row's length."""
    if b.right:
        return np.greater_equal(np.arange(b.width), (b.width - lens)[:, None], out=out)
    return np.less(np.arange(b.width), lens[:, None], out=out)


def total_lens(pieces: list[Piece], n: int) -> I64:
    """Bytes per row over all pieces (fixed-width ones add a constant)."""
    fixed = sum(p.width for p in pieces if p.lens is None)
    varying = [p.lens for p in pieces if p.lens is not None]
    if not varying:
        return np.full(n, fixed, dtype=np.int64)
    total = varying[0] + fixed
    for lens in varying[1:]:
        total += lens
    return total


def _interleave(raggeds: list[Piece], offsets: I64, n: int) -> U8:
    """Scatter ragged pieces into one buffer: row i holds piece 0's bytes, then piece 1's, ..."""
    out = np.empty(int(offsets[-1]), dtype=np.uint8)
    dst = offsets[:-1].copy()  # where the next piece's bytes of each row go
    for p in raggeds:
        assert p.flat is not None and p.lens is not None
        _scatter(out, dst, p.flat, p.lens)
        dst += p.lens
    return out


def _scatter(out: U8, dst: I64, flat: U8, lens: I64) -> None:
    """out[dst[i] : dst[i] + lens[i]] = row i's bytes of `flat`, for all rows at once."""
    if flat.shape[0] == 0:
        return
    src = np.cumsum(lens) - lens
    index = np.repeat(dst - src, lens)
    index += np.arange(flat.shape[0])
    out[index] = flat


def ragged_block(flat: U8, lens: I64, width: int) -> U8:
    """Values joined in `flat` as the rows of a (n, width) block, each padded with NULs."""
    n = int(lens.shape[0])
    block = np.zeros((n, max(width, 1)), dtype=np.uint8)
    # A boolean mask assigns in row-major order: row i's first lens[i] bytes, rows in order
    # (one byte of mask per cell: ~2x cheaper than scattering with int64 indices).
    block[np.arange(block.shape[1]) < lens[:, None]] = flat
    return block
