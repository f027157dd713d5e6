"""The control plane's interface: what the REST layer asks of a worker, in either mode.

Answers are the types of contracts.py; their `to_json()` is Kafka Connect's REST shape.
Errors: NotFound -> 404, Conflict -> 409 (exists / rebalance in progress), UserError -> 400.
"""

from __future__ import annotations

from typing import Any, Protocol

from connector.runtime.contracts import (
    ConnectorInfo,
    ConnectorStatus,
    Offsets,
    TaskConfig,
    TaskState,
)


class NotFound(Exception):
    """No such connector or task."""


class Conflict(Exception):
    """The request conflicts with the current state (exists already, rebalance in progress)."""


class Herder(Protocol):
    """Optional members the REST layer uses when present: `kafka_cluster_id` (str | None, for
    `GET /`) and `reset_offsets(name)` (Connect's `DELETE /connectors/{name}/offsets`; a
    UserError unless the connector is STOPPED)."""

    worker_id: str

    def connectors(self) -> list[str]:
        """Names of all connectors of the cluster."""

    def connector_info(self, name: str) -> ConnectorInfo:
        """Its config (string values) and tasks."""

    def connector_config(self, name: str) -> dict[str, str]:
        """The connector's config (string values, `name` included)."""

    def create_connector(self, name: str, config: dict[str, Any]) -> ConnectorInfo:
        """Create; Conflict if it exists, UserError if the config is invalid. Returns info."""

    def put_connector_config(self, name: str, config: dict[str, Any]
                             ) -> tuple[bool, ConnectorInfo]:
        """Create or reconfigure; (created, info). A change of the output's identity (model,
        seed, users, shards, tick.ms, start.time) is refused while offsets exist."""

    def connector_status(self, name: str) -> ConnectorStatus:
        """The connector's state and each task's."""

    def task_configs(self, name: str) -> list[TaskConfig]:
        """Each task's config (its shards included)."""

    def task_status(self, name: str, task: int) -> TaskState:
        """One task's state."""

    def pause(self, name: str) -> None:
        """Tasks stop between transactions and stay assigned (state PAUSED)."""

    def resume(self, name: str) -> None:
        """Paused or stopped tasks start again from their committed offsets."""

    def stop(self, name: str) -> None:
        """Tasks stop and are released (state STOPPED); offsets are kept."""

    def restart_connector(self, name: str, include_tasks: bool, only_failed: bool
                          ) -> ConnectorStatus | None:
        """Restart; with include_tasks, its tasks too (only failed ones with only_failed).
        Returns the status (for 202) when include_tasks, else None (204)."""

    def restart_task(self, name: str, task: int) -> None:
        """Restart one task from its committed offsets."""

    def delete_connector(self, name: str, reset_offsets: bool = False) -> None:
        """Stop and remove; with reset_offsets, its committed offsets are deleted too."""

    def offsets(self, name: str) -> Offsets:
        """Each shard's committed offset."""

    def validate(self, config: dict[str, Any]) -> dict[str, Any]:
        """Kafka Connect's validate response: {"name", "error_count", "groups", "configs"}."""
