"""What a task counts for the worker's /metrics, and how it travels.

The runner keeps cumulative counts (`Tally`) on its own thread at no per-event cost: a few
additions per tick and per commit. The task's progress thread sends, with each report it
already sends, the difference since its previous report (`TaskCounters`); the worker adds these
up (metrics.py), so a task process that restarts never makes a counter go backwards. Records
count once their transaction is durable (the runner's commit is asynchronous: a transaction is
durable when the next commit or the final flush returns), so after a finished run the records
per topic equal what a read_committed consumer reads.
"""

from __future__ import annotations

import bisect
from collections import Counter

import attrs

# Upper bounds of the histogram buckets (the last one, +Inf, is implied).
COMMIT_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
TRANSACTION_RECORDS = (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)


@attrs.define
class Histogram:
    """Cumulative observations per bucket (not cumulative across buckets), their sum."""

    bounds: tuple[float, ...]
    counts: list[int] = attrs.field()
    total: float = 0.0

    @counts.default
    def _zeros(self) -> list[int]:
        return [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value

    def minus(self, earlier: Histogram) -> Histogram:
        return Histogram(self.bounds, [a - b for a, b in zip(self.counts, earlier.counts,
                                                             strict=True)],
                         self.total - earlier.total)

    def add(self, other: Histogram) -> None:
        for i, n in enumerate(other.counts):
            self.counts[i] += n
        self.total += other.total

    def copy(self) -> Histogram:
        return Histogram(self.bounds, list(self.counts), self.total)


@attrs.define
class Tally:
    """The runner's cumulative counts of durable output, and of its own work."""

    records: Counter[str] = attrs.Factory(Counter)  # per model topic, committed transactions
    ticks: int = 0  # committed
    transactions: int = 0  # committed
    aborts: int = 0
    commit_seconds: Histogram = attrs.Factory(lambda: Histogram(COMMIT_SECONDS))
    transaction_records: Histogram = attrs.Factory(lambda: Histogram(TRANSACTION_RECORDS))
    step_seconds: float = 0.0
    encode_seconds: float = 0.0
    # the transaction being built, and the one being committed in the background
    _open: Counter[str] = attrs.Factory(Counter)
    _open_ticks: int = 0
    _in_flight: Counter[str] | None = None
    _in_flight_ticks: int = 0

    @property
    def open(self) -> bool:
        """Whether a transaction is open or committing (a kill now aborts it)."""
        return self._open_ticks > 0 or self._in_flight is not None

    def staged(self, topic: str, count: int) -> None:
        self._open[topic] += count

    def tick_done(self) -> None:
        self._open_ticks += 1

    def committing(self, seconds: float) -> None:
        """A commit call returned: the previous transaction is durable, this one in flight."""
        self.durable()
        self.commit_seconds.observe(seconds)
        self._in_flight, self._in_flight_ticks = self._open, self._open_ticks
        self._open, self._open_ticks = Counter(), 0

    def durable(self) -> None:
        """The transaction in flight is committed (flush returned)."""
        if self._in_flight is not None:
            self.records.update(self._in_flight)
            self.ticks += self._in_flight_ticks
            self.transactions += 1
            self.transaction_records.observe(sum(self._in_flight.values()))
        self._in_flight, self._in_flight_ticks = None, 0

    def aborted(self) -> None:
        """The open and in-flight transactions are gone; the runner produces them again."""
        self.aborts += 1
        self._open, self._open_ticks = Counter(), 0
        self._in_flight, self._in_flight_ticks = None, 0


@attrs.frozen
class TaskCounters:
    """The change of a task's counts since its previous report, plus its gauges."""

    records: dict[str, int]  # Kafka topic -> records
    ticks: int = 0
    transactions: int = 0
    aborts: int = 0
    registry_retries: int = 0
    commit_seconds: Histogram | None = None
    transaction_records: Histogram | None = None
    step_seconds: float = 0.0
    encode_seconds: float = 0.0
    users: int | None = None  # gauge: users in the task's shards
    open_transaction: bool = False  # gauge: a transaction was open (a kill aborts it)


@attrs.define
class Sums:
    """The counts a task's reports add up to (sent last, on the task's side; received in all,
    on the worker's)."""

    ticks: int = 0
    transactions: int = 0
    aborts: int = 0
    registry_retries: int = 0
    commit_seconds: Histogram = attrs.Factory(lambda: Histogram(COMMIT_SECONDS))
    transaction_records: Histogram = attrs.Factory(lambda: Histogram(TRANSACTION_RECORDS))
    step_seconds: float = 0.0
    encode_seconds: float = 0.0


@attrs.define
class TallySnapshot(Sums):
    """What the progress thread sent last, to send differences."""

    records: dict[str, int] = attrs.Factory(dict)

    def delta(self, tally: Tally, topics: dict[str, str], registry_retries: int,
              users: int | None, open_transaction: bool) -> TaskCounters:
        """The counters since the last call (read from the runner's thread's tally: each field
        is read once, and a count can only grow, so a racing update shows up next time)."""
        records = {topics.get(t, t): n for t, n in list(tally.records.items())}
        commit, size = tally.commit_seconds.copy(), tally.transaction_records.copy()
        out = TaskCounters(
            {t: n - self.records.get(t, 0) for t, n in records.items()
             if n != self.records.get(t, 0)},
            tally.ticks - self.ticks, tally.transactions - self.transactions,
            tally.aborts - self.aborts, registry_retries - self.registry_retries,
            commit.minus(self.commit_seconds), size.minus(self.transaction_records),
            tally.step_seconds - self.step_seconds,
            tally.encode_seconds - self.encode_seconds, users, open_transaction)
        self.records, self.ticks, self.transactions = records, tally.ticks, tally.transactions
        self.aborts, self.registry_retries = tally.aborts, registry_retries
        self.commit_seconds, self.transaction_records = commit, size
        self.step_seconds, self.encode_seconds = tally.step_seconds, tally.encode_seconds
        return out
