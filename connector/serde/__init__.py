"""Serialization: Avro value schemas, columnar encoder, wire framing, keys, partitioning, registry.

The hot path is `RecordEncoder.encode` (columns in, framed records out) plus `KeySerializer.encode`
and `partitions`; everything in `registry` runs once at task start.
"""

from connector.serde.encoder import EncodedBatch, EncodeError, RecordEncoder, encode_columns
from connector.serde.keys import KeyFormat, KeySerializer, parse_key_format
from connector.serde.partitioner import murmur2, murmur2_many, partition, partitions
from connector.serde.registry import (
    RegisteredTopic,
    RegistryError,
    RegistryUnavailableError,
    RetryNotice,
    RetryPolicy,
    SchemaIncompatibleError,
    SchemaRegistry,
    SubjectNameStrategy,
    TopicSchemas,
    parse_strategy,
    register_all,
    registry_conf,
    subject_name,
)
from connector.serde.schemas import (
    FieldSpec,
    LoadedSchema,
    SchemaCatalog,
    UnsupportedSchemaError,
    field_specs,
    load_schema,
    load_schemas,
    parse_schema_text,
    schema_from_dict,
)
from connector.serde.wire import WireFormatError, frame, header, schema_id_of, unframe

__all__ = [
    "EncodeError",
    "EncodedBatch",
    "FieldSpec",
    "KeyFormat",
    "KeySerializer",
    "LoadedSchema",
    "RecordEncoder",
    "RegisteredTopic",
    "RegistryError",
    "RegistryUnavailableError",
    "RetryNotice",
    "RetryPolicy",
    "SchemaCatalog",
    "SchemaIncompatibleError",
    "SchemaRegistry",
    "SubjectNameStrategy",
    "TopicSchemas",
    "UnsupportedSchemaError",
    "WireFormatError",
    "encode_columns",
    "field_specs",
    "frame",
    "header",
    "load_schema",
    "load_schemas",
    "murmur2",
    "murmur2_many",
    "parse_key_format",
    "parse_schema_text",
    "parse_strategy",
    "partition",
    "partitions",
    "register_all",
    "registry_conf",
    "schema_from_dict",
    "schema_id_of",
    "subject_name",
    "unframe",
]
