"""One log stream: structlog events, stdlib records and librdkafka's lines all render alike."""

from __future__ import annotations

import io
import json
import logging
import sys
import time

import pytest
import structlog
from confluent_kafka import Producer

from connector.logging import configure, kafka_logger, last_kafka_line


def _json_lines(text: str) -> list[dict[str, object]]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line must parse


def test_exception_traceback_survives_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    """log.exception renders the traceback as structured JSON, not hand-formatted text."""
    configure("INFO", json=True)
    try:
        raise ValueError("boom")
    except ValueError:
        structlog.get_logger("t").exception("it failed", task=3)
    [event] = _json_lines(capsys.readouterr().err)
    assert event["event"] == "it failed" and event["task"] == 3
    traces = event["exception"]
    assert isinstance(traces, list) and len(traces) == 1
    assert traces[0]["exc_type"] == "ValueError" and traces[0]["exc_value"] == "boom"


@pytest.mark.parametrize("json_lines", [True, False])
def test_tracebacks_leave_local_variables_out(capsys: pytest.CaptureFixture[str],
                                              json_lines: bool) -> None:
    """A traceback in the log shows no local variable: one may hold a connector's password."""
    configure("INFO", json=json_lines)

    def connect() -> None:
        url = "postgresql://doge:" + "-".join(("s3cret", "pw")) + "@db/doge"  # not in the source
        raise RuntimeError(f"cannot connect ({len(url)})")

    try:
        connect()
    except RuntimeError:
        structlog.get_logger("t").exception("it failed")
    text = capsys.readouterr().err
    assert "cannot connect" in text and "s3cret-pw" not in text


def test_stdlib_records_are_json_too(capsys: pytest.CaptureFixture[str]) -> None:
    """A library's stdlib logging record is a JSON line with its logger's name."""
    configure("INFO", json=True)
    logging.getLogger("some.library").warning("careful: %s", "disk")
    [event] = _json_lines(capsys.readouterr().err)
    assert event == {**event, "event": "careful: disk", "logger": "some.library",
                     "level": "warning"}


def test_librdkafka_lines_go_through_the_logger(capsys: pytest.CaptureFixture[str]) -> None:
    """librdkafka's own lines (a refused connection) arrive as JSON, never as raw %3|... text."""
    configure("INFO", json=True)
    producer = Producer({"bootstrap.servers": "127.0.0.1:1", "logger": kafka_logger(),
                         "reconnect.backoff.ms": 10, "socket.connection.setup.timeout.ms": 1000})
    deadline = time.monotonic() + 10
    err = ""
    while time.monotonic() < deadline and "librdkafka" not in err:
        producer.poll(0.2)
        err += capsys.readouterr().err
    events = _json_lines(err)
    assert any(e.get("logger") == "librdkafka" for e in events), err
    assert "%3|" not in err


def test_librdkafka_retries_are_summarised(capsys: pytest.CaptureFixture[str]) -> None:
    """A broker that refuses connections for seconds gives one line per kind of message, not
    one per retry; the latest is kept for the error a caller gives up with."""
    configure("INFO", json=True)
    producer = Producer({"bootstrap.servers": "127.0.0.1:1", "logger": kafka_logger(),
                         "reconnect.backoff.ms": 10, "reconnect.backoff.max.ms": 20,
                         "socket.connection.setup.timeout.ms": 1000})
    deadline = time.monotonic() + 4
    err = ""
    while time.monotonic() < deadline:
        producer.poll(0.2)
        err += capsys.readouterr().err
    lines = [e for e in _json_lines(err) if e.get("logger") == "librdkafka"]
    refused = [e for e in lines if "Connection refused" in str(e["event"])]
    assert len(refused) == 1, lines  # librdkafka retried every 10-20 ms meanwhile
    assert "Connection refused" in str(last_kafka_line())


def test_logs_follow_stderr_when_it_is_swapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Logging configured while stderr was another stream (since closed) writes to the current
    stderr: no "--- Logging error ---" traceback, the line itself arrives."""
    old, new = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", old)
    configure("INFO", json=True)
    old.close()
    monkeypatch.setattr(sys, "stderr", new)
    structlog.get_logger("t").info("still heard")
    [event] = _json_lines(new.getvalue())
    assert event["event"] == "still heard"
