"""One function per Kafka Connect REST resource: read the request, call the herder, answer.

Each returns a Reply or raises (RestError, or the herder's NotFound / Conflict / UserError);
routes.dispatch turns both into HTTP answers.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any, Protocol, runtime_checkable

from connector.model.numbers import MAX_DIGITS, shorten
from connector.rest import info
from connector.rest.calls import Call, Reply, Request
from connector.rest.errors import RestError
from connector.runtime.herder import NotFound
from connector.runtime.names import name_problem

RESET_MESSAGE = "The offsets for this connector have been reset successfully"


@runtime_checkable
class ResetsOffsets(Protocol):
    """Optional herder capability behind `DELETE /connectors/{name}/offsets` (KIP-875)."""

    def reset_offsets(self, name: str) -> None: ...


# -- request helpers -----------------------------------------------------------------------------
def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:  # a repeated key would silently lose one of its values
            raise RestError(400, f"Malformed JSON in the request body: key {key!r} appears "
                                 "more than once in one object")
        out[key] = value
    return out


def json_object(call: Call, what: str) -> dict[str, Any]:
    """The body as a JSON object, or a 400 saying what is wrong with it."""
    return json_body(call.request, what)


def json_body(request: Request, what: str) -> dict[str, Any]:
    """A request's body as a JSON object, or a 400 saying what is wrong with it."""
    raw = request.body
    if not raw.strip():
        raise RestError(400, f"The request body is empty; expected {what} as a JSON object")
    try:
        data = json.loads(raw, object_pairs_hook=_reject_duplicates)
    except UnicodeDecodeError:
        raise RestError(400, "The request body is not UTF-8 encoded JSON") from None
    except json.JSONDecodeError as exc:
        raise RestError(400, f"Malformed JSON in the request body: {exc.msg} at line "
                             f"{exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise RestError(400, "The request body's JSON nests too deeply") from None
    except ValueError:  # Python's limit on the digits of an integer (4,300)
        raise RestError(400, "The request body's JSON has a number with too many digits"
                        ) from None
    if not isinstance(data, dict):
        raise RestError(400, f"Expected {what} as a JSON object, got a JSON "
                             f"{_json_kind(data)}")
    return data


def _json_kind(value: Any) -> str:
    kinds = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def flag(call: Call, name: str) -> bool:
    """A boolean query parameter; anything but true/false is refused rather than read as false."""
    values = call.query.get(name)
    if not values:
        return False
    value = values[-1].strip().lower()
    if value not in ("true", "false"):
        raise RestError(400, f"Query parameter {name} must be true or false, got {values[-1]!r}")
    return value == "true"


def checked_name(name: str) -> str:
    problem = name_problem(name)
    if problem is not None:
        raise RestError(400, problem)
    return name


def with_name(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """Connect's checkAndPutConnectorConfigName: `name` in the config must match, else is added."""
    included = config.get("name")
    if included is not None and included != name:
        raise RestError(400, f"Connector name configuration ({included}) doesn't match "
                             f"connector name in the URL ({name})")
    return {**config, "name": name}


def location(call: Call, name: str) -> dict[str, str]:
    path = "/connectors/" + urllib.parse.quote(name, safe="")
    host = call.request.host
    return {"Location": f"http://{host}{path}" if host else path}


def task_id(call: Call) -> int:
    name, raw = call.params
    # Not an integer (or one of 5,000 digits): 404, as Connect (Jersey) says.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_DIGITS):
        raise NotFound(f"Task {shorten(name)}-{shorten(raw)} not found")
    return int(raw)


# -- handlers ------------------------------------------------------------------------------------
def root(call: Call) -> Reply:
    return Reply(200, info.server_info(call.herder))


def list_connectors(call: Call) -> Reply:
    names = call.herder.connectors()
    expand = call.query.get("expand")
    if expand is None:
        return Reply(200, names)
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        try:
            entry: dict[str, Any] = {}
            for kind in expand:  # unknown expansions are ignored, as Connect does
                if kind == "status":
                    entry["status"] = call.herder.connector_status(name).to_json()
                elif kind == "info":
                    entry["info"] = call.herder.connector_info(name).to_json()
            out[name] = entry
        except NotFound:
            continue  # deleted while we listed: left out, as Connect does
    return Reply(200, out)


def create_connector(call: Call) -> Reply:
    body = json_object(call, 'the new connector ({"name": ..., "config": {...}})')
    unknown = sorted(set(body) - {"name", "config"})
    if unknown:
        raise RestError(400, f"Unknown field(s) {', '.join(unknown)} in the request body; "
                             'expected {"name": ..., "config": {...}}')
    raw_name, config = body.get("name"), body.get("config")
    if not isinstance(raw_name, str):
        raise RestError(400, 'The request body needs "name", the connector name as a string')
    if not isinstance(config, dict):
        raise RestError(400, 'The request body needs "config", the connector config as a '
                             "JSON object")
    name = checked_name(raw_name.strip())
    created = call.herder.create_connector(name, with_name(name, config))
    return Reply(201, created.to_json(), location(call, name))


def get_connector(call: Call) -> Reply:
    return Reply(200, call.herder.connector_info(call.params[0]).to_json())


def get_config(call: Call) -> Reply:
    return Reply(200, call.herder.connector_config(call.params[0]))


def put_config(call: Call) -> Reply:
    name = checked_name(call.params[0])
    config = with_name(name, json_object(call, "the connector config"))
    created, result = call.herder.put_connector_config(name, config)
    body = result.to_json()
    return Reply(201, body, location(call, name)) if created else Reply(200, body)


def get_status(call: Call) -> Reply:
    return Reply(200, call.herder.connector_status(call.params[0]).to_json())


def get_tasks(call: Call) -> Reply:
    return Reply(200, [t.to_json() for t in call.herder.task_configs(call.params[0])])


def get_task_status(call: Call) -> Reply:
    return Reply(200, call.herder.task_status(call.params[0], task_id(call)).to_json())


def pause(call: Call) -> Reply:
    call.herder.pause(call.params[0])
    return Reply(202)


def resume(call: Call) -> Reply:
    call.herder.resume(call.params[0])
    return Reply(202)


def stop(call: Call) -> Reply:
    call.herder.stop(call.params[0])
    return Reply(204)


def restart(call: Call) -> Reply:
    name = call.params[0]
    include_tasks, only_failed = flag(call, "includeTasks"), flag(call, "onlyFailed")
    status = call.herder.restart_connector(name, include_tasks, only_failed)
    if not include_tasks and not only_failed:
        return Reply(204)  # Connect's backward-compatible form: no body
    return Reply(202, (status or call.herder.connector_status(name)).to_json())


def restart_task(call: Call) -> Reply:
    call.herder.restart_task(call.params[0], task_id(call))
    return Reply(204)


def delete_connector(call: Call) -> Reply:
    call.herder.delete_connector(call.params[0], reset_offsets=flag(call, "resetOffsets"))
    return Reply(204)


def get_offsets(call: Call) -> Reply:
    return Reply(200, call.herder.offsets(call.params[0]).to_json())


def reset_offsets(call: Call) -> Reply:
    if not isinstance(call.herder, ResetsOffsets):
        raise RestError(405, "This worker cannot reset offsets on their own; use DELETE "
                             "/connectors/{name}?resetOffsets=true")
    call.herder.reset_offsets(call.params[0])
    return Reply(200, {"message": RESET_MESSAGE})


def list_plugins(call: Call) -> Reply:
    return Reply(200, info.plugins())


def _plugin(name: str) -> None:
    if not info.is_our_plugin(name):
        raise NotFound(f"Unknown plugin {name}.")


def plugin_config(call: Call) -> Reply:
    _plugin(call.params[0])
    answer = call.herder.validate({"connector.class": info.PLUGIN_CLASS})
    return Reply(200, [c["definition"] for c in answer["configs"]])


def validate(call: Call) -> Reply:
    requested = call.params[0]
    config = json_object(call, "the connector config")
    included = config.get("connector.class")
    if isinstance(included, str) and not info.same_plugin(included, requested):
        raise RestError(400, f"Included connector type {included} does not match request "
                             f"type {requested}")
    if not info.is_our_plugin(requested):
        raise RestError(400, f"Failed to find any class that implements Connector and which "
                             f"name matches {requested}, available connectors are: "
                             f"{info.PLUGIN_CLASS}")
    return Reply(200, call.herder.validate(config))
