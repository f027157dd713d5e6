"""The model JSON Schema: generated from the parser's table, published, and true to the parser."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from connector.model import format as fmt
from connector.model.jsonschema import model_schema, model_schema_text
from connector.model.source import load_file
from connector.model.validate import collect_problems
from tests.helpers import MODELS, ROOT

PUBLISHED = ROOT / "schemas" / "model.schema.json"


def test_published_schema_is_up_to_date() -> None:
    """schemas/model.schema.json is what the table generates (regenerate:
    `python -m connector.model.jsonschema > schemas/model.schema.json`)."""
    assert PUBLISHED.read_text() == model_schema_text()
    jsonschema.Draft202012Validator.check_schema(json.loads(PUBLISHED.read_text()))


@pytest.mark.parametrize("name", ["banking", "music", "iot", "shop", "banking-doge"])
def test_examples_conform_and_point_editors_at_the_schema(name: str) -> None:
    """Each example validates against the schema and names it on its first line, by a path
    that resolves to the published file."""
    path = MODELS / f"{name}.yaml"
    first = path.read_text().splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, first
    assert (path.parent / match.group(1)).resolve() == PUBLISHED.resolve()
    jsonschema.validate(yaml.safe_load(path.read_text()), model_schema())


def test_every_section_documents_every_key() -> None:
    """Completion and hover docs: every key of every section has a description."""
    schema = model_schema()
    sections = [schema, *schema["$defs"].values()]
    for section in sections:
        assert section["description"]
        assert all(p["description"] for p in section["properties"].values())
    assert set(schema["$defs"]) == {s.name for s in fmt.SECTIONS} - {"model"}


@pytest.mark.parametrize(("where", "patch"), [
    ("model", {"colour": "red"}),
    ("transition", {"chanse": 3}),
    ("population", {"user": 4}),
])
def test_parser_and_schema_refuse_the_same_unknown_keys(tmp_path: Path, where: str,
                                                        patch: dict[str, Any]) -> None:
    """A key the parser does not know is also one the schema rejects (one table for both)."""
    data: dict[str, Any] = yaml.safe_load((MODELS / "banking.yaml").read_text())
    data["schemas"] = str(ROOT / "schemas")
    target = {"model": data, "transition": data["transitions"][0],
              "population": data["population"]}[where]
    target.update(patch)
    with pytest.raises(jsonschema.ValidationError, match="Additional properties"):
        jsonschema.validate(data, model_schema())
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(data))
    problems = collect_problems(load_file(path), tmp_path)[1]
    key = next(iter(patch))
    assert any(f"unknown key '{key}'" in p.message for p in problems), problems
