"""structlog set-up shared by the CLI, the worker and task processes.

One renderer for everything that reaches stderr: structlog events, the standard library's log
records (httpx, ...) and librdkafka's own log lines (every Kafka client gets `logger=`
`kafka_logger()`), so a JSON log stays JSON and tracebacks are rendered, not hand-formatted.
"""

from __future__ import annotations

import logging
import sys

import structlog

KAFKA_LOGGER = "librdkafka"


def configure(level: str = "INFO", json: bool = False) -> None:
    """Route logs to stderr: human-readable on a terminal, JSON lines otherwise."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Tracebacks without local variables: a local may hold a secret (a connector's password).
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.RichTracebackFormatter(
                color_system=None, show_locals=False))
    )
    exceptions: list[structlog.types.Processor] = [structlog.processors.ExceptionRenderer(
        structlog.tracebacks.ExceptionDictTransformer(show_locals=False))] if json else []
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *exceptions,
                    renderer]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for chatty in ("httpx", "httpx2"):  # one line per registry request
        logging.getLogger(chatty).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, *exceptions, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def kafka_logger() -> logging.Logger:
    """The logger librdkafka's log lines go to (a Kafka client's `logger` config)."""
    return logging.getLogger(KAFKA_LOGGER)
