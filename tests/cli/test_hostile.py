"""`doge validate` and `doge run` on hostile input: exit code 2, one clear paragraph, no
traceback (inputs minimised from fuzzing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli import run, validate  # noqa: F401  (register the commands)
from connector.cli.main import cli
from connector.model import sizing
from tests.helpers import banking_model, write_connector, write_model


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_validate_deep_yaml(tmp_path: Path) -> None:
    """A model nested 600 levels deep: exit 2 with the depth limit named."""
    model = tmp_path / "deep.yaml"
    model.write_text("[" * 600 + "]" * 600)
    code, output = _invoke("validate", str(model))
    assert code == 2
    assert f"error: {model}:1: values are nested more than 64 levels deep" in output


def test_run_refuses_a_population_that_cannot_fit(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """users: 1e9 with 4 GiB available: `doge validate` and `doge run` refuse before any work."""
    monkeypatch.setattr(sizing, "available_memory", lambda: 4 * 2**30)
    connector = write_connector(tmp_path, write_model(tmp_path, banking_model()),
                                users=10**9, ticks=1)
    for command in ("validate", "run"):
        code, output = _invoke(command, str(connector), *(["-o", str(tmp_path / "o")]
                                                          if command == "run" else []))
        assert code == 2, output
        assert "config.users: 1,000,000,000 users need about" in output
        assert "more than the 3.2 GiB of memory available here; at most" in output
    assert not (tmp_path / "o").exists()


def test_run_stops_a_string_doubled_every_tick(tmp_path: Path) -> None:
    """`s = s + s` every tick: exit 2 naming the transition once past the string cap."""
    model = banking_model()
    model["attributes"]["note"] = {"type": "string", "initial": "'ab'"}
    model["transitions"][0]["update"] = ["note = note + note"]
    model["transitions"][0]["chance"] = 100
    for t in model["transitions"][1:]:
        if "offline" in ([t["from"]] if isinstance(t["from"], str) else t["from"]):
            t["chance"] = 0
    connector = write_connector(tmp_path, write_model(tmp_path, model), users=20, ticks=40)
    code, output = _invoke("run", str(connector), "-o", str(tmp_path / "o"), "-q")
    assert code == 2
    assert "transition 'income': a string would be longer than 65,536 characters" in output
