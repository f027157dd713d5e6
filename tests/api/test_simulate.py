"""simulate() and simulate_batches(): the events `doge run` commits, as Arrow tables."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

from connector.api import Model, UserError, simulate, simulate_batches
from connector.cli import run as _run_command  # noqa: F401  (registers `doge run`)
from connector.cli.main import cli
from tests.api.examples import EXAMPLES
from tests.helpers import MODELS
from tests.plugin_example import FUNCTIONS

SETTINGS = {"users": 1500, "ticks": 90, "seed": 13, "shards": 3, "start": "2024-03-02T00:00:00Z"}


def _connector(tmp: Path, model: Path) -> Path:
    path = tmp / "connector.json"
    config = {"model": str(model), "users": "1500", "ticks": "90", "seed": "13", "shards": "3",
              "start.time": SETTINGS["start"]}
    path.write_text(json.dumps({"name": "sim", "config": config}))
    return path


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A table row as JSON lines hold it (timestamps as epoch milliseconds)."""
    return {k: int(v.timestamp() * 1000) if isinstance(v, dt.datetime) else v
            for k, v in row.items()}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_tables_equal_the_jsonl_that_doge_run_writes(name: str, tmp_path: Path) -> None:
    """simulate() tables equal `doge run --format jsonl` row for row, from file and builder."""
    connector = _connector(tmp_path, MODELS / f"{name}.yaml")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(connector), "-o", str(out), "--format", "jsonl",
                                      "-q"])
    assert result.exit_code == 0, result.output
    from_file = simulate(connector)
    from_builder = simulate(EXAMPLES[name](), **SETTINGS)  # type: ignore[arg-type]
    for topic in from_file:
        lines = [json.loads(x) for x in (out / f"{topic}.jsonl").read_text().splitlines()]
        rows = [_plain(r) for r in from_file[topic].to_pylist()]
        assert rows == lines, topic
        assert from_builder[topic].equals(from_file[topic]), topic
    assert sum(len(t) for t in from_file.values()) > 0


def test_column_types_follow_the_avro_schemas() -> None:
    """Arrow column types follow the Avro schema (timestamps UTC, unions nullable), pandas too."""
    tables = simulate(EXAMPLES["music"](), users=300, ticks=60, seed=2, start=0)
    listen = tables["listen_events"].schema
    assert listen.field("song_id").type == pa.int64()
    assert listen.field("timestamp").type == pa.timestamp("ms", tz="UTC")
    assert listen.field("session_id").nullable and listen.field("session_id").type == pa.string()
    assert tables["auth_events"].schema.field("success").type == pa.bool_()
    telemetry = simulate(EXAMPLES["iot"](), users=50, ticks=3, seed=2, start=0)["telemetry"]
    assert telemetry.schema.field("temperature").type == pa.float64()
    frame = telemetry.to_pandas()
    assert str(frame["timestamp"].dtype).startswith("datetime64[ms, UTC]")


def test_batches_cover_the_run_in_order() -> None:
    """simulate_batches' batches, every topic in each, concatenate to simulate()'s tables."""
    model = EXAMPLES["banking"]()
    whole = simulate(model, users=800, ticks=25, seed=4, start=0)
    batches = list(simulate_batches(model, users=800, ticks=25, seed=4, start=0, batch_ticks=10))
    assert [(b.first_tick, b.ticks) for b in batches] == [(0, 10), (10, 10), (20, 5)]
    for topic, table in whole.items():
        assert all(topic in b.tables for b in batches)
        assert pa.concat_tables([b.tables[topic] for b in batches]).equals(table)


def test_plugin_functions_are_given_as_specs() -> None:
    """A model calling a plugin function runs with the FunctionSpec passed in `functions`."""
    model = Model(["a"], name="tiers").attribute("balance", "long", initial="randint(0, 1000)")
    model.topic("tiers", {"type": "record", "name": "Tier", "fields": [
        {"name": "user_id", "type": "string"}, {"name": "tier", "type": "string"}]})
    model.transition("t", "a", "a", chance=50, emit=[{"topic": "tiers",
                                                      "fields": {"tier": "tier(balance)"}}])
    with pytest.raises(UserError, match="tier"):
        simulate(model, users=10, ticks=1)
    table = simulate(model, users=200, ticks=2, functions=FUNCTIONS)["tiers"]
    assert set(table.column("tier").to_pylist()) <= {"gold", "basic"} and len(table) > 0


def test_bad_settings_are_user_errors() -> None:
    """Bad settings and targets are UserErrors; ticks=0 gives empty tables."""
    model = EXAMPLES["banking"]()
    with pytest.raises(UserError, match=r"config.users: expected a whole number"):
        simulate(model, users="many", ticks=1)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="batch_ticks"):
        next(simulate_batches(model, ticks=1, batch_ticks=0))
    with pytest.raises(UserError, match="expected a Model"):
        simulate(42, ticks=1)  # type: ignore[arg-type]
    assert simulate(model, users=1e3, ticks=0)["trx"].num_rows == 0  # type: ignore[arg-type]
