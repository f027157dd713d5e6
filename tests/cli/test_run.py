"""`doge run`, `doge validate` and `doge preview` as a user runs them."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
from pathlib import Path

import fastavro
from click.testing import CliRunner

from connector.cli.app import cli
from tests.cli.killing import DOGE, kill_mid_run
from tests.helpers import ROOT, banking_model, write_connector, write_model


def _connector(tmp: Path, ticks: int = 300, users: int = 3000, **extra: object) -> Path:
    model = write_model(tmp, banking_model())
    return write_connector(tmp, model, users=users, ticks=ticks, shards=4, seed=11, **extra)


def _same_tree(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.iterdir() if p.suffix in (".avro", ".jsonl"))
    assert names and names == sorted(p.name for p in b.iterdir() if p.suffix in (".avro", ".jsonl"))
    for name in names:
        assert filecmp.cmp(a / name, b / name, shallow=False), name


def test_run_writes_avro_container_files(tmp_path: Path) -> None:
    """`doge run` writes one Avro container file per topic, readable by fastavro."""
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(_connector(tmp_path)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with open(out / "clickstream.avro", "rb") as f:
        records: list[dict[str, object]] = [r for r in fastavro.reader(f) if isinstance(r, dict)]
    assert records and set(records[0]) == {"user_id", "event", "timestamp"}
    assert {r["event"] for r in records} <= {"login", "open_loan_screen", "close_loan_screen",
                                             "take_loan"}
    assert "events emitted per topic" in result.output


def test_run_is_reproducible(tmp_path: Path) -> None:
    """Two runs of one connector produce byte-identical files."""
    connector = _connector(tmp_path)
    for name in ("a", "b"):
        assert CliRunner().invoke(cli, ["run", str(connector), "-o",
                                        str(tmp_path / name)]).exit_code == 0
    _same_tree(tmp_path / "a", tmp_path / "b")


def test_interrupted_run_resumes_with_identical_output(tmp_path: Path) -> None:
    """A run stopped part-way and started again ends byte-identical to an uninterrupted run."""
    connector = _connector(tmp_path, transaction_boundary="ticks", transaction_boundary_ticks=7,
                           snapshot_interval_ticks=50)
    runner = CliRunner()
    assert runner.invoke(cli, ["run", str(connector), "-o", str(tmp_path / "ref")]).exit_code == 0
    part = tmp_path / "part"
    for stop_at in (33, 34, 120, 251):
        assert runner.invoke(cli, ["run", str(connector), "-o", str(part), "--ticks",
                                   str(stop_at)]).exit_code == 0
    result = runner.invoke(cli, ["run", str(connector), "-o", str(part)])
    assert result.exit_code == 0, result.output
    _same_tree(tmp_path / "ref", part)


def test_killed_run_resumes_with_identical_output(tmp_path: Path) -> None:
    """`kill -9` in the middle of `doge run`, then run again: the output is identical."""
    connector = _connector(tmp_path, ticks=1500, users=20000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([*DOGE, "run", str(connector), "-q", "-o", str(tmp_path / "ref")], check=True,
                   env=env, capture_output=True)
    part = tmp_path / "part"
    kill_mid_run(connector, part, env)
    offsets = json.loads((part / "_offsets.json").read_text())
    assert 0 < offsets["shards"]["0"]["next_tick"] < 1500  # really interrupted mid-run
    subprocess.run([*DOGE, "run", str(connector), "-q", "-o", str(part)], check=True, env=env,
                   capture_output=True)
    _same_tree(tmp_path / "ref", part)


def test_jsonl_to_stdout(tmp_path: Path) -> None:
    """`-o - --format jsonl` prints one JSON object per event with topic, key and value."""
    result = CliRunner().invoke(cli, ["run", str(_connector(tmp_path, ticks=100)), "-o", "-",
                                      "--format", "jsonl"])
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines
    assert {"topic", "key", "timestamp", "value"} == set(lines[0])
    assert lines[0]["value"]["user_id"] == lines[0]["key"]


def test_validate_reports_errors_with_exit_code_2(tmp_path: Path) -> None:
    """`doge validate` prints every error without a traceback and exits 2."""
    model = banking_model()
    model["transitions"][0]["from"] = "nowhere"
    model["transitions"][1]["chance"] = -3
    path = write_model(tmp_path, model)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert "unknown state 'nowhere'" in result.output
    assert "cannot be negative" in result.output
    assert "Traceback" not in result.output


def test_validate_accepts_the_examples() -> None:
    """Every example connector in config/ validates cleanly."""
    for path in sorted((ROOT / "config").glob("*.json")):
        result = CliRunner().invoke(cli, ["validate", str(path)])
        assert result.exit_code == 0, (path, result.output)


def test_unknown_connector_key_lists_known_keys(tmp_path: Path) -> None:
    """A typo in a connector key is an error naming the key, the key it probably meant, and
    listing the known ones."""
    connector = _connector(tmp_path, tick_msec=1000)
    result = CliRunner().invoke(cli, ["run", str(connector)])
    assert result.exit_code == 2
    assert "unknown key 'tick.msec' (did you mean 'tick.ms'?); known keys:" in result.output
    assert "tick.ms" in result.output


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    """A missing connector file gives a one-line error, exit 2, no traceback."""
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "file not found" in result.output and "Traceback" not in result.output


def test_preview_prints_a_table(tmp_path: Path) -> None:
    """`doge preview` shows the first events of the first users as a table."""
    result = CliRunner().invoke(cli, ["preview", str(_connector(tmp_path, ticks=2000)),
                                      "--users", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:5] == ["time", "user", "transition", "state", "topic"]
    assert len(lines) > 1
    assert all(line.split()[2] in ("0", "1", "2") for line in lines[1:])


def test_inline_model_as_json_string(tmp_path: Path) -> None:
    """A model given inline as JSON text (Connect config values are strings) is accepted."""
    model = banking_model()
    connector = write_connector(tmp_path, json.dumps(model), users=200, ticks=30)
    result = CliRunner().invoke(cli, ["run", str(connector), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output


def test_every_example_connector_runs(tmp_path: Path) -> None:
    """Each connector shipped in config/ runs on the local destination and emits events."""
    for path in sorted((ROOT / "config").glob("*.json")):
        out = tmp_path / path.stem
        result = CliRunner().invoke(cli, ["run", str(path), "-o", str(out), "--ticks", "120"])
        assert result.exit_code == 0, (path, result.output)
        assert any(f.stat().st_size > 200 for f in out.glob("*.avro")), path


def test_music_events_carry_session_ids(tmp_path: Path) -> None:
    """In the sessions example, page views inside a session carry its id (sessionization truth)."""
    out = tmp_path / "music"
    result = CliRunner().invoke(cli, ["run", str(ROOT / "config" / "music.json"), "-o", str(out),
                                      "--format", "jsonl", "--ticks", "240"])
    assert result.exit_code == 0, result.output
    views = [json.loads(line) for line in (out / "page_views.jsonl").open()]
    in_session = [v for v in views if v["page"] in ("next_song", "thumbs_up")]
    assert in_session and all(v["session_id"] and v["session_id"].startswith(v["user_id"] + "-")
                              for v in in_session)
