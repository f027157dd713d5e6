"""The one place librdkafka errors are classified: retry, abort the transaction, or give up.

Like quix-streams' helper: retriable errors are retried in place; abortable ones abort the open
transaction and the task regenerates the same ticks (same bytes) from its committed state;
fatal ones (fencing included) end the producer, and the task restarts only if it still owns
its work.
"""

from __future__ import annotations

import enum

from confluent_kafka import KafkaError, KafkaException


class Outcome(enum.Enum):
    RETRY = "retry"
    ABORT = "abort"
    FATAL = "fatal"
    FENCED = "fenced"


_FENCED_CODES = {
    getattr(KafkaError, name) for name in ("_FENCED", "PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH",
                                          "TRANSACTIONAL_ID_AUTHORIZATION_FAILED")
    if hasattr(KafkaError, name)
}


def classify(exc: BaseException) -> Outcome:
    """What to do about an exception raised by a producer/transaction call."""
    if not isinstance(exc, KafkaException) or not exc.args:
        return Outcome.FATAL
    err = exc.args[0]
    if not isinstance(err, KafkaError):
        return Outcome.FATAL
    if err.code() in _FENCED_CODES:
        return Outcome.FENCED
    if err.fatal():
        return Outcome.FATAL
    if err.txn_requires_abort():
        return Outcome.ABORT
    if err.retriable():
        return Outcome.RETRY
    return Outcome.ABORT


class TransactionAborted(Exception):
    """The open transaction was aborted; the task must resume from its committed state."""


class ProducerFenced(Exception):
    """Another owner took over this task's transactional id: stop, never commit again."""


class ProducerFailed(Exception):
    """The producer hit a fatal error; the task restarts with a new producer."""
