"""structlog set-up shared by the CLI, the worker and task processes.

One renderer for everything that reaches stderr: structlog events, the standard library's log
records (httpx, ...) and librdkafka's own log lines (every Kafka client gets `logger=`
`kafka_logger()`), so a JSON log stays JSON and tracebacks are rendered, not hand-formatted.
structlog's loggers are the standard library's (one per module name), so a level set on a name
(`/admin/loggers`, connector/runtime/loggers.py) applies to its modules at run time. Values
resolved from config providers are registered with `hide` and masked in every line.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import structlog

KAFKA_LOGGER = "librdkafka"
MASK = "[hidden]"
MIN_SECRET = 4  # shorter values ("1", "true") would mask half of every line and hide nothing
_hidden: set[str] = set()
_mode = {"json": False}  # what configure() chose, for json_mode()


def hide(secret: str) -> None:
    """Mask `secret` in every log line and error message from now on (this process)."""
    if len(secret) >= MIN_SECRET:
        _hidden.add(secret)
        stripped = secret.strip()  # a file provider's value often ends with a newline
        if len(stripped) >= MIN_SECRET:
            _hidden.add(stripped)


def scrub(text: str) -> str:
    """`text` with every hidden value replaced by the mask."""
    for secret in sorted(_hidden, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v) for v in value]
    return value


def _scrub_event(logger: Any, method: str, event: Any) -> Any:
    return _scrub_value(event) if _hidden else event


def json_mode() -> bool:
    """Whether logs are JSON lines (then everything on stderr must be one)."""
    return _mode["json"]


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to `sys.stderr` as it is when a record is emitted, not as it was when logging was
    configured: an embedding program (or a test runner) may swap it and close the old one, and
    writing to a closed stream prints a traceback instead of the log line."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass  # always sys.stderr


def configure(level: str = "INFO", json: bool = False) -> None:
    """Route logs to stderr: human-readable on a terminal, JSON lines otherwise."""
    _mode["json"] = json
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.add_logger_name,
    ]
    # Console tracebacks without local variables too (see below).
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.RichTracebackFormatter(
                color_system=None, show_locals=False))
    )
    # Tracebacks without local variables: a local may hold a secret the mask cannot know.
    exceptions: list[structlog.types.Processor] = [structlog.processors.ExceptionRenderer(
        structlog.tracebacks.ExceptionDictTransformer(show_locals=False))] if json else []
    handler = _StderrHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *exceptions,
                    _scrub_event, renderer]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    _repeats.seen.clear()  # a new configuration starts counting afresh
    _repeats.last = None
    if _repeats not in kafka_logger().filters:
        kafka_logger().addFilter(_repeats)
    for chatty in ("httpx", "httpx2"):  # one line per registry request
        logging.getLogger(chatty).setLevel(logging.WARNING)
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared,
                    structlog.stdlib.PositionalArgumentsFormatter(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )


class RepeatSummary(logging.Filter):
    """librdkafka repeats a failing connection's line every retry (hundreds a minute while a
    broker is down): the first line of each kind passes, the repeats are counted and said in
    one line per `every_s`. The last line is kept for the error a caller gives up with."""

    def __init__(self, every_s: float = 60.0) -> None:
        super().__init__()
        self.every_s = every_s
        self.seen: dict[str, list[float | int]] = {}  # kind -> [first shown, repeats since]
        self.last: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            self.last = text
        kind = re.sub(r"rdkafka#\w+-\d+|\d+", "#", text)
        now = time.monotonic()
        entry = self.seen.get(kind)
        if entry is None or now - entry[0] >= self.every_s:
            repeats = int(entry[1]) if entry is not None else 0
            self.seen[kind] = [now, 0]
            if repeats:
                record.msg, record.args = f"{text} (and {repeats} like it since the last " \
                                          f"such line)", None
            return True
        entry[1] = int(entry[1]) + 1
        return False


_repeats = RepeatSummary()


def last_kafka_line() -> str | None:
    """librdkafka's latest warning or error line (shown or summarised), for a final error."""
    return _repeats.last


def kafka_logger() -> logging.Logger:
    """The logger librdkafka's log lines go to (a Kafka client's `logger` config)."""
    return logging.getLogger(KAFKA_LOGGER)
