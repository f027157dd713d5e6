"""Rows of several shards taken through one transition together, as one set of columns.

Stepping the shards of a task one transition at a time over all of them (instead of one shard at
a time) pays the per-transition Python cost once per task rather than once per shard. The output
must not change: each shard's slice of every random draw comes from that shard's own stream, and
results are split back per shard, so a shard's events are the same whatever it is grouped with.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from connector.engine import native, rng

if TYPE_CHECKING:
    from connector.engine.shard import ShardEngine


class ShardRows:
    """`rows[k]` of `engines[k]`, concatenated in that order; slice k of a column is shard k's."""

    def __init__(self, engines: Sequence[ShardEngine], rows: Sequence[np.ndarray]) -> None:
        self.engines = engines
        self.rows = rows
        self.bounds: list[int] = list(accumulate((r.shape[0] for r in rows), initial=0))
        self.size: int = self.bounds[-1]
        self._user_ids: np.ndarray | None = None

    def concat(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def gather(self, name: str) -> np.ndarray:
        """The named column of these rows: an attribute, state, user_id, user_key (the id as a
        string) or session_id (None where no session is open)."""
        if name == "user_id":
            return self.user_ids()
        if name == "user_key":
            return np.array([str(u) for u in self.user_ids().tolist()], dtype=object)
        if name == "session_id":
            return session_ids(self.user_ids(), self._each(lambda e, r: e.open_sessions(r)))
        if name in ("from_state", "to_state"):
            # Before the transition writes (vars, condition, updates) both are the state it
            # leaves (to_state only for `to: self`); apply_transition sets them for emits.
            name = "state"
        return self._each(lambda e, r: e.column(name, r))

    def _each(self, column: Callable[[ShardEngine, np.ndarray], np.ndarray]) -> np.ndarray:
        return self.concat([column(e, r) for e, r in zip(self.engines, self.rows, strict=True)])

    def user_ids(self) -> np.ndarray:
        if self._user_ids is None:
            if len(self.engines) == 1:
                shard: int | np.ndarray = self.engines[0].shard
            else:  # one column op for all the shards rather than one per shard
                shard = np.repeat(np.array([e.shard for e in self.engines], dtype=np.int64),
                                  [r.shape[0] for r in self.rows])
            shards = self.engines[0].settings.shards if self.engines else 1
            self._user_ids = user_ids_of(shard, shards, self.concat(self.rows) if self.rows
                                         else np.zeros(0, dtype=np.intp))
        return self._user_ids

    def split(self, column: np.ndarray) -> list[np.ndarray]:
        """Shard k's part of a column of these rows (views, no copies)."""
        if len(self.rows) == 1:
            return [column]
        b = self.bounds
        return [column[b[k]:b[k + 1]] for k in range(len(self.rows))]

    def scatter(self, write: Callable[[ShardEngine, np.ndarray, slice], None]) -> None:
        """Call `write(engine, rows, part)` for each shard, `part` slicing its values."""
        b = self.bounds
        for k, (engine, rows) in enumerate(zip(self.engines, self.rows, strict=True)):
            write(engine, rows, slice(b[k], b[k + 1]))

    def keep(self, mask: np.ndarray) -> ShardRows:
        """The rows where `mask` holds; shards left with none are dropped."""
        engines, rows = [], []
        for k, part in enumerate(self.split(mask)):
            kept = self.rows[k][part]
            if kept.size:
                engines.append(self.engines[k])
                rows.append(kept)
        return ShardRows(engines, rows)

    def sequence(self, name: str, size: int, bounds: Sequence[int] | None = None
                 ) -> np.ndarray:
        """The next numbers of sequence `name`, each shard's rows from its own counter (with
        `bounds`, shard k's share of the `size` numbers is bounds[k]:bounds[k+1])."""
        if bounds is None and size != self.size:
            raise ValueError(f"sequence {name!r}: {size} numbers asked for {self.size} rows")
        b = bounds or self.bounds
        return self.concat([e.take_sequence(name, b[k + 1] - b[k])
                            for k, e in enumerate(self.engines)])

    def stream(self, purpose: int, tick: int, site: int = 0,
               bounds: Sequence[int] | None = None) -> np.random.Generator:
        """The generator of (purpose, tick, site): one shard's own, or one drawing each shard's
        slice from that shard's stream. `bounds` splits draws of another size than these rows
        by shard (the items of arrays these rows emit: shard k's are bounds[k]:bounds[k+1])."""
        gens = [rng.stream(e.settings.seed, e.shard, purpose, tick, site) for e in self.engines]
        if len(gens) == 1:
            return gens[0]
        # Stands in for a Generator for the draws the builtin random functions make.
        return cast(np.random.Generator, SegmentedGenerator(gens, bounds or self.bounds))


def user_ids_of(shard: int | np.ndarray, shards: int, rows: np.ndarray) -> np.ndarray:
    """The ids of rows of `shard` (of each row's shard, given an array): shard + shards * row."""
    ids: np.ndarray = rows.astype(np.int64) * shards
    ids += shard
    return ids


def session_ids(user_ids: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """`"<user>-<n>"` per row, None where the session number is 0 (no session)."""
    out = np.full(user_ids.shape[0], None, dtype=object)
    has = numbers > 0
    if has.any():
        text = np.char.add(np.char.add(user_ids[has].astype(str), "-"), numbers[has].astype(str))
        out[has] = text.astype(object)
    return out


class SegmentedGenerator:
    """The Generator methods the engine's random draws use, each shard's slice of the `size`
    values drawn from its own generator with its own slice of any per-row parameter."""

    def __init__(self, gens: Sequence[np.random.Generator], bounds: Sequence[int]) -> None:
        self._gens = gens
        self._bounds = bounds

    def _draw(self, size: int, draw: Callable[..., np.ndarray], *params: Any,
              **kwargs: Any) -> np.ndarray:
        if size != self._bounds[-1]:
            raise ValueError(f"a draw of {size} values over {self._bounds[-1]} rows")
        b = self._bounds
        parts = []
        for k, gen in enumerate(self._gens):
            lo, hi = b[k], b[k + 1]
            sliced = [p[lo:hi] if isinstance(p, np.ndarray) and p.ndim == 1 else p for p in params]
            parts.append(draw(gen, *sliced, size=hi - lo, **kwargs))
        return np.concatenate(parts)

    def random(self, size: int) -> np.ndarray:
        return self._draw(size, np.random.Generator.random)

    def standard_normal(self, size: int) -> np.ndarray:
        return self._draw(size, np.random.Generator.standard_normal)

    def standard_exponential(self, size: int) -> np.ndarray:
        return self._draw(size, np.random.Generator.standard_exponential)

    def integers(self, low: Any, high: Any, size: int, dtype: Any = np.int64,
                 endpoint: bool = False) -> np.ndarray:
        bounded = _native_bounded()
        if bounded is not None and size == self._bounds[-1] and np.ndim(low) == 0 and \
                np.ndim(high) == 0 and np.dtype(dtype) == np.int64:
            # numpy's scalar path: integers in [low, high] (high - 1 unless endpoint)
            lo, hi = int(low), int(high) - (0 if endpoint else 1)
            if _INT64_MIN <= lo <= hi <= _INT64_MAX:
                return bounded([g.bit_generator.capsule for g in self._gens], list(self._bounds),
                               lo, hi - lo)
        return self._draw(size, np.random.Generator.integers, low, high, dtype=dtype,
                          endpoint=endpoint)

    def poisson(self, lam: Any, size: int) -> np.ndarray:
        return self._draw(size, np.random.Generator.poisson, lam)


_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


@functools.cache
def _native_bounded() -> Callable[..., np.ndarray] | None:
    """_draws.bounded if it is built and draws what each shard's Generator.integers draws."""
    module = native.draws_module()
    if module is None:
        return None
    bounded: Callable[..., np.ndarray] = module.bounded
    for case, (lo, hi, sizes) in enumerate([(0, 99, [3, 0, 50]), (-5, 5, [0, 0, 1]),
                                            (10, 10, [4, 2]), (0, (1 << 32) - 1, [9, 9]),
                                            (0, 1 << 40, [7, 1]), (_INT64_MIN, _INT64_MAX, [5]),
                                            (100, 1000, [1000, 1, 333])]):
        want_gens = [rng.stream(case, k, 1, case) for k in range(len(sizes))]
        got_gens = [rng.stream(case, k, 1, case) for k in range(len(sizes))]
        want = np.concatenate([g.integers(lo, hi, size=n, dtype=np.int64, endpoint=True)
                               for g, n in zip(want_gens, sizes, strict=True)])
        got = bounded([g.bit_generator.capsule for g in got_gens],
                      list(accumulate(sizes, initial=0)), lo, hi - lo)
        after = [(a.integers(0, 1 << 40), b.integers(0, 1 << 40))
                 for a, b in zip(want_gens, got_gens, strict=True)]
        if not np.array_equal(want, got) or got.dtype != np.int64 or \
                any(a != b for a, b in after):
            native.disagrees("bounded integers")
            return None
    return bounded
