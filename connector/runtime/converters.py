"""Record formats in config: `value.format` / `key.format`, per topic, and Connect's converters.

A Connect user pastes `value.converter=io.confluent.connect.avro.AvroConverter` and its
`value.converter.schema.registry.url`; these map onto our formats (`serde.formats.Format`):

| converter class | format |
| --- | --- |
| io.confluent.connect.avro.AvroConverter | avro |
| io.confluent.connect.json.JsonSchemaConverter | json-schema |
| io.confluent.connect.protobuf.ProtobufConverter | protobuf |
| org.apache.kafka.connect.json.JsonConverter | json (`schemas.enable`, default true: envelope) |
| org.apache.kafka.connect.storage.StringConverter | string (keys) |
| org.apache.kafka.connect.converters.ByteArrayConverter, LongConverter | bytes (keys) |

Keys that Connect has but that mean nothing here (SMTs, error handling, header converters)
each get one line saying so (`inapplicable`), instead of the unknown-key list.
Connector settings override the worker's; a topic's own `topic.<topic>.value.format` overrides
both; without any, values are avro when a registry is configured and json otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import attrs

from connector.errors import UserError
from connector.runtime.configdef import ConfigPrefix
from connector.serde.formats import VALUE_FORMATS, Format, parse_format
from connector.serde.keys import KeyFormat, parse_key_format
from connector.serde.subjects import parse_strategy

Report = Callable[[str, str], None]  # (key, message)
# How the config tables (and the README) show the converter keys read here.
CONVERTER_PREFIXES = tuple(ConfigPrefix(
    f"{side}.converter", f"Connect's {side} converter class, mapped onto a {side} format (see "
    f"[Record formats](#record-formats)); sub-keys `{side}.converter.schemas.enable`, "
    f"`.schema.registry.url`, `.basic.auth.user.info`, `.basic.auth.credentials.source`, "
    f"`.{side}.subject.name.strategy`.") for side in ("key", "value"))

CONVERTERS: dict[str, Format] = {
    "io.confluent.connect.avro.AvroConverter": Format.AVRO,
    "io.confluent.connect.json.JsonSchemaConverter": Format.JSON_SCHEMA,
    "io.confluent.connect.protobuf.ProtobufConverter": Format.PROTOBUF,
    "org.apache.kafka.connect.json.JsonConverter": Format.JSON,
    "org.apache.kafka.connect.storage.StringConverter": Format.STRING,
    "org.apache.kafka.connect.converters.ByteArrayConverter": Format.BYTES,
    "org.apache.kafka.connect.converters.LongConverter": Format.BYTES,
}
# Converter sub-keys that carry the registry client's settings.
_REGISTRY_SUBKEYS = {"schema.registry.url": "url",
                     "basic.auth.user.info": "basic.auth.user.info",
                     "schema.registry.basic.auth.user.info": "basic.auth.user.info",
                     "basic.auth.credentials.source": "basic.auth.credentials.source"}
_ACCEPTED_SUBKEYS = ("schemas.enable", "auto.register.schemas", "key.subject.name.strategy",
                     "value.subject.name.strategy", *_REGISTRY_SUBKEYS)
TOPIC_FORMAT = re.compile(r"topic\.(?P<topic>.+)\.(?P<side>key|value)\.format\Z")
# A JSON Schema or .proto file given for a topic's values instead of the derived one.
TOPIC_SCHEMA = re.compile(r"topic\.(?P<topic>.+)\.value\.schema\Z")

DATAGEN = "io.confluent.kafka.connect.datagen.DatagenConnector"
# Connect's keys that do not apply, each with what to do instead (longest prefix first wins).
INAPPLICABLE: dict[str, str] = {
    "transforms": "single message transforms (SMTs) do not apply: shape records in the model "
                  "(emit fields, key:, topics) instead",
    "predicates": "SMT predicates do not apply: use a transition's condition in the model",
    "errors.": "Connect's error handling does not apply: doge never produces a record it cannot "
               "write (the model is checked before the first record) and retries the broker",
    "header.converter": "header converters do not apply: headers are written as UTF-8 text",
    "kafka.topic": "topics come from the model's emits (each emit names its topic); use "
                   "topic.prefix to prefix them",
    "quickstart": "a datagen quickstart is a model here: set model to a model file such as "
                  "config/banking.yaml",
    "schema.filename": "the record schema comes from the model (its topics' .avsc files): "
                       "set model",
    "schema.string": "the record schema comes from the model (its topics' .avsc files): set model",
    "schema.keyfield": "keys are the user id (key.format) or the model's key: expression",
    "max.interval": "the rate is set by users, tick.ms and pace (e.g. pace=realtime)",
    "iterations": "use ticks (how many ticks to simulate) to bound a run",
    "random.seed": "use seed",
    "internal.key.converter": "internal converters do not apply: offsets are stored as JSON",
    "internal.value.converter": "internal converters do not apply: offsets are stored as JSON",
    "plugin.path": "plugins are Python: name them with the worker's plugins key",
    "producer.interceptor.classes": "Java client interceptors do not apply: producer settings "
                                    "go in the worker config as producer.* (librdkafka names)",
    "producer.override": "per-connector client overrides do not apply: producer settings go "
                         "in the worker config as producer.* (librdkafka names)",
    "consumer.override": "per-connector client overrides do not apply: consumer settings go "
                         "in the worker config as consumer.* (librdkafka names)",
    "admin.override": "per-connector client overrides do not apply: admin settings go in the "
                      "worker config as admin.* (librdkafka names)",
    "offset.flush.interval.ms": "offsets are committed with every transaction",
}


def inapplicable(key: str) -> str | None:
    """The one line for a Connect key that does not apply here, or None."""
    for prefix in sorted(INAPPLICABLE, key=len, reverse=True):
        if key == prefix or key.startswith(prefix if prefix.endswith(".") else prefix + "."):
            return INAPPLICABLE[prefix]
    return None


def is_format_key(key: str) -> bool:
    """Whether `parse_formats` reads this key."""
    return key in ("value.format", "key.format") or key.startswith(
        ("value.converter", "key.converter")) or TOPIC_FORMAT.match(key) is not None \
        or TOPIC_SCHEMA.match(key) is not None


@attrs.frozen
class Formats:
    """What the config says about record formats (None: not said here)."""

    value: Format | None = None
    key: KeyFormat | None = None
    value_envelope: bool | None = None  # JsonConverter's schemas.enable
    key_envelope: bool | None = None
    registry: Mapping[str, str] = attrs.field(factory=dict, repr=False)  # secrets inside
    strategy: str | None = None  # value subject name strategy from converter sub-keys
    key_strategy: str | None = None
    topics: Mapping[str, tuple[Format | None, KeyFormat | None]] = attrs.field(factory=dict)
    schema_files: Mapping[str, str] = attrs.field(factory=dict)  # topic -> given schema file

    def over(self, base: Formats) -> Formats:
        """These settings, falling back to `base` (the worker's) where unset."""
        merged = {a.name: getattr(base, a.name) if getattr(self, a.name) is None
                  else getattr(self, a.name) for a in attrs.fields(Formats)}
        merged["registry"] = {**base.registry, **self.registry}
        merged["topics"] = {**base.topics, **self.topics}
        merged["schema_files"] = {**base.schema_files, **self.schema_files}
        return Formats(**merged)

    def value_format(self, topic: str, has_registry: bool) -> Format:
        """The format of a topic's values."""
        own = self.topics.get(topic, (None, None))[0]
        default = Format.AVRO if has_registry else Format.JSON
        return own or self.value or default

    def key_format(self, topic: str) -> KeyFormat:
        own = self.topics.get(topic, (None, None))[1]
        return own or self.key or KeyFormat.STRING

    def envelope(self, key: bool = False) -> bool:
        """JsonConverter's schemas.enable (Connect's default: true) when the converter named it."""
        flag = self.key_envelope if key else self.value_envelope
        return bool(flag)

    def check_topics(self, topics: list[str], report: Report) -> None:
        """Report per-topic settings naming a topic the model does not write."""
        for topic in {**self.topics, **self.schema_files}:
            if topic not in topics:
                report(f"topic.{topic}", f"the model writes no topic {topic!r}; its topics: "
                       f"{', '.join(sorted(topics))}")


@attrs.define
class _Side:
    """What the keys of one side (value or key) said, while reading them."""

    format: Format | KeyFormat | None = None
    envelope: bool | None = None
    strategy: str | None = None


def parse_formats(values: Mapping[str, str], report: Report) -> Formats:
    """Read format settings (format keys, converters and their sub-keys, per-topic formats)."""
    sides = {"value": _Side(), "key": _Side()}
    registry: dict[str, str] = {}
    topics: dict[str, tuple[Format | None, KeyFormat | None]] = {}
    schema_files: dict[str, str] = {}
    for key, text in values.items():
        given = TOPIC_SCHEMA.match(key)
        if given:
            schema_files[given["topic"]] = text
            continue
        match = TOPIC_FORMAT.match(key)
        if match:
            value_fmt, key_fmt = topics.get(match["topic"], (None, None))
            if match["side"] == "key":
                key_fmt = _key(_format(text, True, key, report))
            else:
                value_fmt = _value(_format(text, False, key, report), key, report)
            topics[match["topic"]] = (value_fmt, key_fmt)
            continue
        side_name, _, rest = key.partition(".")
        side = sides.get(side_name)
        if side is None:
            continue
        if rest == "format":
            side.format = _format(text, side_name == "key", key, report)
        elif rest == "converter":
            _converter(text, side_name, key, side, report)
        elif rest.startswith("converter."):
            _subkey(rest.removeprefix("converter."), text, side_name, key, side, registry,
                    report)
    value, keys = sides["value"], sides["key"]
    return Formats(value=_value(value.format, "value.converter", report), key=_key(keys.format),
                   value_envelope=value.envelope, key_envelope=keys.envelope,
                   registry=registry, strategy=value.strategy, key_strategy=keys.strategy,
                   topics=topics, schema_files=schema_files)


def _value(fmt: Format | KeyFormat | None, name: str, report: Report) -> Format | None:
    if fmt is None or (isinstance(fmt, Format) and fmt in VALUE_FORMATS):
        return fmt
    report(name, f"{fmt} values are not written here (a record is a struct): use "
           "org.apache.kafka.connect.json.JsonConverter or value.format=json")
    return None


def _format(text: str, key: bool, name: str, report: Report) -> Format | KeyFormat | None:
    try:
        return parse_key_format(text) if key else parse_format(text)
    except UserError as exc:
        report(name, exc.problems[0].message)
        return None


def _converter(text: str, side_name: str, name: str, side: _Side, report: Report) -> None:
    fmt = CONVERTERS.get(text.strip())
    if fmt is None:
        report(name, f"unknown converter {text!r}; doge maps these onto its formats: "
               f"{', '.join(sorted(c.rsplit('.', 1)[-1] for c in CONVERTERS))} "
               f"(or set {side_name}.format)")
        return
    side.format = fmt
    if fmt is Format.JSON and side.envelope is None:
        side.envelope = True  # JsonConverter's default: schemas.enable=true


def _subkey(sub: str, text: str, side_name: str, name: str, side: _Side,
            registry: dict[str, str], report: Report) -> None:
    if sub == "schemas.enable":
        flag = text.strip().lower()
        if flag not in ("true", "false"):
            report(name, f"expected true or false, got {text!r}")
            return
        side.envelope = flag == "true"
    elif sub in _REGISTRY_SUBKEYS:
        registry[_REGISTRY_SUBKEYS[sub]] = text
    elif sub.endswith("subject.name.strategy"):
        try:
            side.strategy = parse_strategy(text).value
        except UserError as exc:
            report(name, exc.problems[0].message)
    elif sub == "auto.register.schemas":
        if text.strip().lower() != "true":
            report(name, "doge always registers its schemas at task start (before producing); "
                   "remove this key")
    else:
        report(name, f"converter setting {sub!r} does not apply here (doge reads "
               f"{side_name}.converter.{', '.join(_ACCEPTED_SUBKEYS)})")


def _key(fmt: Format | KeyFormat | None) -> KeyFormat | None:
    """A converter's format as a key format (an Avro key is a long)."""
    if fmt is None or isinstance(fmt, KeyFormat):
        return fmt
    return KeyFormat.AVRO_LONG if fmt is Format.AVRO else KeyFormat(fmt.value)
