"""Mistakes in value functions inside a model file: every one reported with file, line and path."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli import validate  # noqa: F401  (register the command)
from connector.cli.main import cli
from connector.errors import UserError
from connector.model.validate import load_model
from tests.helpers import model_file

BODY = {
    "states": ["idle"], "initial": "idle",
    "attributes": {
        "email": {"type": "string", "initial": "fake('emial')"},
        "name": {"type": "string", "initial": "fake('name', 'de_XX')"},
        "no": {"type": "long", "initial": "fake('email')"},
    },
    "transitions": [{
        "name": "go", "from": "idle", "to": "idle", "chance": 1,
        "vars": {"code": "regex('[A-Z]{2000}')"},
        "emit": [{"topic": "events", "fields": {"event": "format('{:d}', 1.5)"}}]}],
}


def test_every_value_function_mistake_names_file_line_and_path(tmp_path: Path) -> None:
    """Unknown kind and locale, a wrong result type, a bad regex and a bad format spec are all
    reported at once, each at its file, line and path."""
    path = model_file(tmp_path, BODY)
    with pytest.raises(UserError) as info:
        load_model(path)
    found = {p.path: p for p in info.value.errors}
    expected = {
        "attributes.email.initial": "unknown fake kind 'emial' (did you mean 'email'?)",
        "attributes.name.initial": "unknown locale 'de_XX' (locales of 'de': de, de_AT, de_CH",
        "attributes.no.initial": "expected a LONG expression",
        "transitions[0].vars.code": "regex(): repetition {2000} is over 1000",
        "transitions[0].emit[0].fields.event": "format(): spec 'd' does not apply to DOUBLE",
    }
    lines = path.read_text().splitlines()
    for where, message in expected.items():
        problem = found[where]
        assert message in problem.message, problem.message
        assert problem.file == str(path) and problem.line is not None
        assert where.split(".")[-1] in lines[problem.line - 1] or \
            where.split(".")[-2] in lines[problem.line - 1], (where, lines[problem.line - 1])


def test_doge_validate_prints_them_without_a_traceback(tmp_path: Path) -> None:
    """`doge validate` exits 2 with one line per mistake, file:line first."""
    path = model_file(tmp_path, BODY)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"{path}:" in result.output and "unknown fake kind 'emial'" in result.output
