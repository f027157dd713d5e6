"""Transaction latency against the number of partitions one transaction writes to.

Why one transaction per tick is bounded by the broker: a bare transactional producer (no
simulation, no encoding) writes `--records` small records to each of P partitions, then times the
flush (delivery, including partition registration with the coordinator) and the commit (EndTxn)
separately. Printed per P, with the ratio to the 1-partition transaction of the same run.

    source .cache/infra/env   # scripts/infra.sh up
    .venv/bin/python bench/txn_latency.py [--partitions 1,6,24] [--txns 40] [--records 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from bench.kafka_setup import infra_env
from connector.kafka.topics import ensure_topics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default=infra_env().get("DOGE_TEST_BOOTSTRAP"))
    parser.add_argument("--partitions", default="1,6,24")
    parser.add_argument("--txns", type=int, default=40)
    parser.add_argument("--records", type=int, default=20, help="records per partition per txn")
    args = parser.parse_args()
    if not args.bootstrap:
        parser.error("no broker: run scripts/infra.sh up (or pass --bootstrap)")
    counts = [int(p) for p in args.partitions.split(",")]
    uid = uuid.uuid4().hex[:8]
    topic = f"bench{uid}-txn-latency"
    admin_conf = {"bootstrap.servers": args.bootstrap}
    ensure_topics(admin_conf, {topic: (max(counts), -1, {})})
    producer = Producer({"bootstrap.servers": args.bootstrap, "transactional.id": f"bench-{uid}",
                         "enable.idempotence": True, "acks": "all", "linger.ms": 5})
    producer.init_transactions(60)
    value = b"x" * 24
    results: dict[int, tuple[list[float], list[float]]] = {}
    try:
        for partitions in counts:
            flushes, commits = [], []
            for i in range(args.txns + 1):  # the first one warms up connections
                producer.begin_transaction()
                for k in range(partitions * args.records):
                    producer.produce(topic, value, str(k).encode(), k % partitions)
                t0 = time.perf_counter()
                producer.flush(60)
                t1 = time.perf_counter()
                producer.commit_transaction(60)
                if i:
                    flushes.append(t1 - t0)
                    commits.append(time.perf_counter() - t1)
            results[partitions] = (flushes, commits)
    finally:
        AdminClient(admin_conf).delete_topics([topic])
    base = statistics.median([f + c for f, c in zip(*results[counts[0]], strict=True)])
    print(f"{args.txns} transactions per row, {args.records} records per partition, p50 ms")
    print(f"{'partitions':>10} {'flush':>8} {'EndTxn':>8} {'total':>8} {'x ' + str(counts[0]):>8}")
    for partitions, (flushes, commits) in results.items():
        total = statistics.median([f + c for f, c in zip(flushes, commits, strict=True)])
        print(f"{partitions:>10} {statistics.median(flushes) * 1e3:8.2f} "
              f"{statistics.median(commits) * 1e3:8.2f} {total * 1e3:8.2f} {total / base:8.1f}")


if __name__ == "__main__":
    main()
