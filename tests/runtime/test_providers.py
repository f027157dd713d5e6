"""Connect's worker vocabulary: config providers (masked), listeners, JAAS, DOGE_* variables."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import structlog

from connector.errors import UserError
from connector.kafka.jaas import translate_jaas
from connector.logging import MASK, configure, scrub
from connector.runtime.providers import Providers, parse_resolved, providers_from
from connector.runtime.worker_config import worker_config_from
from connector.runtime.worker_vocabulary import Listener, env_properties, parse_listener
from tests.helpers import banking_model

BASE = {"bootstrap.servers": "k:9092"}
PROVIDERS = {"config.providers": "env,file",
             "config.providers.env.class":
                 "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
             "config.providers.file.class":
                 "org.apache.kafka.common.config.provider.FileConfigProvider"}


def test_env_and_file_references_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    """${env:NAME} and ${file:path:key} resolve in worker values; `raw` keeps the text."""
    secrets = tmp_path / "secrets.properties"
    secrets.write_text("registry.password=pa\\:ss-42\n")
    monkeypatch.setenv("DOGE_T_USER", "svc-user")
    raw = {**BASE, **PROVIDERS, "basic.auth.user.info":
           f"${{env:DOGE_T_USER}}:${{file:{secrets}:registry.password}}"}
    worker = worker_config_from(raw, "w.properties")
    assert worker.values["basic.auth.user.info"] == "svc-user:pa:ss-42"
    assert worker.unresolved["basic.auth.user.info"] == raw["basic.auth.user.info"]
    assert scrub("auth svc-user:pa:ss-42") == f"auth {MASK}:{MASK}"


def test_file_provider_is_held_to_allowed_paths(tmp_path: Path) -> None:
    """KIP-993: with allowed.paths set, a file elsewhere is refused, naming the reference."""
    outside = tmp_path / "elsewhere.properties"
    outside.write_text("k=v-secret\n")
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    raw = {**BASE, **PROVIDERS, "config.providers.file.param.allowed.paths": str(allowed),
           "client.id": f"${{file:{allowed}/../elsewhere.properties:k}}"}
    with pytest.raises(UserError) as info:
        worker_config_from(raw, "w.properties")
    text = str(info.value)
    assert "outside config.providers.file.param.allowed.paths" in text
    assert "v-secret" not in text


def test_missing_values_are_errors_that_name_the_key_never_a_value(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unset variable, a missing key, an undeclared provider: one problem each, naming the
    key; a resolved value that fails validation is masked in the message."""
    monkeypatch.delenv("DOGE_T_UNSET", raising=False)
    monkeypatch.setenv("DOGE_T_PORT", "not-a-port-secret")
    secrets = tmp_path / "s.properties"
    secrets.write_text("other=1\n")
    with pytest.raises(UserError) as info:
        worker_config_from({**BASE, **PROVIDERS, "client.id": "${env:DOGE_T_UNSET}",
                            "group.id": f"${{file:{secrets}:missing}}"}, "w.properties")
    assert [p.path for p in info.value.problems] == ["client.id", "group.id"]
    assert "DOGE_T_UNSET is not set" in str(info.value)
    with pytest.raises(UserError) as info:
        worker_config_from({**BASE, "client.id": "${env:X}"}, "w.properties")
    assert "add config.providers=env" in str(info.value)
    with pytest.raises(UserError) as info:
        worker_config_from({**BASE, **PROVIDERS, "rest.port": "${env:DOGE_T_PORT}"}, "w")
    assert "not-a-port-secret" not in str(info.value) and MASK in str(info.value)


