"""Log levels at run time, as Kafka Connect's `/admin/loggers` (KIP-495, KIP-976).

Loggers are the standard library's, one per module (`connector.runtime.worker`), so setting
`connector.runtime` sets that package: as in Connect, the named logger and every descendant
that has a level of its own get the new level, and the answer lists them. `scope=cluster`
(distributed mode) goes through the config topic and every worker applies it (kafka_stores.py);
like Connect, such levels last until a worker restarts.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

import attrs

from connector.errors import UserError

ROOT = "root"
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "OFF")
# Log4j's names onto Python's (TRACE is DEBUG here; OFF is above CRITICAL).
TO_PYTHON = {"TRACE": logging.DEBUG, "DEBUG": logging.DEBUG, "INFO": logging.INFO,
             "WARN": logging.WARNING, "WARNING": logging.WARNING, "ERROR": logging.ERROR,
             "FATAL": logging.CRITICAL, "OFF": logging.CRITICAL + 10}


@attrs.frozen
class LoggerLevel:
    level: str
    last_modified: int | None  # epoch ms of the last change through this API

    def to_json(self) -> dict[str, object]:
        return {"level": self.level, "last_modified": self.last_modified}


def parse_level(text: object) -> int:
    """A Log4j (or Python) level name as Python's number; UserError for anything else."""
    if not isinstance(text, str) or text.upper() not in TO_PYTHON:
        raise UserError(f"Invalid log level {text!r}: expected one of {', '.join(LEVELS)}")
    return TO_PYTHON[text.upper()]


def _name(level: int) -> str:
    if level > logging.CRITICAL:
        return "OFF"
    return {logging.WARNING: "WARN", logging.CRITICAL: "FATAL"}.get(
        level, logging.getLevelName(level))


class LogLevels:
    """This process's logger levels, and when each was last set through the API."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._modified: dict[str, int] = {}
        self.overrides: dict[str, int] = {}  # every level set here, for the task processes
        self.version = 0  # bumped by each set(): the worker loop passes them on

    @staticmethod
    def _logger(name: str) -> logging.Logger:
        return logging.getLogger() if name == ROOT else logging.getLogger(name)

    def all(self) -> dict[str, LoggerLevel]:
        """Every logger with a level of its own, the root included (Connect's GET answer)."""
        names = [n for n, lg in logging.root.manager.loggerDict.items()
                 if isinstance(lg, logging.Logger) and lg.level != logging.NOTSET]
        return {n: self.get(n) for n in sorted([ROOT, *names])}

    def get(self, name: str) -> LoggerLevel:
        """A logger's effective level; KeyError for a name that is neither a logger yet nor a
        loaded module (structlog creates a module's logger on its first line)."""
        if name != ROOT and name not in logging.root.manager.loggerDict \
                and name not in sys.modules:
            raise KeyError(name)
        with self._lock:
            modified = self._modified.get(name)
        return LoggerLevel(_name(self._logger(name).getEffectiveLevel()), modified)

    def set(self, name: str, level: str) -> list[str]:
        """Set `name` and its descendants that have a level; the names changed, sorted."""
        number = parse_level(level)
        if not name or len(name) > 255:
            raise UserError(f"Invalid logger name {name[:64]!r}")
        prefix = "" if name == ROOT else name + "."
        changed = [name] + [n for n, lg in logging.root.manager.loggerDict.items()
                            if n.startswith(prefix) and isinstance(lg, logging.Logger)
                            and lg.level != logging.NOTSET and n != name]
        now = int(time.time() * 1000)
        with self._lock:
            for n in changed:
                self._logger(n).setLevel(number)
                self._modified[n] = now
                self.overrides[n] = number
            self.version += 1
        return sorted(changed)


def apply_levels(levels: dict[str, int]) -> None:
    """Set levels told by the worker (in a task process)."""
    for name, level in levels.items():
        (logging.getLogger() if name == ROOT else logging.getLogger(name)).setLevel(level)
