"""The shop example: stable customer identities through `doge run`, a kill -9 and a resume."""

from __future__ import annotations

import json
import os
import subprocess
from collections import defaultdict
from pathlib import Path

import fastavro
import yaml

from tests.cli.killing import DOGE, kill_mid_run
from tests.cli.test_run import _same_tree
from tests.helpers import MODELS, ROOT, SCHEMAS, write_connector, write_model


def _connector(tmp: Path) -> Path:
    model = yaml.safe_load((MODELS / "shop.yaml").read_text())
    model["schemas"] = str(SCHEMAS)
    return write_connector(tmp, write_model(tmp, model), users=6000, ticks=1500, shards=4,
                           seed=3, snapshot_interval_ticks=100, transaction_boundary="ticks",
                           transaction_boundary_ticks=5)


def _records(path: Path) -> list[dict[str, object]]:
    with open(path, "rb") as f:
        return [r for r in fastavro.reader(f) if isinstance(r, dict)]


def test_killed_shop_run_resumes_with_the_same_identities(tmp_path: Path) -> None:
    """kill -9 twice mid-run, then resume: files byte-identical to an uninterrupted run, and
    every customer has one name, e-mail and customer id on every topic and event."""
    connector = _connector(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([*DOGE, "run", str(connector), "-q", "-o", str(tmp_path / "ref")], check=True,
                   env=env, capture_output=True)
    part = tmp_path / "part"
    kill_mid_run(connector, part, env, delays=(0.3, 0.8))
    offsets = json.loads((part / "_offsets.json").read_text())
    assert 0 < offsets["shards"]["0"]["next_tick"] < 1500  # really interrupted mid-run
    subprocess.run([*DOGE, "run", str(connector), "-q", "-o", str(part)], check=True, env=env,
                   capture_output=True)
    _same_tree(tmp_path / "ref", part)

    identity: dict[str, set[tuple[object, ...]]] = defaultdict(set)
    emails: dict[str, set[object]] = defaultdict(set)
    for record in _records(part / "shop_orders.avro"):
        user = str(record["user_id"])
        customer = record["customer"]
        assert isinstance(customer, dict)
        identity[user].add((customer["name"], customer["email"], customer["customer_id"]))
        emails[user].add(customer["email"])
    for record in _records(part / "shop_views.avro"):
        emails[str(record["user_id"])].add(record["email"])
    assert len(identity) > 500
    assert all(len(v) == 1 for v in identity.values())
    assert all(len(v) == 1 for v in emails.values())
    orders = _records(part / "shop_orders.avro")
    assert len({r["order_id"] for r in orders}) == len(orders)  # sequence(): unique order ids
