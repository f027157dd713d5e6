"""The loop every task runs: resume, replay silently, then step -> write -> commit per boundary.

It is the same for the local destination and Kafka; only the destination differs. Shards may
resume at different ticks (after `tasks.max` changed, they come from tasks that stopped at
different points): lagging shards catch up first, then all advance in lock-step.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import attrs
import structlog

from connector.core.batch import TickBatch
from connector.destinations.base import Destination, ShardCheckpoint
from connector.engine.identity import run_fingerprint
from connector.engine.shard import ShardEngine, step_shards
from connector.errors import Problem, UserError
from connector.kafka.errors import TransactionAborted
from connector.model.limits import END_OF_CALENDAR, MAX_TIME_MS
from connector.model.sizing import population_problem
from connector.runtime.config import Boundary, resolve_start_ms
from connector.runtime.pacing import Pacer
from connector.runtime.simulation import Simulation
from connector.runtime.task_metrics import Tally

log = structlog.get_logger(__name__)


@attrs.define
class RunStats:
    """Counts for progress, status and the final summary."""

    ticks_done: int = 0
    events: int = 0
    commits: int = 0
    aborts: int = 0
    per_topic: Counter[str] = attrs.Factory(Counter)
    per_transition: Counter[str] = attrs.Factory(Counter)  # events each transition emitted
    fired: Counter[str] = attrs.Factory(Counter)  # times each transition was taken
    lag_seconds: float = 0.0
    commit_seconds: float = 0.0
    started: float = attrs.Factory(time.monotonic)
    tally: Tally = attrs.Factory(Tally)  # durable output and timings, for /metrics

    def add(self, batch: TickBatch) -> None:
        for e in batch.events:
            n = len(e)
            self.events += n
            self.per_topic[e.topic] += n
            self.tally.staged(e.topic, n)
            self.per_transition[e.transition] += n
        for m in batch.moves:
            self.fired[m.transition] += len(m)


class Runner:
    """Drives a set of shards of one connector into one destination."""

    def __init__(self, sim: Simulation, destination: Destination, shards: list[int],
                 on_progress: Callable[[Runner], None] | None = None) -> None:
        self.sim = sim
        self.destination = destination
        self.shard_ids = shards
        self.on_progress = on_progress
        self.stats = RunStats()
        self.stopping = False
        self.engines: dict[int, ShardEngine] = {}
        self.next_tick = 0  # the lowest tick any shard still has to produce
        self.start_ms = 0
        # A paced run steps a tick while it waits for it to be due (only its writing and commit
        # follow the due time); a stop during that wait keeps the batches here for the next run.
        # A tick stepped and written before it is due: (tick, its batches)
        self._ahead: tuple[int, list[TickBatch]] | None = None

    def stop(self) -> None:
        """Ask the loop to stop after the current commit."""
        self.stopping = True

    def resume(self) -> int:
        """Restore every shard to its committed tick; returns the lowest tick to produce next."""
        committed = self.destination.committed()
        stored_start = committed.start_ms if committed is not None else None
        self.start_ms = resolve_start_ms(self.sim.config, stored_start)
        settings = self.sim.settings(self.start_ms)
        fingerprint = run_fingerprint(self.sim.model, settings)
        if committed is not None and committed.fingerprint != fingerprint:
            raise UserError(
                f"the destination already holds a run of connector '{self.sim.config.name}' with "
                "a different model, seed or settings (or one made by an earlier engine version); "
                "resuming would mix two runs. Reset its "
                "offsets (or choose a new output) to start over")
        config = self.sim.config
        too_big = population_problem(self.sim.model.spec, settings.users, tick_ms=config.tick_ms,
                                     ticks=config.ticks,
                                     share=len(self.shard_ids) / settings.shards)
        if too_big is not None:
            raise UserError([Problem(too_big, file=config.file, path="config.users")])
        self.destination.begin(fingerprint, self.start_ms)
        self.engines = {shard: self.sim.shard(settings, shard) for shard in self.shard_ids}
        self._ahead = None
        _restore(self.engines, committed.shards if committed else {})
        self.next_tick = min((e.tick for e in self.engines.values()), default=0)
        return self.next_tick

    def run(self, ticks: int | None = None) -> RunStats:
        """Produce until `ticks` (default: the connector's) is reached or `stop()` is called.

        An aborted transaction (a transient Kafka error) is recovered by resuming from the
        committed state: the same ticks are produced again, with the same bytes.
        """
        while True:
            try:
                return self._run(ticks if ticks is not None else self.sim.config.ticks)
            except TransactionAborted as exc:
                self.stats.aborts += 1
                self.stats.tally.aborted()
                log.warning("transaction aborted; resuming from committed offsets", error=str(exc))
                self.resume()

    def _run(self, total: int | None) -> RunStats:
        config = self.sim.config
        pacer = Pacer(config.pace, self.start_ms, config.tick_ms)
        pending = 0
        boundary_started = time.monotonic()
        last_snapshot = {s: e.tick for s, e in self.engines.items()}
        while (total is None or self.next_tick < total) and not self.stopping:
            tick = self.next_tick
            if self.start_ms + tick * config.tick_ms > MAX_TIME_MS:
                raise UserError([Problem(END_OF_CALENDAR, file=config.file, path="config.ticks")])
            if pending and self._idle_commit(pacer, tick):
                # Nothing to do until the tick is due: commit what is done instead of holding it.
                self._commit(last_snapshot, force_snapshot=False)
                pending, boundary_started = 0, time.monotonic()
            if not pending and self._ahead is None and pacer.due_in(tick) > 0:
                # Step and send now, commit once due: the commit of a paced tick then waits
                # only for the broker's commit (uncommitted, the events stay invisible until
                # their time). Only with nothing pending, so that a checkpoint never sees an
                # engine ahead of what is written; a stop while waiting discards them.
                self._ahead = (tick, self._step(tick))
                for batch in self._ahead[1]:
                    self.destination.write(batch)
                self.destination.send_ahead()
            self.stats.lag_seconds = pacer.wait_for(tick, lambda: self.stopping)
            if self.stopping:
                break
            written = self._ahead is not None
            batches = self._ahead[1] if self._ahead is not None else self._step(tick)
            self._ahead = None
            for batch in batches:
                if not written:
                    self.destination.write(batch)
                self.stats.add(batch)
            self.next_tick = tick + 1
            self.stats.ticks_done += 1
            self.stats.tally.tick_done()
            pending += 1
            last = total is not None and self.next_tick >= total
            if last or self._boundary(pending, boundary_started):
                self._commit(last_snapshot, force_snapshot=last)
                pending, boundary_started = 0, time.monotonic()
            if self.on_progress is not None:
                self.on_progress(self)
        if pending:
            self._commit(last_snapshot, force_snapshot=False)
        self.destination.flush()
        self.stats.tally.durable()
        return self.stats

    def _step(self, tick: int) -> list[TickBatch]:
        # Shards ahead of the others (possible after a change of tasks.max) wait for them.
        ready = [self.engines[s] for s in self.shard_ids if self.engines[s].tick == tick]
        stepped = time.monotonic()
        batches = step_shards(ready)
        self.stats.tally.step_seconds += time.monotonic() - stepped
        return batches

    def _boundary(self, pending: int, started: float) -> bool:
        config = self.sim.config
        if config.boundary is Boundary.TICKS:
            return pending >= config.boundary_ticks
        if config.boundary is Boundary.INTERVAL:
            return (time.monotonic() - started) * 1000 >= config.boundary_interval_ms
        return True

    def _idle_commit(self, pacer: Pacer, tick: int) -> bool:
        """With interval boundaries, whether the loop is about to wait for `tick` (a paced run
        commits each tick as it is due, not only once the interval has passed)."""
        return self.sim.config.boundary is Boundary.INTERVAL and pacer.due_in(tick) > 0

    def _commit(self, last_snapshot: dict[int, int], force_snapshot: bool) -> None:
        interval = self.sim.config.snapshot_interval_ticks
        checkpoints = {}
        for shard, engine in self.engines.items():
            snapshot = None
            if force_snapshot or engine.tick - last_snapshot[shard] >= interval:
                snapshot = engine.snapshot()
            checkpoints[shard] = ShardCheckpoint(engine.tick, snapshot,
                                                 engine.tick if snapshot is not None else None)
        started = time.monotonic()
        self.destination.commit(checkpoints)
        seconds = time.monotonic() - started
        self.stats.commit_seconds += seconds
        self.stats.commits += 1
        self.stats.tally.committing(seconds)
        for shard, cp in checkpoints.items():
            if cp.snapshot is not None:
                last_snapshot[shard] = cp.next_tick


def _restore(engines: dict[int, ShardEngine], checkpoints: dict[int, ShardCheckpoint]) -> None:
    """Bring each engine to its checkpoint's tick: restore its snapshot, then replay without
    output (the shards at the same tick together)."""
    targets = {}
    for shard, engine in engines.items():
        checkpoint = checkpoints.get(shard)
        if checkpoint is None:
            continue
        if checkpoint.snapshot is not None and \
                (checkpoint.snapshot_tick or 0) <= checkpoint.next_tick:
            try:
                engine.restore(checkpoint.snapshot)
            except ValueError as exc:
                raise UserError(f"the committed snapshot of shard {shard} cannot be restored "
                                f"({exc}); reset the connector's offsets (doge run: move the "
                                "output directory away) to start over") from None
        targets[shard] = checkpoint.next_tick
    while True:
        behind = [e for s, e in engines.items() if e.tick < targets.get(s, 0)]
        if not behind:
            return
        tick = min(e.tick for e in behind)
        step_shards([e for e in behind if e.tick == tick], build_events=False)


__all__ = ["RunStats", "Runner"]
