"""JSON lines on standard output (`doge run -o -`): for a quick look or a pipe; it never resumes."""

from __future__ import annotations

import json
import sys
from typing import IO

from connector.core.batch import TickBatch
from connector.core.columns import to_python
from connector.destinations.base import Committed, ShardCheckpoint
from connector.destinations.local import jsonl_lines
from connector.model.avro import LoadedSchema
from connector.serde.jsonenc import json_text


class StdoutLines:
    """Each record as `{"topic", "key", "timestamp", "value"}` (and `"headers"` when the topic
    has some), printed at every commit."""

    def __init__(self, schemas: dict[str, LoadedSchema], stream: IO[str] | None = None) -> None:
        self.schemas = schemas
        self.stream = stream or sys.stdout
        self._staged: list[str] = []

    def committed(self) -> Committed | None:
        return None

    def begin(self, fingerprint: str, start_ms: int) -> None:
        self._staged.clear()

    def write(self, batch: TickBatch) -> None:
        # Shard by shard (the committed order, connector/core/staged.py), topics interleaved.
        for events in (e for shard in batch.shards for e in batch.of_shard(shard).events):
            values = jsonl_lines(events, self.schemas[events.topic]).decode().splitlines()
            # The key as JSON: the user id as a string by default, else the key column's value.
            keys = ([json.dumps(str(u)) for u in events.user_ids.tolist()] if events.keys is None
                    else [json_text(k) for k in to_python(events.keys)])
            headers = [""] * len(events)
            if events.headers:
                names = [name for name, _ in events.headers]
                columns = [column.tolist() for _, column in events.headers]
                headers = [',"headers":' + json_text(dict(zip(names, row, strict=True)))
                           for row in zip(*columns, strict=True)]
            topic = json.dumps(events.topic)
            for key, ts, value, extra in zip(keys, events.timestamps.tolist(), values, headers,
                                             strict=True):
                self._staged.append(f'{{"topic":{topic},"key":{key},"timestamp":{ts},'
                                    f'"value":{value}{extra}}}\n')

    def send_ahead(self) -> None:
        """The commit prints: nothing to send ahead."""

    def commit(self, checkpoints: dict[int, ShardCheckpoint]) -> None:
        self.stream.write("".join(self._staged))
        self.stream.flush()
        self._staged.clear()

    def flush(self) -> None:
        """Nothing to wait for: `commit` is durable when it returns."""

    def close(self) -> None:
        self._staged.clear()
