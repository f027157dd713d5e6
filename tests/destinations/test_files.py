"""Local files in every format: Avro with codecs, JSON lines, Parquet; read back by fastavro,
pyarrow and DuckDB; kill -9 and resume gives the uninterrupted run's bytes (rows for Parquet)."""

from __future__ import annotations

import base64
import filecmp
import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import fastavro
import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from connector.cli import run  # noqa: F401  (registers the command)
from connector.cli.main import cli
from connector.core.batch import EventColumns
from connector.destinations.local import jsonl_lines
from connector.model.avro import schema_from_dict
from tests.cli.killing import DOGE, kill_mid_run
from tests.helpers import ROOT, banking_model, write_connector, write_model
from tests.serde.test_encoder import ALL_TYPES, random_columns, rows

TOPICS = ("balance", "clickstream", "loan", "trx")


def _connector(tmp: Path, ticks: int = 200, users: int = 3000, **extra: object) -> Path:
    model = write_model(tmp, banking_model())
    return write_connector(tmp, model, users=users, ticks=ticks, shards=4, seed=11, **extra)


def _run(connector: Path, out: Path, *options: str) -> None:
    result = CliRunner().invoke(cli, ["run", str(connector), "-q", "-o", str(out), *options])
    assert result.exit_code == 0, result.output


def _avro_records(path: Path) -> list[Any]:
    with open(path, "rb") as f:
        return list(fastavro.reader(f))


def _parquet_rows(out: Path, topic: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = pq.read_table(out / f"{topic}.parquet").to_pylist()
    return rows


def test_jsonl_is_what_json_dumps_writes() -> None:
    """JSON lines are json.dumps of each record (bytes as base64), every type, nulls included."""
    schema = schema_from_dict(ALL_TYPES)
    columns = random_columns(300, 3)
    events = EventColumns("t", "x", np.arange(300), np.zeros(300, np.int64), columns)
    want = []
    for row in rows(columns, 300):
        record = {k: base64.b64encode(v).decode() if isinstance(v, bytes) else v
                  for k, v in row.items()}
        want.append(json.dumps(record, separators=(",", ":")) + "\n")
    assert jsonl_lines(events, schema).decode() == "".join(want)


@pytest.mark.parametrize("codec", ["deflate", "snappy", "zstd"])
def test_avro_codecs_read_back_with_fastavro(tmp_path: Path, codec: str) -> None:
    """Compressed container files hold the uncompressed run's records, by fastavro, and name
    their codec in the header."""
    connector = _connector(tmp_path)
    _run(connector, tmp_path / "plain")
    _run(connector, tmp_path / codec, "--codec", codec)
    for topic in TOPICS:
        with open(tmp_path / codec / f"{topic}.avro", "rb") as f:
            reader = fastavro.reader(f)
            assert reader.codec == ("zstandard" if codec == "zstd" else codec)
            records = list(reader)
        assert records and records == _avro_records(tmp_path / "plain" / f"{topic}.avro")
    smaller = (tmp_path / codec / "clickstream.avro").stat().st_size
    assert smaller < (tmp_path / "plain" / "clickstream.avro").stat().st_size


def test_parquet_reads_back_with_pyarrow_and_duckdb(tmp_path: Path) -> None:
    """Parquet datasets hold the Avro run's records, typed (timestamps as timestamps), one row
    group per part, and DuckDB reads them."""
    connector = _connector(tmp_path, transaction_boundary="ticks", transaction_boundary_ticks=50)
    _run(connector, tmp_path / "avro")
    _run(connector, tmp_path / "pq", "--format", "parquet", "--codec", "zstd")
    for topic in TOPICS:
        want = _avro_records(tmp_path / "avro" / f"{topic}.avro")
        assert _parquet_rows(tmp_path / "pq", topic) == want
        parts = sorted((tmp_path / "pq" / f"{topic}.parquet").iterdir())
        assert len(parts) == 4  # 200 ticks, one part per commit of 50 ticks
        assert all(pq.ParquetFile(p).num_row_groups == 1 for p in parts)
    table = pq.read_table(tmp_path / "pq" / "balance.parquet")
    assert str(table.schema.field("timestamp").type) == "timestamp[ms, tz=UTC]"
    glob = str(tmp_path / "pq" / "balance.parquet" / "*.parquet")
    count = duckdb.execute(f"select count(*) from read_parquet('{glob}')").fetchall()[0][0]
    assert count == table.num_rows


def test_resume_refuses_another_codec(tmp_path: Path) -> None:
    """A directory written with one codec is not continued with another."""
    connector = _connector(tmp_path, ticks=20)
    _run(connector, tmp_path / "o", "--codec", "zstd", "--ticks", "10")
    result = CliRunner().invoke(cli, ["run", str(connector), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--codec zstd" in result.output


def test_jsonl_takes_no_codec(tmp_path: Path) -> None:
    """--codec with JSON lines is refused with the reason."""
    result = CliRunner().invoke(cli, ["run", str(_connector(tmp_path)), "-o", str(tmp_path / "o"),
                                      "--format", "jsonl", "--codec", "zstd"])
    assert result.exit_code == 2 and "does not apply to jsonl" in result.output


def _same(fmt: str, a: Path, b: Path) -> None:
    """Byte-identical files (Avro, JSON lines) or identical rows (Parquet)."""
    for topic in TOPICS:
        if fmt == "parquet":
            assert _parquet_rows(a, topic) == _parquet_rows(b, topic), topic
        else:
            assert filecmp.cmp(a / f"{topic}.{fmt}", b / f"{topic}.{fmt}", shallow=False), topic


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "codec"), [("avro", "zstd"), ("avro", "snappy"),
                                            ("jsonl", "null"), ("parquet", "snappy")])
def test_kill_9_at_random_moments_then_resume(tmp_path: Path, fmt: str, codec: str) -> None:
    """kill -9 of `doge run` at random moments, then a resume: byte-identical files (Avro,
    JSON lines) or identical rows (Parquet) to an uninterrupted run, and no torn file."""
    connector = _connector(tmp_path, ticks=1200, users=20000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    options = ["--format", fmt, "--codec", codec]
    subprocess.run([*DOGE, "run", str(connector), "-q", "-o", str(tmp_path / "ref"), *options],
                   check=True, env=env, capture_output=True)
    part = tmp_path / "part"
    offsets_file = part / "_offsets.json"
    rng = random.Random(f"{fmt}-{codec}")
    kill_mid_run(connector, part, env, tuple(rng.uniform(0.0, 0.8) for _ in range(3)),
                 tuple(options))
    offsets = json.loads(offsets_file.read_text())
    assert 0 < offsets["shards"]["0"]["next_tick"] < 1200  # really interrupted mid-run
    if fmt == "parquet":  # whatever a kill left, every part file present is whole
        for path in part.glob("*.parquet/*.parquet"):
            pq.ParquetFile(path)
    subprocess.run([*DOGE, "run", str(connector), "-q", "-o", str(part), *options], check=True,
                   env=env, capture_output=True)
    _same(fmt, tmp_path / "ref", part)


def test_reset_removes_parquet_parts(tmp_path: Path) -> None:
    """--reset starts a Parquet directory over: the old parts go, the new run's rows remain."""
    connector = _connector(tmp_path, ticks=20)
    out = tmp_path / "o"
    _run(connector, out, "--format", "parquet", "--ticks", "10")
    _run(connector, out, "--format", "parquet", "--reset")
    _run(connector, tmp_path / "ref", "--format", "parquet")
    for topic in TOPICS:
        assert _parquet_rows(out, topic) == _parquet_rows(tmp_path / "ref", topic)
