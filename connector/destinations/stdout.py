"""JSON lines on standard output (`doge run -o -`): for a quick look or a pipe; it never resumes."""

from __future__ import annotations

import json
import sys
from typing import IO

from connector.core.batch import TickBatch
from connector.destinations.base import Committed, ShardCheckpoint
from connector.destinations.local import jsonl_lines
from connector.model.avro import LoadedSchema


class StdoutLines:
    """Each record as `{"topic", "key", "timestamp", "value"}`, printed at every commit."""

    def __init__(self, schemas: dict[str, LoadedSchema], stream: IO[str] | None = None) -> None:
        self.schemas = schemas
        self.stream = stream or sys.stdout
        self._staged: list[str] = []

    def committed(self) -> Committed | None:
        return None

    def begin(self, fingerprint: str, start_ms: int) -> None:
        self._staged.clear()

    def write(self, batch: TickBatch) -> None:
        for events in batch.events:
            if not len(events):
                continue
            values = jsonl_lines(events, self.schemas[events.topic]).decode().splitlines()
            for key, ts, value in zip(events.user_ids.tolist(), events.timestamps.tolist(), values,
                                      strict=True):
                self._staged.append(f'{{"topic":{json.dumps(events.topic)},"key":"{key}",'
                                    f'"timestamp":{ts},"value":{value}}}\n')

    def commit(self, checkpoints: dict[int, ShardCheckpoint]) -> None:
        self.stream.write("".join(self._staged))
        self.stream.flush()
        self._staged.clear()

    def flush(self) -> None:
        """Nothing to wait for: `commit` is durable when it returns."""

    def close(self) -> None:
        self._staged.clear()
