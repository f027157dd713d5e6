"""Every registry format against the real registry: accepted, and evolved under BACKWARD."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from connector.model.avro import schema_from_dict
from connector.serde.formats import Format, RegistrySchema, SchemaType
from connector.serde.registry import (
    SchemaIncompatibleError,
    SchemaRegistry,
    TopicSchemas,
    register_all,
)
from connector.serde.subjects import SubjectNameStrategy, subject_name
from connector.serde.values import registry_schema

pytestmark = pytest.mark.integration
REGISTRY_FORMATS = [Format.AVRO, Format.JSON_SCHEMA, Format.PROTOBUF]


def _schema(fmt: Format, fields: list[dict[str, Any]]) -> RegistrySchema:
    """What a topic of this record registers in `fmt`."""
    record = schema_from_dict({"type": "record", "name": "Event", "namespace": "test.evolution",
                               "fields": fields})
    schema = registry_schema(fmt, record)
    assert schema is not None
    return schema


V1: list[dict[str, Any]] = [
    {"name": "user_id", "type": "string"}, {"name": "amount", "type": "long"},
    {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}}]
# A new nullable field with a default: readers of the new schema read old records.
V2: list[dict[str, Any]] = [*V1, {"name": "note", "type": ["null", "string"], "default": None}]
# A field's type changed: old records do not read under the new schema.
V3: list[dict[str, Any]] = [V1[0], {"name": "amount", "type": "string"}, V1[2]]


@pytest.mark.parametrize("fmt", REGISTRY_FORMATS, ids=str)
def test_evolution_under_backward(registry_url: str, fmt: Format) -> None:
    """v1 registers, a new nullable field is accepted as v2 under BACKWARD, and a changed field
    type is refused with the registry's reason (nothing would be produced)."""
    subject = f"evo-{fmt.value}-{uuid.uuid4().hex[:8]}-value"
    client = SchemaRegistryClient({"url": registry_url})
    v1, v2, v3 = (_schema(fmt, fields) for fields in (V1, V2, V3))
    with SchemaRegistry({"url": registry_url}) as registry:
        first = registry.register(subject, v1.text, schema_type=v1.type)
        client.set_compatibility(subject, "BACKWARD")
        second = registry.register(subject, v2.text, schema_type=v2.type)
        assert second != first
        latest = client.get_latest_version(subject)
        assert latest.schema.schema_type == (fmt.schema_type or SchemaType.AVRO).value
        assert latest.version == 2
        with pytest.raises(SchemaIncompatibleError):
            registry.register(subject, v3.text, schema_type=v3.type)


@pytest.mark.parametrize("fmt", [Format.JSON_SCHEMA, Format.PROTOBUF], ids=str)
@pytest.mark.parametrize("strategy", list(SubjectNameStrategy), ids=lambda s: s.value)
def test_subject_strategies_apply_to_every_format(registry_url: str, fmt: Format,
                                                  strategy: SubjectNameStrategy) -> None:
    """A JSON Schema or .proto lands under the subject the strategy names, like an Avro schema
    (the record's full name for RecordNameStrategy), with its own schema type."""
    topic = f"strategy-{uuid.uuid4().hex[:8]}"
    name = f"test.s{uuid.uuid4().hex[:8]}.Event"
    record = schema_from_dict({"type": "record", "name": name, "fields": V1})
    value = registry_schema(fmt, record)
    assert value is not None
    registered = register_all({"url": registry_url}, [TopicSchemas(topic, value)], strategy)
    subject = registered[topic].value_subject
    assert subject == subject_name(strategy, topic, name)
    latest = SchemaRegistryClient({"url": registry_url}).get_latest_version(subject)
    assert latest.schema.schema_type == value.type.value
    assert latest.schema_id == registered[topic].value_schema_id