def test_connector_config_resolves_in_memory_only(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A connector's ${env:...} resolves for parsing; the document itself keeps the text."""
    monkeypatch.setenv("DOGE_T_SEED", "918273645")
    config: dict[str, Any] = {"model": banking_model(), "users": "10",
                              "seed": "${env:DOGE_T_SEED}"}
    data = {"name": "c", "config": config}
    parsed = parse_resolved(data, None, tmp_path, providers_from(PROVIDERS, None))
    assert parsed.seed == 918273645
    assert config["seed"] == "${env:DOGE_T_SEED}"
    unknown = parse_resolved({"name": "c", "config": {**config, "seed": "7"}}, None,
                             tmp_path, Providers())
    assert unknown.seed == 7


def test_resolved_values_never_reach_the_log(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Every JSON log line masks resolved values, structlog's and the standard library's."""
    monkeypatch.setenv("DOGE_T_PASSWORD", "hunter2-secret")
    worker_config_from({**BASE, **PROVIDERS, "sasl.password": "${env:DOGE_T_PASSWORD}"}, None)
    configure("INFO", json=True)
    structlog.get_logger("connector.test").info("connecting", password="hunter2-secret")
    logging.getLogger("librdkafka").warning("auth failed for hunter2-secret")
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(MASK in json.dumps(json.loads(line)) for line in lines)
    assert not any("hunter2" in line for line in lines)


def test_listeners_and_advertised_address() -> None:
    """listeners=http://host:port sets the REST address; rest.advertised.* the worker id;
    an https-only listener is refused with what to do."""
    worker = worker_config_from({**BASE, "listeners": "http://0.0.0.0:8093",
                                 "rest.advertised.host.name": "doge-0.doge"}, None)
    assert worker.listener() == Listener("0.0.0.0", 8093)
    assert worker.advertised(8093) == "doge-0.doge:8093"
    assert parse_listener("http://:8083") == Listener("0.0.0.0", 8083)
    assert "TLS proxy" in str(parse_listener("https://h:8443"))
    with pytest.raises(UserError) as info:
        worker_config_from({**BASE, "listeners": "https://h:8443"}, "w.properties")
    assert info.value.problems[0].path == "listeners"


def test_jaas_becomes_librdkafka_keys() -> None:
    """PLAIN/SCRAM sasl.jaas.config -> sasl.username/sasl.password, sasl.mechanism kept;
    other login modules are refused without quoting the line."""
    jaas = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
            'username="KEY" password="p;w d";')
    worker = worker_config_from({**BASE, "sasl.mechanism": "PLAIN",
                                 "security.protocol": "SASL_SSL", "sasl.jaas.config": jaas}, None)
    client = worker.client("producer")
    assert client["sasl.username"] == "KEY" and client["sasl.password"] == "p;w d"
    assert client["sasl.mechanism"] == "PLAIN" and "sasl.jaas.config" not in client
    with pytest.raises(ValueError, match="no librdkafka equivalent"):
        translate_jaas('com.sun.security.auth.module.Krb5LoginModule required keyTab="x";')
    with pytest.raises(UserError) as info:
        worker_config_from({**BASE, "sasl.jaas.config":
                            "org.apache.kafka.common.security.scram.ScramLoginModule required "
                            'username="u";'}, None)
    assert "needs password" in str(info.value)


def test_environment_maps_onto_worker_keys() -> None:
    """DOGE_BOOTSTRAP_SERVERS -> bootstrap.servers, `__` -> `_`, `___` -> `-` (Confluent's)."""
    assert env_properties({"DOGE_BOOTSTRAP_SERVERS": "k:9092", "DOGE_A__B": "1",
                           "DOGE_X___Y_Z": "2", "OTHER": "3"}, "DOGE_") == {
        "bootstrap.servers": "k:9092", "a_b": "1", "x-y.z": "2"}


def test_connect_worker_keys_that_do_not_apply_are_warnings() -> None:
    """A Connect worker.properties loads: ignored keys give one warning each, not errors."""
    worker = worker_config_from({**BASE, "plugin.path": "/usr/share/java",
                                 "offset.flush.interval.ms": "10000",
                                 "key.converter.schemas.enable": "false",
                                 "status.storage.replication.factor": "1"}, "w.properties")
    assert sorted(p.path or "" for p in worker.warnings) == [
        "offset.flush.interval.ms", "plugin.path", "status.storage.replication.factor"]
