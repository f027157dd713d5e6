"""Create the topics a connector and a worker need, with the right cleanup policies."""

from __future__ import annotations

import time
from typing import Any

import structlog
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from connector.errors import InfrastructureError
from connector.logging import last_kafka_line

log = structlog.get_logger(__name__)
COMPACT = {"cleanup.policy": "compact"}
TopicWanted = dict[str, tuple[int, int, dict[str, str]]]  # name -> partitions, replication, configs
_SETTLE_POLL_S = 0.1  # between metadata requests while a new topic settles


def ensure_topics(admin_conf: dict[str, Any], wanted: TopicWanted, timeout_s: float = 30.0,
                  reach_timeout_s: float | None = None) -> dict[str, int]:
    """Create missing topics (name -> partitions, replication, configs); name -> partitions.
    Kafka must answer within `reach_timeout_s` (default: timeout_s), else one clear error."""
    admin = AdminClient(admin_conf)
    wait_s = timeout_s if reach_timeout_s is None else reach_timeout_s
    try:
        existing = admin.list_topics(timeout=wait_s).topics
    except KafkaException as exc:
        cause = exc.args[0].str() if exc.args else str(exc)
        last = last_kafka_line()
        raise InfrastructureError(
            f"cannot reach Kafka at {admin_conf.get('bootstrap.servers')} within {wait_s:g} s "
            f"({cause}{'; librdkafka: ' + last if last else ''}): check bootstrap.servers and "
            "that the brokers are up") from None
    missing = [NewTopic(name, num_partitions=p, replication_factor=r, config=c)
               for name, (p, r, c) in wanted.items() if name not in existing]
    if missing:
        for name, future in admin.create_topics(missing, request_timeout=timeout_s).items():
            try:
                future.result()
                log.info("created topic", topic=name)
            except KafkaException as exc:
                err = exc.args[0]
                if err.name() != "TOPIC_ALREADY_EXISTS":
                    raise InfrastructureError(f"cannot create topic {name}: {err.str()}") from None
    return _visible(admin, list(wanted), timeout_s)


def _visible(admin: AdminClient, names: list[str], timeout_s: float) -> dict[str, int]:
    """name -> partitions once every topic of `names` shows in the metadata with all its
    partitions led. A topic created moments ago (by us, or by whoever made it just before) can
    be missing from a broker's metadata for a while, or listed without leaders; a caller that
    then produced to it would partition by a wrong count or fail. InfrastructureError if one is
    still not there after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        metadata = admin.list_topics(timeout=timeout_s).topics
        ready = {name: len(metadata[name].partitions) for name in names
                 if name in metadata and metadata[name].error is None and
                 metadata[name].partitions and
                 all(p.leader >= 0 for p in metadata[name].partitions.values())}
        if len(ready) == len(names):
            return ready
        if time.monotonic() > deadline:
            late = sorted(set(names) - set(ready))
            raise InfrastructureError(
                f"topics {late} are not available with a leader for every partition after "
                f"{timeout_s:g} s: check the brokers' health") from None
        time.sleep(_SETTLE_POLL_S)


def cluster_id(admin_conf: dict[str, Any], timeout_s: float = 30.0) -> str | None:
    """The Kafka cluster's id (shown by `GET /` of the REST API)."""
    cid = AdminClient(admin_conf).list_topics(timeout=timeout_s).cluster_id
    return str(cid) if cid else None


def partition_counts(admin_conf: dict[str, Any], topics: list[str],
                     timeout_s: float = 30.0) -> dict[str, int]:
    metadata = AdminClient(admin_conf).list_topics(timeout=timeout_s).topics
    return {t: len(metadata[t].partitions) for t in topics if t in metadata}
