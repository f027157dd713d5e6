"""A JSON Schema or .proto the user gives for a topic: checked against the record, and protobuf
records laid out as the given file says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from connector.errors import UserError
from connector.model.avro import schema_from_dict
from connector.serde.formats import Format, SchemaType
from connector.serde.protobuf import ProtobufEncoder
from connector.serde.values import given_schema
from tests.serde.protoc import compiled

RECORD = schema_from_dict({"type": "record", "name": "Loan", "namespace": "given.test", "fields": [
    {"name": "user_id", "type": "string"}, {"name": "amount", "type": "long"},
    {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["CAR", "HOUSE"]}},
    {"name": "note", "type": ["null", "string"], "default": None}]})
# Other numbers, another order, enum symbols numbered otherwise, a field the record lacks.
GIVEN = """syntax = "proto3";
package given.test;
// the team's own message
message Loan {
  enum Kind { UNKNOWN = 0; HOUSE = 7; CAR = 3; }
  optional string note = 2;
  int64 amount = 5;
  string user_id = 9;
  Kind kind = 11;
  double extra = 12;
}
"""


def test_given_proto_lays_out_records_as_protoc_does(tmp_path: Path) -> None:
    """Records follow the given file's numbers and enum values: protobuf's own serializer of
    the class protoc generates from that file writes the same bytes."""
    path = tmp_path / "loan.proto"
    path.write_text(GIVEN)
    schema, layout = given_schema(Format.PROTOBUF, RECORD, path)
    assert schema.type is SchemaType.PROTOBUF and schema.name == "given.test.Loan"
    assert schema.text == GIVEN
    cls = compiled(GIVEN, "Loan", "given_loan")
    n = 200
    rng = np.random.default_rng(3)
    columns = {"user_id": np.array([str(i) for i in range(n)], dtype=object),
               "amount": rng.integers(-5, 5, n),
               "kind": np.array(["CAR", "HOUSE"] * (n // 2), dtype=object),
               "note": np.array([None if i % 3 else f"n{i}" for i in range(n)], dtype=object)}
    batch = ProtobufEncoder(RECORD, layout=layout).encode(columns)
    for i, value in enumerate(batch):
        message = cls(user_id=str(i), amount=int(columns["amount"][i]),
                      kind=3 if i % 2 == 0 else 7)
        if columns["note"][i] is not None:
            message.note = columns["note"][i]
        assert value == message.SerializeToString(deterministic=True)


@pytest.mark.parametrize(("text", "problem"), [
    (GIVEN.replace("string user_id = 9;", ""), "no field 'user_id'"),
    (GIVEN.replace("int64 amount", "string amount"), "type string does not hold Avro long"),
    (GIVEN.replace("optional string note", "string note"), "must be 'optional'"),
    (GIVEN.replace("HOUSE = 7;", ""), "lacks the symbols ['HOUSE']"),
    ("syntax = 'proto3';", "no message")])
def test_given_proto_that_does_not_fit(tmp_path: Path, text: str, problem: str) -> None:
    """A .proto that cannot hold the record is refused naming the file, the field and why."""
    path = tmp_path / "loan.proto"
    path.write_text(text)
    with pytest.raises(UserError, match=problem.replace("[", r"\[").replace("]", r"\]")) as info:
        given_schema(Format.PROTOBUF, RECORD, path)
    assert info.value.problems[0].file == str(path)


def test_given_json_schema(tmp_path: Path) -> None:
    """A given JSON Schema is registered as written (its title names the record); one that
    requires a field the record lacks, or closes out one of its fields, is refused."""
    path = tmp_path / "loan.json"
    path.write_text('{"title": "team.Loan", "type": "object", "required": ["user_id"]}')
    schema, layout = given_schema(Format.JSON_SCHEMA, RECORD, path)
    assert (schema.type, schema.name, layout) == (SchemaType.JSON, "team.Loan", None)
    path.write_text('{"type": "object", "required": ["loan_id"]}')
    with pytest.raises(UserError, match="requires 'loan_id'"):
        given_schema(Format.JSON_SCHEMA, RECORD, path)
    path.write_text('{"type": "object", "additionalProperties": false, '
                    '"properties": {"user_id": {"type": "string"}}}')
    with pytest.raises(UserError, match="without the record's fields"):
        given_schema(Format.JSON_SCHEMA, RECORD, path)
    with pytest.raises(UserError, match="json-schema or protobuf"):
        given_schema(Format.AVRO, RECORD, path)
