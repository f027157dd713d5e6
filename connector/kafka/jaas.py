"""Kafka's `sasl.jaas.config` (what Confluent Cloud hands out) in librdkafka's terms.

Java clients take `org.apache.kafka.common.security.plain.PlainLoginModule required
username="..." password="...";`; librdkafka knows no JAAS and wants `sasl.username` and
`sasl.password`. PLAIN and SCRAM login modules carry exactly those two; `sasl.mechanism` is
the same key in both worlds and is kept. Any other module (Kerberos, OAuth) has no such
translation and is refused with a line saying what to set instead.
"""

from __future__ import annotations

import shlex

MODULES = (
    "org.apache.kafka.common.security.plain.PlainLoginModule",
    "org.apache.kafka.common.security.scram.ScramLoginModule",
)
FLAGS = ("required", "requisite", "sufficient", "optional")


def translate_jaas(text: str) -> dict[str, str]:
    """`sasl.username` and `sasl.password` from a PLAIN or SCRAM JAAS line; ValueError saying
    what is wrong otherwise (never quoting the password)."""
    try:
        words = shlex.split(text.strip().rstrip(";").strip(), posix=True)
    except ValueError:
        raise ValueError("expected `<LoginModule> required username=\"...\" password=\"...\";` "
                         "(an unclosed quote)") from None
    if not words or words[0] not in MODULES:
        module = words[0] if words else ""
        raise ValueError(f"login module {module!r} has no librdkafka equivalent here: PLAIN and "
                         "SCRAM (PlainLoginModule, ScramLoginModule) translate to sasl.username "
                         "and sasl.password; for others set librdkafka's sasl.* keys directly")
    options = {}
    for word in words[1:]:
        if word in FLAGS:
            continue
        key, sep, value = word.partition("=")
        if not sep:
            raise ValueError(f"expected key=\"value\" options after the login module, got "
                             f"{key!r}")
        options[key] = value
    missing = [k for k in ("username", "password") if k not in options]
    if missing:
        raise ValueError(f"the login module needs {' and '.join(missing)}")
    return {"sasl.username": options["username"], "sasl.password": options["password"]}
