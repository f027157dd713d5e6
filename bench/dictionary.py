"""Would dictionary-encoded string columns pay? (issue 10's record with five fake() fields)

Printed by bench/encode.py after its per-format figures. A fake() value drawn from a pool could
be carried as an index into the pool, pre-encoded once (a padded UTF-8 block and the byte
lengths), so that an encoder gathers bytes instead of converting Python strings one by one.
This measures what that would save, on the same rows, the string fields' pieces built:

- `as today`: from the object columns (serde's own string pieces, Avro and JSON);
- `dictionary, city`: the city column gathered from its dictionary (the only one of the five
  kinds that is a plain pool draw: e-mail and name are joined from several pools, phone and
  street address get fresh digits), the others as today: the gain this record could see;
- `strings for free`: every string field's bytes ready before the clock starts: the ceiling
  of any way of holding strings (what is left is assembling the records).

Then the same assembly into one buffer and per-record bytes as the encoders (serde.pieces), the
output checked byte for byte against the encoders. Rates are records per second of the process's
own CPU time (other helpers' load on the shared machine does not count), min / median / max over
interleaved rounds, and the median of the per-round ratios to the `--schema` record.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping

import attrs
import numpy as np

from connector.model.avro import LoadedSchema
from connector.serde import jsonenc
from connector.serde import pieces as P
from connector.serde.encoder import EncodedBatch
from connector.serde.formats import Format
from connector.serde.values import ValueEncoder, value_encoder


@attrs.frozen
class Dictionary:
    """A string column as indices into its distinct values, pre-encoded as a padded block."""

    block: P.U8  # (distinct, width) UTF-8, zero-padded
    lens: P.I64  # byte length of each distinct value
    index: P.I64  # per row

    @classmethod
    def of(cls, values: np.ndarray) -> Dictionary:
        distinct, index = np.unique(values, return_inverse=True)
        flat, lens = P.utf8_join(distinct.tolist())
        block = P.ragged_piece(flat, lens).block
        assert block is not None
        return cls(block, lens, index.astype(np.int64))

    def body(self) -> P.Piece:
        return P.Piece(int(self.index.shape[0]), block=np.take(self.block, self.index, axis=0),
                       lens=self.lens[self.index])


# A string field's body: gathered from a dictionary when timed, or ready (the ceiling).
Body = Dictionary | P.Piece


def _body(source: Body) -> P.Piece:
    return source if isinstance(source, P.Piece) else source.body()


def _pieces(fmt: Format, schema: LoadedSchema, cols: Mapping[str, np.ndarray],
            dicts: Mapping[str, Body], n: int) -> list[P.Piece]:
    """The record's pieces as the encoders build them for flat string and long fields."""
    out: list[P.Piece] = []
    for i, f in enumerate(schema.fields):
        col = cols[f.name]
        if fmt is Format.JSON:
            out.append(P.constant((b"{" if i == 0 else b",") + b'"%s":' % f.name.encode(), n))
        if col.dtype != object:
            out += P.decimal_pieces(col) if fmt is Format.JSON else [P.long_piece(col)]
        elif f.name not in dicts:
            out += jsonenc.string_pieces(col) if fmt is Format.JSON else P.string_pieces(col)
        elif fmt is Format.JSON:  # plain ASCII here (the output is checked)
            quote = P.constant(b'"', n)
            out += [quote, _body(dicts[f.name]), quote]
        else:
            body = _body(dicts[f.name])
            assert body.lens is not None
            out += [P.long_piece(body.lens), body]
    if fmt is Format.JSON:
        out.append(P.constant(b"}", n))
    return out


def _encode(fmt: Format, schema: LoadedSchema, cols: Mapping[str, np.ndarray],
            dicts: Mapping[str, Body], n: int) -> tuple[bytes, ...]:
    buffer, offsets = P.assemble(_pieces(fmt, schema, cols, dicts, n), n)
    return EncodedBatch(buffer.tobytes(), offsets).values()


def _plain(encoder: ValueEncoder, cols: Mapping[str, np.ndarray], n: int) -> tuple[bytes, ...]:
    return encoder.encode(cols, n).values()


def _cpu_rate(n: int, fn: Callable[..., object], *args: object) -> float:
    """Records per second of this thread's CPU time for fn(*args)."""
    started = time.thread_time()
    fn(*args)
    return n / (time.thread_time() - started)


def print_dictionary(flat: LoadedSchema, flat_cols: Mapping[str, np.ndarray],
                     schema: LoadedSchema, cols: Mapping[str, np.ndarray], n: int,
                     rounds: int) -> None:
    """The three variants in Avro and JSON (unframed), each against the flat record."""
    strings = [f.name for f in schema.fields if cols[f.name].dtype == object]
    ready: dict[str, Body] = {k: Dictionary.of(cols[k]).body() for k in strings}
    variants: dict[str, dict[str, Body]] = {
        "as today": {}, "dictionary, city": {"city": Dictionary.of(cols["city"])},
        "strings for free": ready}
    for fmt in (Format.AVRO, Format.JSON):
        reference = value_encoder(fmt, schema, None).encode(cols, n).values()
        for dicts in variants.values():
            assert _encode(fmt, schema, cols, dicts, n) == reference, f"{fmt.value} differs"
        base = value_encoder(fmt, flat, None)
        base_size = sum(map(len, base.encode(flat_cols, n).values())) / n
        size = sum(map(len, reference)) / n
        rates: dict[str, list[float]] = {"flat": [], **{k: [] for k in variants}}
        for _ in range(rounds):
            rates["flat"].append(_cpu_rate(n, _plain, base, flat_cols, n))
            for label, dicts in variants.items():
                rates[label].append(_cpu_rate(n, _encode, fmt, schema, cols, dicts, n))
        print(f"{fmt.value}, {n} records with 5 fake() strings ({size:.0f} B) against the flat "
              f"{flat.name} record ({base_size:.0f} B), CPU time, {rounds} rounds (k rec/s "
              "min / median / max; median ratio to flat in records/s and bytes/s):")
        for label, values in rates.items():
            ratio = statistics.median(r / b for r, b in zip(values, rates["flat"], strict=True))
            scale = 1.0 if label == "flat" else size / base_size
            print(f"  {label:<17} {min(values) / 1e3:6.0f} / {statistics.median(values) / 1e3:6.0f}"
                  f" / {max(values) / 1e3:6.0f}   {ratio:5.2f}x records/s  "
                  f"{ratio * scale:5.2f}x bytes/s")
