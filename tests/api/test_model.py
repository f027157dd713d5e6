"""The model builder: the same document as the YAML files, the same bytes, the same errors."""

from __future__ import annotations

import filecmp
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from connector.api import Model, UserError, run
from connector.cli import run as _run_command  # noqa: F401  (registers `doge run`)
from connector.cli.main import cli
from connector.engine.identity import run_fingerprint
from connector.engine.settings import SimulationSettings
from connector.model.source import load_file, parse_text
from connector.model.validate import load_model
from tests.api.examples import EXAMPLES
from tests.helpers import MODELS

HERE = Path(__file__).resolve()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_builder_gives_the_yaml_document(name: str) -> None:
    """Each example built in Python is its YAML file's document, with the same fingerprint."""
    built = EXAMPLES[name]()
    assert built.to_dict() == load_file(MODELS / f"{name}.yaml").data
    settings = SimulationSettings(1000, 8, 1, 60_000, 0)
    assert run_fingerprint(built._validated(), settings) == \
        run_fingerprint(load_model(MODELS / f"{name}.yaml"), settings)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_builder_commits_the_same_bytes_as_doge_run(name: str, tmp_path: Path) -> None:
    """run(builder model) writes the Avro files `doge run` writes for the YAML, byte for byte."""
    connector = tmp_path / "c.json"
    settings = {"users": "2000", "ticks": "120", "seed": "5", "shards": "4",
                "start.time": "2024-03-01T00:00:00Z", "tick.ms": "60000"}
    connector.write_text(json.dumps({"name": name, "config": {
        "model": str(MODELS / f"{name}.yaml"), **settings}}))
    cli_out, api_out = tmp_path / "cli", tmp_path / "api"
    result = CliRunner().invoke(cli, ["run", str(connector), "-o", str(cli_out), "-q"])
    assert result.exit_code == 0, result.output
    done = run(EXAMPLES[name](), api_out, users=2000, ticks=120, seed=5, shards=4,
               start="2024-03-01T00:00:00Z")
    assert done.next_tick == 120 and done.events > 0
    files = sorted(p.name for p in cli_out.glob("*.avro"))
    assert files and files == sorted(p.name for p in api_out.glob("*.avro"))
    for file in files:
        assert filecmp.cmp(cli_out / file, api_out / file, shallow=False), file


def test_to_yaml_reads_back_to_the_same_document(tmp_path: Path) -> None:
    """to_yaml() text parses back to the builder's data, and Model.load of it validates."""
    built = EXAMPLES["music"]()
    text = built.to_yaml()
    assert parse_text(text, None).data == built.to_dict()
    path = tmp_path / "models" / "music.yaml"
    path.parent.mkdir()
    path.write_text(text.replace("name: music", f"name: music\nschemas: {MODELS.parent.parent}"
                                 "/schemas"))
    assert Model.load(path).validate() == []


def _error(build: object) -> str:
    with pytest.raises(UserError) as caught:
        model = build() if callable(build) else build
        assert isinstance(model, Model)
        model.validate()
    return str(caught.value)


def test_bad_values_are_refused_where_they_are_given() -> None:
    """Values no model file can hold are refused at the call, naming the path and caller's line."""
    with pytest.raises(UserError) as caught:
        Model(["a"]).transition("t", "a", "a", chance=1, condition=lambda u: True)  # type: ignore[arg-type]
    message = str(caught.value)
    assert f"{HERE}:" in message and "transitions[0].condition" in message
    assert "a Python function cannot be part of a model" in message
    with pytest.raises(UserError, match=r"states: a set has no order"):
        Model({"a", "b"})  # type: ignore[arg-type]
    with pytest.raises(UserError, match=r"mapping keys must be strings"):
        Model(["a"], initial={1: 1.0})  # type: ignore[dict-item]
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(UserError, match="nested deeper than"):
        Model(["a"]).transition("t", "a", "a", chance=1, update=loop)
    with pytest.raises(UserError, match=r"attributes.x: duplicate key 'x'"):
        Model(["a"]).attribute("x", "long").attribute("x", "long")


def test_problems_are_the_yaml_problems_at_the_builder_lines() -> None:
    """Wrong types, unknown states, bad expressions: the validator's messages, builder lines."""
    m = Model("offline", initial="offline")
    m.attribute("balance", "long", initial="randint(0, 1000)")
    line = sys._getframe().f_lineno + 1
    m.transition("spend", "offline", "nowhere", chance="lots", condition="balance >= amount")
    message = _error(m)
    assert "states: expected a list, got the string 'offline'" in message
    assert f"{HERE}:{line}: transitions[0].chance: expected a number, got the string 'lots'" \
        in message
    m = Model(["a"])
    m.transition("t", "a", "b", chance=1, condition="balance >>= 3")
    message = _error(m)
    assert "transitions[0].to: transition 't': unknown state 'b'; known states: a" in message
    assert "transitions[0].condition:" in message and "balance >>= 3" in message
    with pytest.raises(UserError, match="chances out of state 'a' sum to 150 %"):
        Model(["a"]).transition("x", "a", "a", chance=100).transition(
            "y", "a", "a", chance=50).validate()


def test_numpy_numbers_are_plain_numbers() -> None:
    """numpy scalars (as a notebook computes them) are accepted like Python numbers."""
    m = Model(["a"]).transition("t", "a", "a", chance=np.float64(2.5))
    assert m.to_dict()["transitions"][0]["chance"] == 2.5
    assert m.validate() == []
