"""What the DOGE-compat tests share: the seed script run with fixed seeds, the Avro key schema."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from bench.doge_seed import build

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
KEY_SCHEMA = '{"type": "record", "name": "Key", "fields": [{"name": "key", "type": "string"}]}'


def run_seed(sinks: dict[str, Any], users: int, ticks: int, seed: int) -> None:
    """The seed script with these sinks; `seed` fixes both the callbacks' `random` and the
    engine, so two runs with the same seed give the same records."""
    random.seed(seed)
    datagen = build(sinks["clickstream"], sinks["trx"], sinks["balance"], sinks["loan"],
                    subjects=users, ticks=ticks)
    datagen.seed = seed + 1
    datagen.start()


def value_schema(topic: str) -> str:
    return (SCHEMAS / f"{topic}.avsc").read_text()
