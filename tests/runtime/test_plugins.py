"""Plugin functions: installed by the operator, callable from models, never from config text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli.app import cli
from connector.errors import UserError
from connector.runtime.plugins import load_plugins
from tests.helpers import banking_model, write_connector, write_model


def _model_with_plugins(tmp: Path) -> Path:
    model = banking_model()
    login = next(t for t in model["transitions"] if t["name"] == "login")
    login["emit"] = [{"topic": "clickstream", "fields": {"event": "tier(jittered(balance))"}}]
    return write_model(tmp, model)


def test_plugin_functions_are_callable_from_models(tmp_path: Path) -> None:
    """`--plugin module:attr` makes its functions available to the model's expressions."""
    connector = write_connector(tmp_path, _model_with_plugins(tmp_path), users=500, ticks=300)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(connector), "-o", str(out), "--format", "jsonl",
                                      "--plugin", "tests.plugin_example:FUNCTIONS"])
    assert result.exit_code == 0, result.output
    events = {json.loads(line)["event"] for line in (out / "clickstream.jsonl").open()}
    assert "gold" in events or "basic" in events


def test_unknown_function_without_the_plugin(tmp_path: Path) -> None:
    """Without the plugin installed, the model's call is a validation error naming the function."""
    result = CliRunner().invoke(cli, ["validate", str(_model_with_plugins(tmp_path))])
    assert result.exit_code == 2
    assert "tier" in result.output


def test_bad_plugin_path_is_a_clear_error() -> None:
    """A plugin path that cannot be imported fails with a message naming it."""
    with pytest.raises(UserError, match="no_such_module"):
        load_plugins(["no_such_module:X"], include_entry_points=False)


@pytest.mark.parametrize("path", ["::x", ".x:y", "a..b:c", ":f", "os.:f"])
def test_plugin_path_with_an_empty_or_relative_module_is_a_clear_error(path: str) -> None:
    """An empty or relative module name (import_module's ValueError/TypeError, found by the fuzz
    campaign) is refused naming the plugin and the expected shape."""
    with pytest.raises(UserError, match=r"expected 'module:attribute' \(a dotted module name\)"):
        load_plugins([path], include_entry_points=False)
