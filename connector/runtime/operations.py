"""What the REST API's operational endpoints read and change (/health, /metrics,
/admin/loggers): the worker's health, metrics and log levels, which exist before the herder
does (the worker is still starting)."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from connector.runtime.health import WorkerHealth
from connector.runtime.loggers import LogLevels, parse_level
from connector.runtime.metrics import WorkerMetrics


@attrs.define
class Operations:
    """Shared by the REST server (which starts first) and the worker, which fills in
    `cluster_level` once it has a config topic."""

    health: WorkerHealth
    metrics: WorkerMetrics
    loggers: LogLevels
    # distributed mode: write a cluster-wide level to the config topic (None: standalone)
    cluster_level: Callable[[str, str], None] | None = None

    def set_level(self, name: str, level: str, cluster: bool) -> list[str] | None:
        """Worker scope: set here, the names changed. Cluster scope: every worker sets it
        through the config topic (None: nothing to list, as Connect answers 204)."""
        if cluster and self.cluster_level is not None:
            parse_level(level)  # refuse a bad level before it reaches the other workers
            self.cluster_level(name, level)
            return None
        return self.loggers.set(name, level)
