"""What every destination offers: the committed position to resume from, writes, atomic commits."""

from __future__ import annotations

from typing import Protocol

from connector.core.batch import TickBatch
from connector.core.checkpoint import Committed, ShardCheckpoint

__all__ = ["Committed", "Destination", "ShardCheckpoint"]


class Destination(Protocol):
    """Events and offsets of a set of shards, committed together on tick boundaries."""

    def committed(self) -> Committed | None:
        """The last committed state, or None for a run that never committed."""

    def begin(self, fingerprint: str, start_ms: int) -> None:
        """Prepare to write (after `committed`); drop anything written but not committed."""

    def write(self, batch: TickBatch) -> None:
        """Stage one tick's events of the shards stepped together, in the open transaction."""

    def send_ahead(self) -> None:
        """Nothing is written until the next tick is due: start handing what is staged to the
        destination now, still uncommitted (a paced tick's commit then waits less). A
        destination whose commit is local work may do nothing."""

    def commit(self, checkpoints: dict[int, ShardCheckpoint]) -> None:
        """Make staged events and these checkpoints durable together, or neither. It may finish
        in the background: then it is durable once `flush` or the next `commit` has returned,
        and a failure is raised there."""

    def flush(self) -> None:
        """Wait until every commit is durable; raises what failed."""

    def close(self) -> None:
        """Release files/producers; staged but uncommitted events are discarded."""
