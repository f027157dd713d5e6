"""Worker settings only Kafka's client library can judge: a clear error at start, not a trace."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT
from tests.runtime.harness import KafkaRun

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("mode", "setting", "message"), [
    ("worker", {"security.protocol": "bogus"},
     'Invalid value "bogus" for configuration property "security.protocol"'),
    ("worker", {"producer.linger.ms": "abc"},
     'Invalid value for configuration property "queue.buffering.max.ms"'),
    ("distributed", {"session.timeout.ms": "2147483647"},
     'Configuration property "session.timeout.ms" value 2147483647 is outside allowed range '
     '1..3600000'),
])
def test_a_setting_librdkafka_refuses_is_a_clear_error(
        kafka_run: KafkaRun, mode: str, setting: dict[str, str], message: str) -> None:
    """A client setting librdkafka refuses as a client is created (KafkaException _INVALID_ARG,
    a traceback at worker start, found by fuzzing) exits 2 naming the file and librdkafka's
    reason."""
    worker_file = kafka_run.worker_file(**setting)
    result = subprocess.run([sys.executable, "-m", "connector", mode, str(worker_file)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line["event"] for line in map(json.loads, result.stderr.splitlines())
              if line["level"] == "error"]  # not a terminal: JSON lines
    assert errors == [f"error: {worker_file}: a Kafka client setting is refused: {message}"], \
        result.stderr[-3000:]


def test_a_session_timeout_the_broker_refuses_is_a_clear_error(kafka_run: KafkaRun) -> None:
    """A distributed worker whose session.timeout.ms is below the broker's
    group.min.session.timeout.ms (the client retries JoinGroup forever, the worker never got a
    slot and said nothing) exits 2 naming the file, the key and the broker's answer."""
    worker_file = kafka_run.worker_file(**{"session.timeout.ms": "1000",
                                           "heartbeat.interval.ms": "300"})
    result = subprocess.run([sys.executable, "-m", "connector", "distributed", str(worker_file)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line["event"] for line in map(json.loads, result.stderr.splitlines())
              if line["level"] == "error"]
    assert errors == [f"error: {worker_file}: session.timeout.ms: the Kafka group coordinator "
                      "refuses this worker: JoinGroup failed: Broker: Invalid session timeout; "
                      "set it within the broker's group.min.session.timeout.ms and "
                      "group.max.session.timeout.ms (6000 and 1800000 by default)"], \
        result.stderr[-3000:]
