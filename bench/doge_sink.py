"""DOGE 1.0.4 end to end into Kafka: the seed's banking script with DOGE's own KafkaAvroSinkFactory
sinks (AvroSerializer keys and values on the registry), stepped by DOGE's own loop. Run by
bench/kafka.py with DOGE's virtualenv's Python (bench/doge_compat.py installs it), printing one
JSON line: events sent and the seconds from the first timed tick to the final flush.

    DOGE_IMPL=doge_datagen .cache/doge-datagen-venv/bin/python bench/doge_sink.py \\
        BOOTSTRAP REGISTRY TOPIC_PREFIX USERS TICKS
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.doge_seed import (
    balance_value,
    build,
    clickstream_value,
    doge,
    key_function,
    loan_value,
    trx_value,
)

VALUES = {"clickstream": clickstream_value, "trx": trx_value, "balance": balance_value,
          "loan": loan_value}


def main() -> None:
    bootstrap, registry, topic_prefix = sys.argv[1:4]
    users, ticks = int(float(sys.argv[4])), int(sys.argv[5])
    factory = doge.KafkaAvroSinkFactory([bootstrap], registry, "doge-bench")
    key_schema = (ROOT / "schemas/doge_key.avsc").read_text()
    sinks: dict[str, Any] = {
        name: factory.create(topic_prefix + name, key_function, key_schema, value,
                             (ROOT / f"schemas/{name}.avsc").read_text())
        for name, value in VALUES.items()}
    sent = [0]
    producer = factory.factory.producer
    real_produce = producer.produce

    def counting(*args: Any, **kwargs: Any) -> None:  # counts what the sinks send
        sent[0] += 1
        real_produce(*args, **kwargs)

    for sink in sinks.values():
        sink.producer = _Counting(producer, counting)
    gen = build(sinks["clickstream"], sinks["trx"], sinks["balance"], sinks["loan"],
                subjects=users, ticks=ticks)
    # start() minus its logging: create the subjects, add the "stay" transitions, then tick.
    gen._DataOnlineGenerator__generate_subjects()
    gen._DataOnlineGenerator__add_stay_transitions()
    step = gen._DataOnlineGenerator__tick
    step()  # warm up: registers the schemas, connects
    producer.flush()
    before = sent[0]
    started = time.perf_counter()
    for _ in range(ticks):
        step()
    producer.flush()
    elapsed = time.perf_counter() - started
    print(json.dumps({"events": sent[0] - before, "seconds": elapsed}))


class _Counting:
    """The sinks' producer with its produce() counted (DOGE's own code is left as it is)."""

    def __init__(self, producer: Any, produce: Any) -> None:
        self._producer, self.produce = producer, produce

    def flush(self, *args: Any) -> Any:
        return self._producer.flush(*args)


if __name__ == "__main__":
    main()
