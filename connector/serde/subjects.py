"""Confluent's subject name strategies: which registry subject a topic's schema goes under."""

from __future__ import annotations

import enum

from connector.errors import UserError

_JAVA_PACKAGE = "io.confluent.kafka.serializers.subject."


class SubjectNameStrategy(enum.Enum):
    """Confluent's subject naming strategies (the Java class names are accepted in config)."""

    TOPIC = "TopicNameStrategy"  # <topic>-value / <topic>-key
    RECORD = "RecordNameStrategy"  # <record full name>
    TOPIC_RECORD = "TopicRecordNameStrategy"  # <topic>-<record full name>


def parse_strategy(text: str) -> SubjectNameStrategy:
    """A strategy from config: `TopicNameStrategy`, its Java class name, or `topic`/`record`/..."""
    name = text.strip().removeprefix(_JAVA_PACKAGE).lower().replace("_", "").replace("-", "")
    for s in SubjectNameStrategy:
        if name in (s.value.lower(), s.value.lower().removesuffix("namestrategy")):
            return s
    choices = ", ".join(s.value for s in SubjectNameStrategy)
    raise UserError(f"unknown subject name strategy {text!r}; expected one of: {choices}")


def subject_name(
    strategy: SubjectNameStrategy, topic: str, record_name: str, *, key: bool = False
) -> str:
    """The subject for a schema; `record_name` is its full name (type name for primitives)."""
    if strategy is SubjectNameStrategy.TOPIC:
        return f"{topic}-{'key' if key else 'value'}"
    if strategy is SubjectNameStrategy.RECORD:
        return record_name
    return f"{topic}-{record_name}"


__all__ = ["SubjectNameStrategy", "parse_strategy", "subject_name"]
