"""The deployment files, checked statically (no Docker engine or cluster here): the Dockerfile
by hadolint, the compose file by compose-go (docker compose's own loader), the Helm chart by
`helm lint` and `helm template`, and what each configures by our own worker-config loader."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from connector.runtime.metrics import WorkerMetrics
from connector.runtime.properties import parse_properties
from connector.runtime.worker_config import worker_config_from
from connector.runtime.worker_vocabulary import env_properties
from tests.helpers import ROOT

DOCKER = ROOT / "docker"
CHART = ROOT / "helm" / "doge-connect"


def tool(script: str) -> str:
    """A checker built or installed by one of scripts/*.sh (cached under .cache/tools)."""
    if shutil.which("go") is None:
        pytest.skip("needs Go to build the checker from the Go module proxy")
    done = subprocess.run([str(ROOT / "scripts" / script)], capture_output=True, text=True,
                          timeout=1200, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_dockerfile_passes_hadolint() -> None:
    """hadolint finds nothing in docker/Dockerfile."""
    hadolint = shutil.which("hadolint") or str(Path(ROOT / ".venv/bin/hadolint"))
    done = subprocess.run([hadolint, str(DOCKER / "Dockerfile")], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_caches_dependencies_runs_as_non_root_and_checks_health() -> None:
    """Dependencies install before the sources are copied, the user is not root, the
    HEALTHCHECK calls /health, and DOGE_* variables configure the worker."""
    lines = [line.strip() for line in (DOCKER / "Dockerfile").read_text().splitlines()]
    copies = [i for i, line in enumerate(lines) if line.startswith("COPY")]
    install = next(i for i, line in enumerate(lines) if "pip install --no-cache-dir ." in line)
    assert lines[copies[0]].startswith("COPY setup.cfg pyproject.toml")
    assert copies[0] < install < next(i for i in copies if "connector" in lines[i])
    user = [line for line in lines if line.startswith("USER")]
    assert user and user[-1] not in ("USER root", "USER 0")
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert any("/health" in line for line in lines)
    assert '"--env-prefix", "DOGE_"' in "\n".join(lines)


def test_compose_file_loads_with_compose_go() -> None:
    """docker compose's loader accepts docker/docker-compose.yml (schema and references)."""
    done = subprocess.run([tool("compose-check.sh"), str(DOCKER / "docker-compose.yml")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.strip() == "ok", done.stdout + done.stderr


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())
    return data


def test_compose_runs_two_workers_a_ui_and_postgres() -> None:
    """Kafka (KRaft), the registry, PostgreSQL, two distributed doge workers whose DOGE_*
    environment makes a valid worker config, and kafbat's UI pointed at all of them."""
    services = _compose()["services"]
    assert {"kafka", "registry", "postgres", "doge-1", "doge-2", "kafka-ui"} <= set(services)
    assert "controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]
    image_file = parse_properties((DOCKER / "worker.properties").read_text(), "worker")
    # The image's models.dir is where the Dockerfile copies config/; here, that is config/.
    assert image_file["models.dir"] == "/app/config"
    assert "COPY config ./config" in (DOCKER / "Dockerfile").read_text()
    image_file["models.dir"] = str(ROOT / "config")
    ids = set()
    for name in ("doge-1", "doge-2"):
        env = {k: str(v) for k, v in services[name]["environment"].items()}
        worker = worker_config_from({**image_file, **env_properties(env, "DOGE_")}, name)
        assert worker.get("bootstrap.servers") == "kafka:9092"
        ids.add(worker.advertised(8083))
    assert ids == {"doge-1:8083", "doge-2:8083"}
    ui = services["kafka-ui"]["environment"]
    assert "kafbat/kafka-ui" in services["kafka-ui"]["image"]
    assert ui["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"] == "kafka:9092"
    assert ui["KAFKA_CLUSTERS_0_SCHEMAREGISTRY"].startswith("http://registry:8080")
    assert ui["KAFKA_CLUSTERS_0_KAFKACONNECT_0_ADDRESS"] == "http://doge-1:8083"


def _render(*sets: str) -> list[dict[str, Any]]:
    helm = tool("helm.sh")
    args = [helm, "template", "t", str(CHART)]
    for s in sets:
        args += ["--set", s]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True)
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def test_helm_chart_lints() -> None:
    """`helm lint --strict` accepts the chart."""
    done = subprocess.run([tool("helm.sh"), "lint", "--strict", str(CHART)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_helm_chart_renders_workers_probes_secrets_and_monitoring() -> None:
    """A StatefulSet of distributed workers with /health probes, its ConfigMap (a valid worker
    config whose credentials are provider references into the mounted Secret), the Services,
    and a ServiceMonitor of /metrics when enabled."""
    docs = _render("serviceMonitor.enabled=true", "credentials.sasl.enabled=true",
                   "credentials.sasl.username=u", "credentials.sasl.password=p-secret")
    kinds = {d["kind"]: d for d in docs}
    assert {"StatefulSet", "ConfigMap", "Secret", "Service", "ServiceMonitor"} <= set(kinds)
    pod = kinds["StatefulSet"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["args"][0] == "distributed"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
    assert pod["securityContext"]["runAsNonRoot"] is True
    properties = kinds["ConfigMap"]["data"]["worker.properties"]
    assert "p-secret" not in properties
    values = parse_properties(properties, "configmap")
    assert values["sasl.password"] == "${directory:/etc/doge/secrets:sasl.password}"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/etc/doge/secrets" in mounts
    assert kinds["ServiceMonitor"]["spec"]["endpoints"][0]["path"] == "/metrics"
    assert not any(d["kind"] == "ServiceMonitor" for d in _render())


def test_helm_configmap_is_a_valid_worker_config(tmp_path: Path) -> None:
    """The rendered worker.properties loads, its secrets resolving from files like the
    mounted Secret's."""
    docs = _render("credentials.sasl.enabled=true")
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]["worker.properties"]
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "sasl.username").write_text("svc")
    (secrets / "sasl.password").write_text("pw-123456")
    values = parse_properties(config.replace("/etc/doge/secrets", str(secrets)), "configmap")
    assert values["models.dir"] == "/app/config"  # the image's copy of config/ (Dockerfile)
    values["models.dir"] = str(ROOT / "config")
    worker = worker_config_from(values, "configmap")
    assert worker.client("producer")["sasl.password"] == "pw-123456"


def test_grafana_dashboard_uses_only_metrics_the_worker_serves() -> None:
    """Every metric the dashboard's queries name is one /metrics serves."""
    dashboard = json.loads((DOCKER / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\b(doge_[a-z_]+)", e)}
    served = {line.split()[2] for line in WorkerMetrics().exposition().decode().splitlines()
              if line.startswith("# TYPE")}
    suffixes = ("_total", "_bucket", "_sum", "_count")
    for metric in used:
        base = next((metric.removesuffix(s) for s in suffixes if metric.endswith(s)), metric)
        assert metric in served or base in served, metric
