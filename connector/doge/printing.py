"""DOGE's PrintingSink: one line per event on standard output, formatted by the script."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector.doge.core import EventSink, Transition


class PrintingSink(EventSink):
    """Prints `format_function(timestamp, subject, transition)` for every event."""

    def __init__(self, format_function: Callable[[int, Any, Transition], str]) -> None:
        self.format_function = format_function

    def collect(self, timestamp: int, subject: Any, transition: Transition) -> None:
        print(self.format_function(timestamp, subject, transition))
