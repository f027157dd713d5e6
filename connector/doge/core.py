"""DOGE's own types with doge-datagen 1.0.4's signatures: Transition, EventSink, SubjectFactory.

Written from DOGE's documented API (its README and the seed article), not from its code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

import attrs

from connector.api.values import CallSite
from connector.errors import UserError

Subject = TypeVar("Subject")


class DogeError(UserError, ValueError):
    """A mistake in a DOGE script: a ValueError as in DOGE, printed like every doge error
    (the script's file and line, what was expected)."""

    def __init__(self, site: CallSite, path: str, message: str) -> None:
        super().__init__([site.problem(path, message)])


class SubjectFactory(Generic[Subject]):
    """Creates the subjects (users) that walk the state machine; extend it and give `create`."""

    def create(self) -> Subject:
        """A new subject: an object whose attributes callbacks change and sinks read."""
        raise NotImplementedError("SubjectFactory.create must be implemented by a subclass")


@attrs.frozen
class RunInfo:
    """What a sink's destination needs to know about the run that feeds it."""

    seed: int
    start_ms: int
    tick_ms: int
    ticks: int


class TickCommitter(Protocol):
    """A destination behind some sinks, committed once per tick (Kafka: one transaction)."""

    def open(self, run: RunInfo) -> None:
        """Before the first tick: connect, create topics, register schemas."""

    def commit(self, tick: int) -> None:
        """Make what the sinks collected in `tick` durable, all or nothing."""

    def close(self) -> None:
        """Wait for the last commit and release connections; idempotent."""


class EventSink(ABC):
    """Receives an event for each successful transition it is attached to."""

    @abstractmethod
    def collect(self, timestamp: int, subject: Any, transition: Transition) -> None:
        """Called after a subject took `transition` (after its callback returned True), with the
        tick's event time in epoch milliseconds."""

    def close(self) -> None:  # noqa: B027  (optional, as in DOGE: most sinks hold nothing)
        """Called once at the end of `DataOnlineGenerator.start()`: flush and release."""

    def committer(self) -> TickCommitter | None:
        """The destination committing this sink's events per tick, if any (built-in sinks)."""
        return None


class Transition:
    """One possible move of the state machine, as callbacks and sinks receive it."""

    def __init__(self, trigger: str, from_state: str, to_state: str, probability: float,
                 action_callback: Callable[[Any, Transition], bool] | None = None,
                 event_sinks: Sequence[EventSink] | None = None) -> None:
        self.trigger = trigger
        self.from_state = from_state
        self.to_state = to_state
        self.probability = probability
        self.action_callback = action_callback
        self.event_sinks: Sequence[EventSink] = event_sinks or ()

    def __repr__(self) -> str:
        return (f"Transition({self.trigger!r}, {self.from_state!r} -> {self.to_state!r}, "
                f"{self.probability!r} %)")
