"""One-line runs: a model file or a built-in quickstart run and preview without a connector."""

from __future__ import annotations

import json
from pathlib import Path

import fastavro
import pytest
from click.testing import CliRunner

from connector.cli.app import cli
from tests.helpers import banking_model, write_model


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_run_a_model_file_directly(tmp_path: Path) -> None:
    """`doge run MODEL.yaml` runs it with the given users, seed, start and tick (no connector)."""
    model = write_model(tmp_path, banking_model())
    out = tmp_path / "out"
    code, output = _invoke("run", str(model), "-o", str(out), "--users", "300", "--seed", "4",
                           "--start", "2024-05-01T00:00:00Z", "--tick", "PT30S", "--ticks", "40")
    assert code == 0, output
    assert "done: connector 'banking' at tick 40" in output
    with open(out / "clickstream.avro", "rb") as f:
        times = [int(r["timestamp"].timestamp() * 1000) for r in fastavro.reader(f)
                 if isinstance(r, dict)]
    start = 1_714_521_600_000
    assert times and all(start <= t < start + 40 * 30_000 and (t - start) % 30_000 == 0
                         for t in times)


def test_run_defaults_to_one_day_and_names_the_output_after_the_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model given alone runs one day's ticks into out/<model name>."""
    model = write_model(tmp_path, {**banking_model(), "name": "mybank"})
    monkeypatch.chdir(tmp_path)
    code, output = _invoke("run", str(model), "--users", "50", "--start", "2024-01-01T00:00:00Z")
    assert code == 0, output
    assert "at tick 1,440" in output
    assert (tmp_path / "out" / "mybank" / "_offsets.json").exists()


def test_quickstart_runs_by_name_and_is_listed(tmp_path: Path) -> None:
    """`doge quickstarts` lists the examples; `doge run banking` runs the packaged one."""
    code, output = _invoke("quickstarts")
    assert code == 0 and all(n in output for n in ("banking", "music", "iot"))
    assert "seed's banking example" in output
    code, output = _invoke("run", "banking", "-o", str(tmp_path / "b"), "--ticks", "30",
                           "--users", "200")
    assert code == 0, output
    assert (tmp_path / "b" / "clickstream.avro").stat().st_size > 100
    code, output = _invoke("preview", "music", "--show", "3")
    assert code == 0 and "session_id" in output, output


def test_finished_run_says_so_and_how_to_extend_it(tmp_path: Path) -> None:
    """Running a finished connector again explains how to extend or reset it (no empty table)."""
    model = write_model(tmp_path, banking_model())
    args = ["run", str(model), "-o", str(tmp_path / "o"), "--users", "100", "--ticks", "20",
            "--start", "2024-01-01T00:00:00Z"]
    assert _invoke(*args)[0] == 0
    code, output = _invoke(*args)
    assert code == 0
    assert "already finished: 20 ticks committed" in output
    assert "--ticks N (N > 20)" in output and "--reset" in output
    assert "events emitted per topic" not in output
    code, output = _invoke(*args[:-4], "--ticks", "30", *args[-2:])
    assert code == 0 and "resuming connector 'banking' at tick 20" in output


def test_reset_starts_over(tmp_path: Path) -> None:
    """--reset deletes an earlier run of the same output so another seed can start there."""
    model = write_model(tmp_path, banking_model())
    base = ["run", str(model), "--users", "200", "--ticks", "30", "--start",
            "2024-01-01T00:00:00Z"]
    assert _invoke(*base, "-o", str(tmp_path / "o"), "--seed", "1")[0] == 0
    code, output = _invoke(*base, "-o", str(tmp_path / "o"), "--seed", "2")
    assert code == 2 and "different model, seed or settings" in output
    assert "run the same command with --reset" in output
    assert _invoke(*base, "-o", str(tmp_path / "o"), "--seed", "2", "--reset")[0] == 0
    assert _invoke(*base, "-o", str(tmp_path / "fresh"), "--seed", "2")[0] == 0
    for name in ("clickstream.avro", "trx.avro", "_offsets.json"):
        a, b = (tmp_path / "o" / name).read_bytes(), (tmp_path / "fresh" / name).read_bytes()
        assert a == b, name


@pytest.mark.parametrize("args", [
    ["--tick", "0"], ["--tick", "abc"], ["--tick", "P1M"], ["--tick", "-5s"],
    ["--start", "99999-01-01"], ["--start", "yesterday"], ["--pace", "nan"], ["--pace", "-2"],
    ["--users", "-1"], ["--users", str(10**12)], ["--seed", "-3"], ["--ticks", "x"]])
@pytest.mark.parametrize("command", ["run", "preview", "analyze", "graph"])
def test_bad_options_are_clean_errors(tmp_path: Path, command: str, args: list[str]) -> None:
    """Every shared option refuses a bad value with a usage error (exit 2), no traceback."""
    code, output = _invoke(command, "banking", *args, *(["-o", str(tmp_path / "o")]
                                                        if command == "run" else []))
    assert code == 2, output
    assert "Error: Invalid value" in output


@pytest.mark.parametrize("command", ["run", "preview", "analyze", "graph", "validate"])
def test_hostile_model_files_are_clean_errors(tmp_path: Path, command: str) -> None:
    """A directory, binary garbage, invalid YAML, a list or a missing file: exit 2, a message."""
    cases = {"dir": tmp_path, "missing": tmp_path / "nope.yaml"}
    (tmp_path / "bin.yaml").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "bad.yaml").write_text("states: [a\n  - :")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    (tmp_path / "empty.json").write_text(json.dumps({"config": {}}))
    cases |= {n: tmp_path / f"{n}" for n in ("bin.yaml", "bad.yaml", "list.yaml", "empty.json")}
    for name, path in cases.items():
        result = CliRunner().invoke(cli, [command, str(path)])
        assert result.exit_code == 2, (name, result.output)
        assert "error" in result.output.lower() and "Traceback" not in result.output, name
        assert not isinstance(result.exception, Exception) or \
            isinstance(result.exception, SystemExit), (name, result.exception)
