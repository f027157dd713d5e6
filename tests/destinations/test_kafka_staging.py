"""When the Kafka destination sends staged events: every SEND_EVENTS at a tick boundary, except
while the previous commit is still in flight (a transaction begins only once it has ended), when
the task stages on, up to HOLD_EVENTS, instead of waiting."""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np
import pytest

from connector.core.batch import EventColumns, TickBatch
from connector.destinations import kafka
from connector.destinations.kafka import KafkaDestination
from connector.kafka.fencing import TaskIdentity

ROWS = 4096  # events a shard-tick stages here


def _destination(monkeypatch: pytest.MonkeyPatch) -> tuple[KafkaDestination, list[int]]:
    """A destination whose sends are only counted (the events staged at each send)."""
    destination = KafkaDestination(TaskIdentity("c", 0, 1, "g"), [0], 1, {}, {}, {}, "o", "s")
    sent: list[int] = []

    def send() -> None:
        sent.append(destination._staged_events)
        destination._staged.clear()
        destination._staged_events = 0

    monkeypatch.setattr(destination, "_send", send)
    return destination, sent


def _tick(tick: int) -> TickBatch:
    ids = np.arange(ROWS, dtype=np.int64)
    return TickBatch((0,), tick, (EventColumns("t", "x", ids, ids, {"v": ids}),))


def _stage(destination: KafkaDestination, ticks: range) -> None:
    for tick in ticks:
        destination.write(_tick(tick))


def test_staged_events_are_sent_every_send_events_at_a_tick_boundary(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With no commit in flight, what is staged goes out at the first tick after it reaches
    SEND_EVENTS, never in the middle of a tick."""
    destination, sent = _destination(monkeypatch)
    per_send = -(-kafka.SEND_EVENTS // ROWS)  # ticks staged before a send
    _stage(destination, range(3 * per_send + 1))
    assert sent == [per_send * ROWS] * 3


def test_a_commit_in_flight_lets_the_task_stage_on_up_to_the_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """While the previous commit has not completed, nothing is sent (sending would wait for
    it) until HOLD_EVENTS are staged; once it completes, the next tick sends all of them."""
    destination, sent = _destination(monkeypatch)
    in_flight: Future[None] = Future()
    destination._in_flight = in_flight  # committed in the background, not yet done
    hold_ticks = -(-kafka.HOLD_EVENTS // ROWS)
    _stage(destination, range(hold_ticks + 1))
    assert sent == [hold_ticks * ROWS]  # bounded: sent once the bound is reached
    _stage(destination, range(hold_ticks + 1, hold_ticks + 8))
    assert sent == [hold_ticks * ROWS]  # still in flight: staged on
    in_flight.set_result(None)
    _stage(destination, range(hold_ticks + 8, hold_ticks + 9))
    assert sent == [hold_ticks * ROWS, 8 * ROWS]  # the tick staged after the first send too

