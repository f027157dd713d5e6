"""What `GET /` and `GET /connector-plugins` describe: this build and its one connector plugin."""

from __future__ import annotations

import functools
import importlib.metadata
import subprocess
from pathlib import Path
from typing import Any

import connector

PLUGIN_CLASS = "io.dogeconnect.DogeSourceConnector"
_SUFFIX = "Connector"


@functools.cache
def version() -> str:
    try:
        return importlib.metadata.version("doge-connect")
    except importlib.metadata.PackageNotFoundError:
        return connector.__version__


@functools.cache
def commit() -> str:
    """The git commit of the source tree this runs from ("unknown" outside a checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short=16", "HEAD"],
                             cwd=Path(connector.__file__).parent, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def server_info(herder: object) -> dict[str, Any]:
    """Connect's ServerInfo; the cluster id comes from the herder when it knows it."""
    cluster_id = getattr(herder, "kafka_cluster_id", None)
    if callable(cluster_id):
        cluster_id = cluster_id()
    return {"version": version(), "commit": commit(),
            "kafka_cluster_id": cluster_id if isinstance(cluster_id, str) else None}


def plugins() -> list[dict[str, Any]]:
    return [{"class": PLUGIN_CLASS, "type": "source", "version": version()}]


def _alias(name: str) -> str:
    """Connect's normalisation: `FooConnector` and `Foo` name the same plugin."""
    return name[:-len(_SUFFIX)] if name.endswith(_SUFFIX) and len(name) > len(_SUFFIX) else name


def is_our_plugin(name: str) -> bool:
    """Full class name, simple name, or simple name without `Connector`, as Connect accepts."""
    simple = PLUGIN_CLASS.rsplit(".", 1)[1]
    return name in (PLUGIN_CLASS, simple, _alias(simple), _alias(PLUGIN_CLASS))


def same_plugin(included: str, requested: str) -> bool:
    """Connect's check of a config's `connector.class` against the plugin named in the URL."""
    return _alias(included).endswith(_alias(requested))
