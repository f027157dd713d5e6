"""Schema registration at task start: subjects, schema ids, retries and clear failures.

A thin layer over confluent-kafka's `SchemaRegistryClient`, so it works with any registry speaking
the Confluent REST API (Confluent, Apicurio's ccompat API, Karapace, Redpanda). Registration is a
start-up step only: call `register_all` before the first transaction, never inside one, so an
incompatible schema stops the connector before a single record is produced.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import re
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import httpx

with warnings.catch_warnings():
    # confluent-kafka's OAuth helper imports a deprecated authlib module; not the user's concern.
    # authlib forces its warnings to "always" on import, so our filter must go in after that.
    with contextlib.suppress(ImportError):
        importlib.import_module("authlib.deprecate")
    warnings.filterwarnings("ignore", message=".*httpx module is deprecated.*")
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError

from connector.errors import Problem, UserError
from connector.model.avro import LoadedSchema
from connector.serde.formats import RegistrySchema, SchemaType
from connector.serde.subjects import SubjectNameStrategy, subject_name

# confluent-kafka's client uses httpx2 when installed (its [schemaregistry] extra brings it),
# else httpx: connection errors may come from either.
_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError,)
with contextlib.suppress(ImportError):
    import httpx2

    _TRANSPORT_ERRORS = (httpx.TransportError, httpx2.TransportError)
_CONNECTION_ERRORS: tuple[type[Exception], ...] = (*_TRANSPORT_ERRORS, OSError)

_RETRIABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
class RegistryError(UserError):
    """The registry refused a request in a way only the user can fix (auth, URL, invalid schema)."""

    def __init__(
        self, message: str, *, subject: str | None = None, status: int | None = None
    ) -> None:
        self.subject = subject
        self.status = status
        super().__init__([Problem(message=message, path=f"subject {subject}" if subject else None)])


class SchemaIncompatibleError(RegistryError):
    """The registry rejected a schema as incompatible with the subject's earlier versions (409)."""

    def __init__(self, subject: str, registry_message: str, schema_file: str | None = None) -> None:
        self.registry_message = registry_message
        self.schema_file = schema_file
        source = f" from {schema_file}" if schema_file else ""
        super().__init__(
            f"the schema{source} is incompatible with the versions already registered under "
            f"this subject, so nothing was produced. The registry said: {registry_message}. "
            "Change the schema compatibly (e.g. give new fields a default), or use a new "
            "topic or subject.",
            subject=subject,
            status=409,
        )


class RegistryUnavailableError(RegistryError):
    """The registry could not be reached (or kept failing) after every retry."""


@attrs.frozen
class RetryPolicy:
    """Exponential backoff for connection errors and 5xx/408/429 answers."""

    attempts: int = 6
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 10.0

    def backoff(self, attempt: int) -> float:
        """Delay after failed attempt number `attempt` (1-based)."""
        return float(min(self.max_backoff_s, self.initial_backoff_s * 2 ** (attempt - 1)))


@attrs.frozen
class RetryNotice:
    """One failed attempt that will be retried after `delay_s` (for logs and connector status)."""

    subject: str
    attempt: int
    attempts: int
    delay_s: float
    error: str


@attrs.frozen
class TopicSchemas:
    """What one topic needs registered: its value schema and, for registry keys, a key schema.

    An Avro `LoadedSchema` or Avro schema text (`'"long"'`) stands for its AVRO RegistrySchema.
    """

    topic: str
    value: LoadedSchema | RegistrySchema | None  # None: values need no registry (json)
    key_schema: str | RegistrySchema | None = None

    @property
    def value_schema(self) -> RegistrySchema | None:
        if isinstance(self.value, LoadedSchema):
            return RegistrySchema(SchemaType.AVRO, self.value.schema_str, self.value.fullname,
                                  str(self.value.path))
        return self.value

    @property
    def key(self) -> RegistrySchema | None:
        if isinstance(self.key_schema, str):
            return RegistrySchema(SchemaType.AVRO, self.key_schema, _schema_name(self.key_schema))
        return self.key_schema


@attrs.frozen
class RegisteredTopic:
    """The subjects and schema ids a topic's records are framed with."""

    topic: str
    value_subject: str | None
    value_schema_id: int | None
    key_subject: str | None = None
    key_schema_id: int | None = None


