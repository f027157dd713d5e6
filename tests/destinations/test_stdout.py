"""JSON lines of nested values: stdout shows the key and headers, files the values."""

from __future__ import annotations

import io
import json
from pathlib import Path

from connector.core.batch import TickBatch
from connector.destinations.local import LocalDirectory
from connector.destinations.stdout import StdoutLines
from connector.runtime.config import load_connector, resolve_start_ms
from connector.runtime.simulation import Simulation, prepare
from tests.helpers import ROOT


def _batches(ticks: int) -> tuple[Simulation, list[TickBatch]]:
    sim = prepare(load_connector(str(ROOT / "config" / "shop.json")))
    settings = sim.settings(resolve_start_ms(sim.config))
    engines = [sim.shard(settings, s) for s in range(2)]
    return sim, [e.step() for _ in range(ticks) for e in engines]


def test_stdout_lines_carry_nested_values_keys_and_headers() -> None:
    """Each line is JSON: a record key as an object, nested values, headers where defined."""
    sim, batches = _batches(300)
    out = io.StringIO()
    lines = StdoutLines(sim.model.schemas, out)
    for batch in batches:
        lines.write(batch)
    lines.commit({})
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    orders = [r for r in records if r["topic"] == "shop_orders"]
    views = [r for r in records if r["topic"] == "shop_views"]
    assert orders and views
    for r in orders:
        assert r["key"] == {"order_id": r["value"]["order_id"]}
        assert set(r["headers"]) == {"trace_id", "source"} and r["headers"]["source"] == "doge-shop"
        assert r["value"]["customer"]["address"]["country"] == "DE"
        assert 1 <= len(r["value"]["items"]) <= 4
        assert all(isinstance(i["unit_price"], str) for i in r["value"]["items"])  # exact text
    for r in views:
        assert r["key"] == r["value"]["customer_id"] and "headers" not in r


def test_jsonl_files_hold_nested_values(tmp_path: Path) -> None:
    """The local destination's JSON lines hold the same nested values, one record per line."""
    sim, batches = _batches(300)
    local = LocalDirectory(tmp_path, sim.model.schemas, "jsonl")
    local.begin("f", 0)
    for batch in batches:
        local.write(batch)
    local.commit({})
    local.close()
    orders = [json.loads(line) for line in
              (tmp_path / "shop_orders.jsonl").read_text().splitlines()]
    assert orders and all(isinstance(o["customer"]["name"], str) for o in orders)
    assert all(o["payment"]["method"] in ("CARD", "PAYPAL", "INVOICE") for o in orders)
