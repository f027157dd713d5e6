"""DOGE 1.0.4's own stepping loop over the seed script: run by bench/doge_compat.py with DOGE's
virtualenv's Python (which has no doge-connect), printing one JSON line.

    DOGE_IMPL=doge_datagen .cache/doge-datagen-venv/bin/python bench/doge_loop.py USERS TICKS
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.doge_seed import build, collecting_sinks


def main() -> None:
    users, ticks = int(float(sys.argv[1])), int(sys.argv[2])
    sinks = collecting_sinks()
    gen = build(sinks["clickstream"], sinks["trx"], sinks["balance"], sinks["loan"],
                subjects=users, ticks=ticks)
    # start() minus its logging: create the subjects, add the "stay" transitions, then tick.
    gen._DataOnlineGenerator__generate_subjects()
    gen._DataOnlineGenerator__add_stay_transitions()
    step = gen._DataOnlineGenerator__tick
    step()  # warm up
    started = time.perf_counter()
    for _ in range(ticks):
        step()
    elapsed = time.perf_counter() - started
    events = sum(len(s.rows) for s in sinks.values())
    print(json.dumps({"user_ticks_per_s": users * ticks / elapsed,
                      "events_per_tick": events / (ticks + 1)}))


if __name__ == "__main__":
    main()
