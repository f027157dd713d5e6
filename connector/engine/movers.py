"""Which users take a transition in a tick: work in proportion to the movers, not the users.

The semantics are DOGE's: a user in state S moves with probability total(S), the sum of S's
outgoing chances this tick, and then takes S's slot j with probability chance_j / total(S); as if
every user drew one uniform u in [0, 2**32) and compared it with the cumulative thresholds.
Drawing u for every user costs O(users) per tick. Instead, in the most populous ("dominant")
state, the movers form a Bernoulli(total) subset of the rows: it is sampled with geometric gaps
between rows (O(movers)), and each mover then draws its u uniformly below the total, which is
the distribution of u given that it moved. Users in the other states draw u directly.

The result has exactly the per-user draw's distribution. Which state is dominant changes which
numbers are drawn, so the shard keeps it as part of its state (and in its snapshots).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np

from connector.engine import native, rng
from connector.engine.plan import ONE

# From this chance of the dominant state on, drawing u for each of its users is as cheap.
_DIRECT_FROM = ONE // 4
# Counting states one comparison each beats np.bincount (which widens int8 to intp) up to here.
_COUNT_EACH_UP_TO = 16
# Row s of the cumulative thresholds is offset by s * _ROW_GAP in one sorted table (its values
# are at most ONE + 1, an empty slot's).
_ROW_GAP = ONE + 2
# Group keys (transition, shard) below this sort several times faster as uint16.
_RADIX_KEYS = 1 << 16


def pick_movers(gen: np.random.Generator, states: np.ndarray, totals: np.ndarray,
                dominant: int, ordered: bool = True, others: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """(rows that move, ascending; each one's u, with u < total of its state). Not `ordered`:
    the dominant state's movers ascending, then the other states' ascending (by_transition
    orders them). `others`: the rows not in the dominant state, ascending, if known."""
    total = int(totals[dominant])
    if others is None:
        others = np.flatnonzero(states != dominant)
    if total >= _DIRECT_FROM:
        rows = np.flatnonzero(states == dominant)
        draws = rng.uniform_u32(gen, rows.shape[0]).astype(np.int64)
        moving = draws < total
        rows, draws = _with_others(gen, states, totals, rows[moving], draws[moving], others)
    elif (native_pick := _native_pick()) is not None and _fits_native(states, totals, others):
        rows, draws = native_pick(gen.bit_generator.capsule, states, dominant, total, others,
                                  totals, _chunk(states.shape[0], total / ONE))
    else:
        rows, draws = _numpy_pick(gen, states, totals, dominant, total, others)
    if ordered and rows.shape[0] > 1:
        order = np.argsort(rows, kind="stable")
        rows, draws = rows[order], draws[order]
    return rows, draws


def _numpy_pick(gen: np.random.Generator, states: np.ndarray, totals: np.ndarray,
                dominant: int, total: int, others: np.ndarray, chunk: int | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """The movers when the dominant state moves rarely (below _DIRECT_FROM): its movers by
    geometric gaps, then the other states' (what _draws.pick does in one C call)."""
    rows = _bernoulli_rows(gen, states.shape[0], total / ONE, chunk)
    rows = rows[states[rows] == dominant]
    draws = gen.integers(0, max(total, 1), size=rows.shape[0], dtype=np.int64)
    return _with_others(gen, states, totals, rows, draws, others)


def _with_others(gen: np.random.Generator, states: np.ndarray, totals: np.ndarray,
                 rows: np.ndarray, draws: np.ndarray, others: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Add the movers among `others`, each drawing u directly."""
    if others.size:
        other_draws = rng.uniform_u32(gen, others.shape[0]).astype(np.int64)
        moving = other_draws < totals[states[others]]
        if moving.any():
            rows = np.concatenate((rows, others[moving]))
            draws = np.concatenate((draws, other_draws[moving]))
    return rows, draws


def _fits_native(states: np.ndarray, totals: np.ndarray, others: np.ndarray) -> bool:
    """Whether _draws.pick reads these arrays (it refuses others, e.g. uint64 states)."""
    return (states.dtype.kind in "iu" and states.dtype.itemsize in (1, 2, 4) and
            states.flags.c_contiguous and
            totals.dtype == np.int64 and totals.flags.c_contiguous and
            others.dtype == np.intp and others.flags.c_contiguous)


@functools.cache
def _native_pick() -> Callable[..., tuple[np.ndarray, np.ndarray]] | None:
    """_draws.pick if it is built and picks what _numpy_pick picks, else None."""
    module = native.draws_module()
    if module is None:
        return None
    pick: Callable[..., tuple[np.ndarray, np.ndarray]] = module.pick
    check = np.random.Generator(np.random.SFC64(20_240_101))
    for case in range(40):
        n = int(check.choice([0, 1, 7, 300, 5000, 40_000]))
        states = check.integers(0, 3, size=n).astype(np.int8 if case % 2 else np.int16)
        totals = check.integers(0, ONE // 4, size=3, dtype=np.int64)
        totals[int(check.integers(0, 3))] = int(check.choice([0, 1, 4_000, ONE // 5]))
        dominant = int(check.integers(0, 3))
        total = int(totals[dominant])
        others = np.flatnonzero(states != dominant)
        want_gen, got_gen = rng.stream(case, 1, 0, case), rng.stream(case, 1, 0, case)
        chunk = int(check.choice([1, 3, _chunk(n, total / ONE)]))
        want = _numpy_pick(want_gen, states, totals, dominant, total, others, chunk)
        got = pick(got_gen.bit_generator.capsule, states, dominant, total, others, totals, chunk)
        if not (np.array_equal(want[0], got[0]) and np.array_equal(want[1], got[1]) and
                got[0].dtype == want[0].dtype and got[1].dtype == want[1].dtype and
                want_gen.integers(0, 1 << 40) == got_gen.integers(0, 1 << 40)):
            native.disagrees("mover sampling")
            return None
    return pick


def most_populous(states: np.ndarray, count: int) -> int:
    """The state (of `count`) with the most rows, the lowest of those tied."""
    if count > _COUNT_EACH_UP_TO:
        return int(np.argmax(np.bincount(states, minlength=count)))
    return int(np.argmax([np.count_nonzero(states == s) for s in range(count)]))


def by_transition(cum: np.ndarray, slot_transition: np.ndarray,
                  picked: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]
                  ) -> list[tuple[int, list[tuple[int, np.ndarray]]]]:
    """The transition each mover takes, for the movers of several shards at once (their per-call
    numpy cost paid once, not per shard). `picked[k]` is shard k's (distinct rows in any order,
    their states, draws); the answer is, by ascending transition index, (index, [(k, rows of
    shard k)]) with k and rows ascending.

    A mover in state s with draw u takes slot j = #{j: cum[s, j] <= u} (u < total(s), so j is
    a real slot). All rows' thresholds, row s offset by s * _ROW_GAP, form one sorted table in
    which one searchsorted finds s * width + j, the flat index of (s, j)."""
    sizes = [rows.shape[0] for rows, _, _ in picked]
    if not sum(sizes):
        return []
    rows = np.concatenate([r for r, _, _ in picked])
    states = np.concatenate([s for _, s, _ in picked]).astype(np.int64)
    draws = np.concatenate([d for _, _, d in picked])
    table = (cum + np.arange(cum.shape[0], dtype=np.int64)[:, None] * _ROW_GAP).ravel()
    chosen = slot_transition.ravel()[np.searchsorted(table, states * _ROW_GAP + draws,
                                                     side="right")]
    shards = len(picked)
    key = chosen.astype(np.int64) * shards + np.repeat(np.arange(shards), sizes)
    if (int(slot_transition.max()) + 1) * shards <= _RADIX_KEYS:
        key = key.astype(np.uint16)  # numpy's stable sort of 16-bit keys is a radix sort
    order = np.argsort(key, kind="stable")  # stable: rows stay ascending within a group
    key, rows = key[order], rows[order]
    same = key[1:] == key[:-1]
    starts = [0, *(np.flatnonzero(~same) + 1).tolist(), key.shape[0]]
    unordered = np.flatnonzero((rows[1:] < rows[:-1]) & same)
    if unordered.size:  # movers from several states (the dominant one and others) in a group
        for group in np.unique(np.searchsorted(starts, unordered + 1, side="right") - 1).tolist():
            rows[starts[group]:starts[group + 1]].sort()
    grouped: list[tuple[int, list[tuple[int, np.ndarray]]]] = []
    for group_key, lo, hi in zip(key[starts[:-1]].tolist(), starts, starts[1:], strict=False):
        index, k = divmod(group_key, shards)
        if not grouped or grouped[-1][0] != index:
            grouped.append((index, []))
        grouped[-1][1].append((k, rows[lo:hi]))
    return grouped


def _chunk(n: int, p: float) -> int:
    """Gaps drawn at a time: enough to pass row n in all but ~1 in 30,000 shard-ticks."""
    expected = n * p
    return int(expected + 4 * math.sqrt(expected) + 16)


def _bernoulli_rows(gen: np.random.Generator, n: int, p: float, chunk: int | None = None
                    ) -> np.ndarray:
    """Each of rows 0..n-1 independently with probability p, ascending (geometric gaps,
    `chunk` at a time: by default _chunk's)."""
    if p <= 0.0 or n == 0:
        return np.empty(0, dtype=np.intp)
    chunk = chunk or _chunk(n, p)
    found: list[np.ndarray] = []
    last = -1
    while True:
        positions = gen.geometric(p, size=chunk).cumsum()  # methods: no numpy dispatch layer
        positions += last
        if positions[-1] >= n:
            found.append(positions[:positions.searchsorted(n)])  # positions ascend
            break
        found.append(positions)
        last = int(positions[-1])
    return (found[0] if len(found) == 1 else np.concatenate(found)).astype(np.intp, copy=False)
