"""Loading value schemas: the banking examples, clear errors for bad files, field descriptions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.core.types import ValueType
from connector.errors import UserError
from connector.model.avro import (
    field_specs,
    load_schema,
    load_schemas,
    parse_schema_text,
    schema_from_dict,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def record(*fields: dict[str, Any], name: str = "R") -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": "t", "fields": list(fields)}


def _spelling(t: ValueType | None) -> str:
    assert t is not None
    return t.spelling


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_banking_schemas_load_by_stem_and_full_name() -> None:
    """The banking example's four schemas load, findable by file stem and by record full name."""
    catalog = load_schemas(SCHEMAS)
    for stem in ("clickstream", "trx", "balance", "loan"):
        assert stem in catalog
        s = catalog.get(stem)
        assert s.fullname == f"io.dogeconnect.banking.{stem.capitalize()}"
        assert catalog.get(s.fullname) is s
        assert s.fields[0].name == "user_id"
        last = s.fields[-1]
        assert (last.name, last.value_type, last.avro_type, last.logical_type) == (
            "timestamp", ValueType.TIMESTAMP, "long", "timestamp-millis")


def test_banking_field_types() -> None:
    """Banking fields carry the expression types the model fills them with."""
    catalog = load_schemas(SCHEMAS)
    types = {s.name: [(f.name, _spelling(f.value_type)) for f in s.fields] for s in catalog
             if s.name in ("clickstream", "trx", "balance", "loan")}
    assert types["clickstream"] == [
        ("user_id", "string"),
        ("event", "string"),
        ("timestamp", "timestamp"),
    ]
    assert types["trx"] == [("user_id", "string"), ("amount", "long"), ("timestamp", "timestamp")]
    assert types["balance"] == [
        ("user_id", "string"),
        ("balance", "long"),
        ("timestamp", "timestamp"),
    ]
    assert types["loan"] == [("user_id", "string"), ("loan", "long"), ("timestamp", "timestamp")]


def test_unknown_schema_lists_known_ones() -> None:
    """Asking for a schema that does not exist names the ones that do."""
    with pytest.raises(
        UserError, match=r"unknown schema 'nope'.*known schemas: .*balance, clickstream"
    ):
        load_schemas(SCHEMAS).get("nope")


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    """A schema file with broken JSON gives an error naming the file and the line."""
    path = write(tmp_path, "broken.avsc", '{\n  "type": "record",\n  "name": "X",,\n}')
    with pytest.raises(UserError) as e:
        load_schema(path)
    (problem,) = e.value.problems
    assert problem.file == str(path) and problem.line == 3
    assert "invalid JSON" in str(e.value) and "broken.avsc:3" in str(e.value)


def test_invalid_avro_names_file(tmp_path: Path) -> None:
    """JSON that is not a valid Avro schema (unknown type) is reported with the file name."""
    path = write(tmp_path, "bad.avsc", record({"name": "a", "type": "no.such.Type"}))
    with pytest.raises(UserError, match=r"bad\.avsc: invalid Avro schema: .*no\.such\.Type"):
        load_schema(path)


def test_top_level_must_be_record(tmp_path: Path) -> None:
    """A value schema that is not a record is refused with a hint of what is expected."""
    path = write(tmp_path, "prim.avsc", '"string"')
    with pytest.raises(UserError, match="must be an Avro record"):
        load_schema(path)


