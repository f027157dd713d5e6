"""The one place librdkafka errors are classified: retry, abort the transaction, or give up.

Like quix-streams' helper: retriable errors are retried in place; abortable ones abort the open
transaction and the task regenerates the same ticks (same bytes) from its committed state;
fatal ones (fencing included) end the producer, and the task restarts only if it still owns
its work.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import TypeVar

import structlog
from confluent_kafka import KafkaError, KafkaException

log = structlog.get_logger(__name__)
R = TypeVar("R")


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


def refused_setting(exc: BaseException) -> str | None:
    """librdkafka's message when it refused a client setting (unknown property, bad value, out
    of range) as a client was created; None for any other error."""
    if not isinstance(exc, KafkaException) or not exc.args:
        return None
    err = exc.args[0]
    if not isinstance(err, KafkaError) or err.code() != KafkaError._INVALID_ARG:
        return None
    return str(err.str()).strip()


class TransactionAborted(Exception):
    """The open transaction was aborted; the task must resume from its committed state."""


class ProducerFenced(Exception):
    """Another owner took over this task's transactional id: stop, never commit again."""


class ProducerFailed(Exception):
    """The producer hit a fatal error; the task restarts with a new producer."""


def retrying(func: Callable[..., R], *args: object, timeout_s: float) -> R:
    """A producer call, retried with backoff while librdkafka says the error is retriable (for
    at most `timeout_s`); a fence raises ProducerFenced, a fatal error ProducerFailed, anything
    else (abortable) is raised as it is."""
    delay = 0.1
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return func(*args)
        except KafkaException as exc:
            outcome = classify(exc)
            if outcome is Outcome.RETRY and time.monotonic() < deadline:
                log.warning("retrying producer call", call=getattr(func, "__name__", "?"),
                            error=str(exc))
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if outcome is Outcome.FENCED:
                raise ProducerFenced(str(exc)) from exc
            if outcome is Outcome.FATAL:
                raise ProducerFailed(str(exc)) from exc
            raise
