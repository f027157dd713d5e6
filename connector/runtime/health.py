"""The worker's health as Kafka Connect's KIP-1017 `GET /health` states it.

503 while the worker starts (internal topics, joining the group, reading the config topic) or
stops; 200 once it has joined and read its configs; 500 when its loop has not completed a round
for `STALL_S` (a stuck worker: a liveness probe should restart it).
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable

import attrs

STALL_S = 30.0


class Phase(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"


@attrs.frozen
class HealthAnswer:
    status: int  # HTTP
    state: str  # "healthy", "starting", "unhealthy"
    message: str

    def to_json(self) -> dict[str, str]:
        return {"status": self.state, "message": self.message}


class WorkerHealth:
    """Set by the worker loop, read by REST threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.phase = Phase.STARTING
        self.reason = "Worker is still starting up."
        self.last_round = clock()

    def starting(self, reason: str) -> None:
        with self._lock:
            self.phase, self.reason = Phase.STARTING, reason

    def running(self) -> None:
        with self._lock:
            self.phase, self.reason, self.last_round = Phase.RUNNING, "", self.clock()

    def round_done(self) -> None:
        with self._lock:
            self.last_round = self.clock()

    def stopping(self) -> None:
        with self._lock:
            self.phase, self.reason = Phase.STOPPING, "Worker is shutting down."

    def answer(self) -> HealthAnswer:
        with self._lock:
            phase, reason, idle = self.phase, self.reason, self.clock() - self.last_round
        if phase is not Phase.RUNNING:
            return HealthAnswer(503, "starting" if phase is Phase.STARTING else "unhealthy",
                                reason)
        if idle > STALL_S:
            return HealthAnswer(500, "unhealthy", f"The worker's loop has not completed a "
                                                  f"round for {idle:.0f} s.")
        return HealthAnswer(200, "healthy", "Worker has completed startup and is ready to "
                                            "handle requests.")