@pytest.mark.parametrize(
    ("field_type", "avro_type", "value_type"),
    [
        ({"type": "array", "items": "long"}, "array", None),
        ({"type": "map", "values": "long"}, "map", None),
        ({"type": "fixed", "name": "F", "size": 4}, "fixed", ValueType.STRING),
        (["null", "long", "string"], "union", None),
        (["long", "string"], "union", None),
        ({"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}, "bytes",
         ValueType.DOUBLE),
        (record({"name": "x", "type": "long"}, name="Inner"), "record", None),
        ("null", "null", None),
    ],
)
def test_every_valid_type_is_accepted(tmp_path: Path, field_type: Any, avro_type: str,
                                      value_type: ValueType | None) -> None:
    """Nested records, arrays, maps, unions, fixed, decimals load: no valid schema is refused."""
    path = write(tmp_path, "x.avsc", record({"name": "amount", "type": field_type}))
    (f,) = load_schema(path).fields
    assert (f.name, f.avro_type, f.value_type) == ("amount", avro_type, value_type)


def test_directory_errors_are_collected(tmp_path: Path) -> None:
    """Every bad file of a schema directory is reported at once, not just the first one."""
    write(tmp_path, "a.avsc", "{")
    write(tmp_path, "b.avsc", record({"name": "x", "type": {"type": "array", "items": "nope"}}))
    write(tmp_path, "c.avsc", record({"name": "x", "type": "long"}))
    with pytest.raises(UserError) as e:
        load_schemas(tmp_path)
    assert sorted(Path(p.file or "").name for p in e.value.problems) == ["a.avsc", "b.avsc"]


def test_duplicate_full_names_are_refused(tmp_path: Path) -> None:
    """Two files defining the same record full name are an error (subjects would collide)."""
    write(tmp_path, "one.avsc", record({"name": "x", "type": "long"}))
    write(tmp_path, "two.avsc", record({"name": "y", "type": "long"}))
    with pytest.raises(UserError, match=r"also defined in one\.avsc"):
        load_schemas(tmp_path)


def test_missing_directory(tmp_path: Path) -> None:
    """A schema directory that does not exist is a user error naming it."""
    with pytest.raises(UserError, match="does not exist"):
        load_schemas(tmp_path / "nope")


def test_field_specs_cover_supported_types() -> None:
    """field_specs maps each supported field to its expression type, nullability and default."""
    schema = record(
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long", "default": 7},
        {"name": "f", "type": "float"},
        {"name": "d", "type": ["null", "double"], "default": None},
        {"name": "b", "type": "boolean"},
        {"name": "s", "type": ["string", "null"], "default": "x"},
        {"name": "raw", "type": "bytes"},
        {"name": "e", "type": {"type": "enum", "name": "Plan", "symbols": ["FREE", "PAID"]}},
        {"name": "e2", "type": ["null", "t.Plan"]},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "us", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "odd", "type": {"type": "long", "logicalType": "made-up"}},
    )
    specs = {f.name: f for f in field_specs(schema)}
    assert [(_spelling(f.value_type), f.avro_type) for f in specs.values()] == [
        ("long", "int"), ("long", "long"), ("double", "float"), ("double", "double"),
        ("boolean", "boolean"), ("string", "string"), ("string", "bytes"), ("string", "enum"),
        ("string", "enum"), ("timestamp", "long"), ("timestamp", "long"), ("long", "int"),
        ("string", "string"), ("long", "long"),
    ]  # fmt: skip
    assert specs["l"].has_default and specs["l"].default == 7
    assert not specs["i"].has_default
    assert specs["d"].nullable and specs["d"].null_branch == 0 and specs["d"].has_default
    assert specs["s"].nullable and specs["s"].null_branch == 1 and specs["s"].default == "x"
    assert specs["e"].symbols == ("FREE", "PAID") and specs["e2"].symbols == ("FREE", "PAID")
    assert specs["ts"].units_per_ms == 1 and specs["us"].units_per_ms == 1000
    assert specs["us"].logical_type == "timestamp-micros"
    assert specs["day"].logical_type == "date"
    assert specs["odd"].logical_type is None  # unknown logical types are ignored, per the spec


def test_logical_type_on_wrong_base_is_ignored(tmp_path: Path) -> None:
    """timestamp-millis on an int is ignored, as Avro says of invalid logical types: an int."""
    path = write(
        tmp_path,
        "t.avsc",
        record({"name": "ts", "type": {"type": "int", "logicalType": "timestamp-millis"}}),
    )
    (f,) = load_schema(path).fields
    assert (f.avro_type, f.logical_type, f.value_type) == ("int", None, ValueType.LONG)


def test_inline_schema_from_dict_and_text() -> None:
    """Schemas given inline (model files) load like files, named after the given source."""
    data = record({"name": "x", "type": "long"}, name="Inline")
    s = schema_from_dict(data, "models/m.yaml", name="events")
    assert (s.name, s.fullname, _spelling(s.fields[0].value_type)) == ("events", "t.Inline", "long")
    assert json.loads(s.schema_str) == data
    assert parse_schema_text(json.dumps(data), "x/events.avsc").name == "events"
    with pytest.raises(UserError, match=r"models/m\.yaml: a record needs a \"fields\" list"):
        schema_from_dict({"type": "record", "name": "X"}, "models/m.yaml")