def registry_conf(worker_config: Mapping[str, Any],
                  overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """SchemaRegistryClient config from worker properties (`schema.registry.*` keys), with
    `overrides` (client keys: url, basic.auth.user.info) on top."""
    conf: dict[str, Any] = {}
    for key, value in worker_config.items():
        if key.startswith("schema.registry."):
            name = key.removeprefix("schema.registry.")
            conf[name] = value
    if "basic.auth.user.info" in worker_config:
        conf.setdefault("basic.auth.user.info", worker_config["basic.auth.user.info"])
    conf.update(overrides or {})
    # The Java-only switch saying where credentials come from; the Python client reads user.info.
    conf.pop("basic.auth.credentials.source", None)
    if "url" not in conf:
        raise UserError("schema.registry.url is not set; avro, json-schema and protobuf records "
                        "need a schema registry (json and string need none)")
    return conf


class SchemaRegistry:
    """Registers schemas with retry and turns registry refusals into clear user errors."""

    def __init__(
        self,
        conf: Mapping[str, Any] | None = None,
        *,
        client: SchemaRegistryClient | None = None,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[RetryNotice], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if client is None:
            if conf is None:
                raise ValueError("give the registry client config or a client")
            # Our loop retries (and reports each attempt); the client should fail fast.
            client_conf = {"max.retries": 0, **dict(conf)}
            try:
                client = SchemaRegistryClient(client_conf)
            except (ValueError, TypeError) as e:
                raise UserError(f"bad schema registry configuration: {e}") from e
        self.client = client
        self.url = _redact(str(conf.get("url", ""))) if conf is not None else "the configured URL"
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self._sleep = sleep

    def close(self) -> None:
        self.client.close()

    def unreachable(self) -> str | None:
        """Why the registry does not answer (one request, no retry), or None when it does."""
        try:
            self.client.get_subjects()
        except SchemaRegistryError:
            return None  # it answered, if only to refuse: it is there
        except Exception as exc:  # the transport's errors (httpx, or httpx2's own)
            return f"{type(exc).__name__}: {exc}"
        return None

    def __enter__(self) -> SchemaRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def register(self, subject: str, schema_str: str, *, schema_file: str | None = None,
                 schema_type: SchemaType = SchemaType.AVRO) -> int:
        """Register (or find) a schema under `subject`; its id. Start-up only."""
        schema = Schema(schema_str, schema_type.value)
        attempt = 0
        while True:
            attempt += 1
            try:
                return int(self.client.register_schema(subject, schema))
            except SchemaRegistryError as e:
                if e.http_status_code == 409:
                    raise SchemaIncompatibleError(subject, str(e.error_message), schema_file) from e
                if e.http_status_code not in _RETRIABLE_STATUS:
                    raise self._refused(subject, e) from e
                error = f"HTTP {e.http_status_code}: {e.error_message}"
            except _CONNECTION_ERRORS as e:
                error = f"{type(e).__name__}: {e}"
            if attempt >= self.retry.attempts:
                raise RegistryUnavailableError(
                    f"schema registry at {self.url} failed {attempt} times ({error}); check "
                    "schema.registry.url and that the registry is running",
                    subject=subject,
                )
            delay = self.retry.backoff(attempt)
            if self.on_retry is not None:
                self.on_retry(RetryNotice(subject, attempt, self.retry.attempts, delay, error))
            self._sleep(delay)

    def register_all(
        self,
        topics: Iterable[TopicSchemas],
        strategy: SubjectNameStrategy = SubjectNameStrategy.TOPIC,
        key_strategy: SubjectNameStrategy | None = None,
    ) -> dict[str, RegisteredTopic]:
        """Register every topic's value (and key) schema; topic -> subjects and ids. Start-up only.

        Never call this inside a producer transaction: a slow or failing registry must stop the
        connector before it produces, not hold a transaction open.
        """
        key_strategy = key_strategy or strategy
        out: dict[str, RegisteredTopic] = {}
        for t in topics:
            value = t.value_schema
            value_subject = value_id = None
            if value is not None:
                value_subject = subject_name(strategy, t.topic, value.name)
                value_id = self.register(value_subject, value.text, schema_file=value.file,
                                         schema_type=value.type)
            key_subject = key_id = None
            key = t.key
            if key is not None:
                key_subject = subject_name(key_strategy, t.topic, key.name, key=True)
                key_id = self.register(key_subject, key.text, schema_type=key.type)
            out[t.topic] = RegisteredTopic(t.topic, value_subject, value_id, key_subject, key_id)
        return out

    def _refused(self, subject: str, e: SchemaRegistryError) -> RegistryError:
        status, message = e.http_status_code, e.error_message
        if status in (401, 403):
            hint = "check basic.auth.user.info (user:password) and the registry's permissions"
        elif status == 404:
            hint = "check schema.registry.url (for Apicurio it ends with /apis/ccompat/v7)"
        elif status == 422:
            hint = "the registry considers the schema invalid"
        else:
            hint = "the registry refused the request"
        return RegistryError(
            f"schema registry at {self.url} answered HTTP {status}: {message}; {hint}",
            subject=subject,
            status=status,
        )


def register_all(
    conf: Mapping[str, Any],
    topics: Iterable[TopicSchemas],
    strategy: SubjectNameStrategy = SubjectNameStrategy.TOPIC,
    key_strategy: SubjectNameStrategy | None = None,
    *,
    retry: RetryPolicy | None = None,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> dict[str, RegisteredTopic]:
    """One-shot registration with a fresh client (task start-up, never inside a transaction)."""
    with SchemaRegistry(conf, retry=retry, on_retry=on_retry) as registry:
        return registry.register_all(topics, strategy, key_strategy)


def _schema_name(schema_str: str) -> str:
    """Full name of a named schema, type name of a primitive (as Confluent's AvroSchema.name())."""
    parsed = json.loads(schema_str)
    if isinstance(parsed, str):
        return parsed
    if isinstance(parsed, dict):
        name = str(parsed.get("name", parsed.get("type", "")))
        namespace = parsed.get("namespace")
        return f"{namespace}.{name}" if namespace and "." not in name else name
    raise UserError(f"key schema {schema_str!r} must be a primitive type name or a named type")


def _redact(url: str) -> str:
    """The URL(s) without any user:password, fit for error messages and logs."""
    return ",".join(re.sub(r"//[^/@]*@", "//***@", u.strip()) for u in url.split(","))
