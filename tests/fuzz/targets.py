"""What a fuzz input goes through: the product's own entry points, as `doge` meets them.

Each target returns normally or raises UserError (the clear, one-paragraph error; a
TransitionValueError is one too). Anything else escaping is a bug: a traceback for the user.
Runs are kept small (a few ticks, pace max) so an accepted input is cheap: sizes are the
memory estimate's business, checked by every run before work starts.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import yaml

from connector.destinations.local import LocalDirectory
from connector.engine import rng
from connector.model import expr as ex
from connector.model.source import parse_text
from connector.model.validate import load_model
from connector.runtime.config import load_connector
from connector.runtime.configdef import ConfigType
from connector.runtime.runner import Runner
from connector.runtime.simulation import prepare
from connector.runtime.worker import supervisor_settings
from connector.runtime.worker_config import WORKER_CONFIG, load_worker_config
from tests.fuzz.rest_target import run_rest

KINDS = ("expression", "yaml", "model", "connector", "worker", "rest")
# Runs of accepted connectors stay this small (the fuzzer is after errors, not throughput).
RUN_TICKS = 3
RUN_USERS = 20_000
RUN_SHARDS = 64

_TYPES = {"x": ex.ExprType.LONG, "amount": ex.ExprType.LONG, "balance": ex.ExprType.LONG,
          "y": ex.ExprType.DOUBLE, "s": ex.ExprType.STRING, "flag": ex.ExprType.BOOLEAN,
          "t": ex.ExprType.TIMESTAMP}
_ROWS = 4


def run_expression(text: str, _: Path) -> None:
    """Parse, type-check and evaluate an expression over a few rows of every type."""
    names = {**ex.ENGINE_NAMES, **_TYPES}
    env = ex.TypeEnv(names, nullable=[n.name for n in ex.ENGINE_NAME_TABLE if n.nullable])
    try:
        checked = ex.check(ex.parse(text), env, ex.SiteCounter())
    except ex.ExprError:
        return
    columns = {
        "x": np.array([0, -1, 2**62, 7]), "amount": np.arange(_ROWS), "balance": np.ones(_ROWS,
                                                                                     np.int64),
        "y": np.array([0.0, -1.5, np.nan, 1e308]), "s": np.array(["", "a", "é", "xyz"], object),
        "flag": np.array([True, False, True, False]), "t": np.array([0, -1, 2**40, 1_700_000]),
        "user_id": np.arange(_ROWS), "user_key": np.array(["0", "1", "2", "3"], object),
        "tick": 3, "time": 1_704_067_200_000, "transition": "go", "state": "a",
        "from_state": "a", "to_state": "b", "session_id": np.array([None, "1-1", None, "3-2"],
                                                                   object),
    }
    ctx = ex.EvalContext(size=_ROWS, columns=columns,
                         rng=lambda site: rng.stream(1, 0, rng.SITE, 0, site))
    # A ValueLimitError becomes a TransitionValueError naming the transition in the engine.
    with contextlib.suppress(ex.ValueLimitError):
        ex.compile_expr(checked).evaluate(ctx)


def run_yaml(text: str, _: Path) -> None:
    parse_text(text, "fuzz.yaml")


def write_model(model: Any, work: Path, as_json: bool) -> Path:
    path = work / ("model.json" if as_json else "model.yaml")
    text = json.dumps(model) if as_json else yaml.safe_dump(model, allow_unicode=False)
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


def run_model(data: tuple[Any, bool], work: Path) -> None:
    model, as_json = data
    load_model(write_model(model, work, as_json))


def run_connector(data: tuple[Any, dict[str, Any], bool | str], work: Path) -> None:
    """`doge validate` then a short `doge run` of the connector, resumed once. The model is a
    YAML or JSON file (mode False / True) or inline as JSON text ("inline")."""
    model, config, mode = data
    inline = json.dumps(model) if mode == "inline" else None
    body = {"name": "fuzz", "config": {
        **config, "model": inline or str(write_model(model, work, mode is True))}}
    path = work / "connector.json"
    path.write_text(json.dumps(body), encoding="utf-8", errors="surrogatepass")
    cfg = load_connector(path)
    sim = prepare(cfg)
    users = cfg.users if cfg.users is not None else (sim.model.spec.population.users or 0)
    if users > RUN_USERS or cfg.shards > RUN_SHARDS:
        return
    sim = attrs.evolve(sim, config=attrs.evolve(cfg, pace=None))
    out = work / "out"
    for ticks in (RUN_TICKS - 1, RUN_TICKS):
        destination = LocalDirectory(out, dict(sim.model.schemas))
        runner = Runner(sim, destination, list(range(cfg.shards)))
        try:
            runner.resume()
            runner.run(min(ticks, cfg.ticks if cfg.ticks is not None else ticks))
        finally:
            destination.close()


def run_worker(data: tuple[dict[str, Any], bool], work: Path) -> None:
    """Load a worker config (.properties or JSON) and read it as a starting worker does, up to
    joining Kafka: every number key, the supervisor settings, clients, registry, formats,
    plugins and the models.dir rule."""
    values, as_json = data
    if as_json:
        path = work / "worker.json"
        path.write_text(json.dumps(values), encoding="utf-8", errors="surrogatepass")
    else:
        path = work / "worker.properties"
        lines = [f"{k}={v}".replace("\n", " ") for k, v in values.items()]
        path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    config = load_worker_config(path)
    for key in WORKER_CONFIG.names:
        if WORKER_CONFIG[key].type in (ConfigType.INT, ConfigType.LONG):
            config.integer(key)
    supervisor_settings(config)
    for kind in ("producer", "consumer", "admin"):
        config.client(kind)
    config.functions()
    config.confines_models()
    Path(config.optional("models.dir") or ".").resolve()
    config.registry()  # last: it refuses a worker without a registry URL


TARGETS: dict[str, Callable[[Any, Path], None]] = {
    "expression": run_expression, "yaml": run_yaml, "model": run_model,
    "connector": run_connector, "worker": run_worker, "rest": run_rest}


def run(kind: str, data: Any, work: Path) -> None:
    """Run one input in a fresh `work` directory."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    TARGETS[kind](data, work)
