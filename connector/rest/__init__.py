"""Kafka Connect's REST API, a thin layer over the Herder (connector/runtime/herder.py)."""

from connector.rest.server import RestServer, start_rest

__all__ = ["RestServer", "start_rest"]
