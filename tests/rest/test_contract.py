"""Contract of the REST API: Kafka Connect's paths, status codes, JSON shapes and error bodies.

Runs against whatever `rest_target` yields (by default our server over the in-memory herder).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.rest.support import PLUGIN, RestClient, assert_error, quote

NAME_WITH_SPECIALS = "doge ü?#%&+=;,'\" ~ conn"


# -- GET / -----------------------------------------------------------------------------------
def test_root_reports_version_commit_and_cluster(rest: RestClient) -> None:
    """GET / answers Connect's ServerInfo, which monitoring probes and UIs read."""
    response = rest.call("GET", "/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"version", "commit", "kafka_cluster_id"}
    assert isinstance(body["version"], str) and body["version"]
    assert isinstance(body["commit"], str) and body["commit"]


# -- GET /connectors -------------------------------------------------------------------------
def test_list_connectors_names_created_ones(rest: RestClient, name: str) -> None:
    """GET /connectors lists connector names (a JSON array of strings)."""
    before = rest.call("GET", "/connectors")
    assert before.status_code == 200 and name not in before.json()
    rest.create(name)
    after = rest.call("GET", "/connectors").json()
    assert isinstance(after, list) and all(isinstance(n, str) for n in after)
    assert name in after


def test_list_connectors_expands_status_and_info(rest: RestClient, name: str) -> None:
    """?expand=status&expand=info maps each name to its status and info, as tools like UIs use."""
    info = rest.create(name)
    body = rest.call("GET", "/connectors?expand=status&expand=info").json()
    assert set(body[name]) == {"status", "info"}
    assert body[name]["info"] == info
    assert body[name]["status"]["name"] == name
    only_status = rest.call("GET", "/connectors", params={"expand": "status"}).json()
    assert set(only_status[name]) == {"status"}
    unknown = rest.call("GET", "/connectors?expand=nonsense").json()
    assert unknown[name] == {}  # unknown expansions are ignored, as Connect does


# -- POST /connectors ------------------------------------------------------------------------
def test_create_answers_201_with_info_and_location(rest: RestClient, name: str) -> None:
    """POST /connectors answers 201, the connector's info and its absolute Location."""
    config = rest.target.valid_config()
    response = rest.call("POST", "/connectors", {"name": name, "config": config})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{rest.target.base_url}/connectors/{quote(name)}"
    info = response.json()
    assert set(info) == {"name", "config", "tasks", "type"}
    assert info["name"] == name and info["type"] == "source"
    assert info["config"]["name"] == name
    assert all(isinstance(v, str) for v in info["config"].values())
    assert info["tasks"] == [{"connector": name, "task": t} for t in range(len(info["tasks"]))]


def test_create_existing_name_is_409(rest: RestClient, name: str) -> None:
    """Creating a connector twice is refused with 409, never silently reconfigured."""
    rest.create(name)
    response = rest.call("POST", "/connectors",
                         {"name": name, "config": rest.target.valid_config()})
    assert_error(response, 409, name)


def test_create_invalid_config_is_400_with_one_paragraph(rest: RestClient, name: str) -> None:
    """An invalid config is refused with 400 naming the bad key, in one paragraph."""
    response = rest.call("POST", "/connectors",
                         {"name": name, "config": rest.target.invalid_config()})
    message = assert_error(response, 400, "bogus.key")
    assert "\n" not in message and "Traceback" not in message
    assert name not in rest.call("GET", "/connectors").json()


@pytest.mark.parametrize("body", ['{"name": "x", "config": {', "nope", '{"name": "x",}'])
def test_create_malformed_json_is_400(rest: RestClient, body: str) -> None:
    """Malformed JSON gets 400 with a message saying where the JSON breaks."""
    response = rest.call("POST", "/connectors", content=body,
                         headers={"Content-Type": "application/json"})
    assert_error(response, 400, "Malformed JSON", "line 1 column")


@pytest.mark.parametrize(("body", "fragment"), [
    ({"name": "a"}, '"config"'),
    ({"config": {}}, '"name"'),
    ({"name": "  ", "config": {}}, "must not be empty"),
    ({"name": "a/b", "config": {}}, "'/'"),
    ({"name": "a", "config": {}, "confg": {}}, "confg"),
    ([1, 2], "got a JSON array"),
])
def test_create_badly_shaped_body_is_400(rest: RestClient, body: Any, fragment: str) -> None:
    """A body that is not {"name", "config"} is refused with 400 saying what is wrong."""
    assert_error(rest.call("POST", "/connectors", body), 400, fragment)


def test_create_with_mismatched_name_in_config_is_400(rest: RestClient, name: str) -> None:
    """`name` inside the config must equal the connector's name (Connect's exact message)."""
    config = {**rest.target.valid_config(), "name": "other"}
    response = rest.call("POST", "/connectors", {"name": name, "config": config})
    assert_error(response, 400, "Connector name configuration (other) doesn't match connector "
                                f"name in the URL ({name})")


def test_create_trims_the_name(rest: RestClient, name: str) -> None:
    """Surrounding blanks of a POSTed name are dropped, as Connect does."""
    response = rest.call("POST", "/connectors",
                         {"name": f"  {name} ", "config": rest.target.valid_config()})
    assert response.status_code == 201 and response.json()["name"] == name


# -- GET/PUT /connectors/{name}[/config] -----------------------------------------------------
def test_get_connector_answers_its_info(rest: RestClient, name: str) -> None:
    """GET /connectors/{name} answers the same info as creation did."""
    info = rest.create(name)
    response = rest.call("GET", f"/connectors/{name}")
    assert response.status_code == 200 and response.json() == info


def test_get_config_answers_string_values_with_name(rest: RestClient, name: str) -> None:
    """GET /connectors/{name}/config answers the config as strings, `name` included."""
    rest.create(name)
    config = rest.call("GET", f"/connectors/{name}/config").json()
    assert config["name"] == name and config["connector.class"] == PLUGIN
    assert all(isinstance(v, str) for v in config.values())


def test_put_config_creates_201_then_updates_200(rest: RestClient, name: str) -> None:
    """PUT /connectors/{name}/config creates (201 + Location) or updates (200), answering info."""
    config = rest.target.valid_config()
    created = rest.call("PUT", f"/connectors/{name}/config", config)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{rest.target.base_url}/connectors/{name}"
    assert created.json()["name"] == name
    updated = rest.call("PUT", f"/connectors/{name}/config", {**config, "name": name})
    assert updated.status_code == 200, updated.text
    assert "location" not in updated.headers
    assert set(updated.json()) == {"name", "config", "tasks", "type"}


def test_put_config_errors(rest: RestClient, name: str) -> None:
    """PUT config refuses a mismatched name, an invalid config and malformed JSON with 400."""
    path = f"/connectors/{name}/config"
    assert_error(rest.call("PUT", path, {**rest.target.valid_config(), "name": "x"}), 400,
                 "doesn't match connector name in the URL")
    assert_error(rest.call("PUT", path, rest.target.invalid_config()), 400, "bogus.key")
    assert_error(rest.call("PUT", path, content="{", headers={"Content-Type":
                                                              "application/json"}), 400,
                 "Malformed JSON")
    assert_error(rest.call("PUT", path, ["a"]), 400, "JSON object")
    assert rest.call("GET", f"/connectors/{name}").status_code == 404


# -- status and tasks --------------------------------------------------------------------------
def test_status_shape(rest: RestClient, name: str) -> None:
    """GET /connectors/{name}/status answers Connect's ConnectorStateInfo."""
    info = rest.create(name)
    status = rest.status(name)
    assert {"name", "connector", "tasks", "type"} <= set(status)
    assert status["name"] == name and status["type"] == "source"
    assert {"state", "worker_id"} <= set(status["connector"])
    assert [t["id"] for t in status["tasks"]] == [t["task"] for t in info["tasks"]]
    assert all({"id", "state", "worker_id"} <= set(t) for t in status["tasks"])


def test_tasks_answer_ids_and_configs(rest: RestClient, name: str) -> None:
    """GET /connectors/{name}/tasks answers [{"id": {"connector", "task"}, "config": {...}}]."""
    info = rest.create(name)
    tasks = rest.call("GET", f"/connectors/{name}/tasks").json()
    assert [t["id"] for t in tasks] == info["tasks"]
    assert all(isinstance(t["config"], dict) and t["config"]["name"] == name for t in tasks)


def test_task_status_shape_and_unknown_task(rest: RestClient, name: str) -> None:
    """GET .../tasks/{id}/status answers the task's state; an unknown task id is 404."""
    rest.create(name)
    status = rest.call("GET", f"/connectors/{name}/tasks/0/status")
    assert status.status_code == 200
    assert {"id", "state", "worker_id"} <= set(status.json()) and status.json()["id"] == 0
    assert_error(rest.call("GET", f"/connectors/{name}/tasks/99/status"), 404)
    assert_error(rest.call("GET", f"/connectors/{name}/tasks/x/status"), 404)


# -- pause, resume, stop -----------------------------------------------------------------------
def test_pause_and_resume_answer_202(rest: RestClient, name: str) -> None:
    """PUT pause/resume answer 202 without a body and the state follows."""
    rest.create(name)
    paused = rest.call("PUT", f"/connectors/{name}/pause")
    assert paused.status_code == 202 and paused.content == b""
    rest.wait_state(name, "PAUSED")
    resumed = rest.call("PUT", f"/connectors/{name}/resume")
    assert resumed.status_code == 202 and resumed.content == b""
    rest.wait_state(name, "RUNNING")


def test_stop_answers_204_and_resume_restarts(rest: RestClient, name: str) -> None:
    """PUT stop answers 204 and the connector becomes STOPPED; resume runs it again."""
    rest.create(name)
    stopped = rest.call("PUT", f"/connectors/{name}/stop")
    assert stopped.status_code == 204 and stopped.content == b""
    rest.wait_state(name, "STOPPED")
    assert rest.call("PUT", f"/connectors/{name}/resume").status_code == 202
    rest.wait_state(name, "RUNNING")


# -- restarts ----------------------------------------------------------------------------------
def test_restart_without_tasks_answers_204(rest: RestClient, name: str) -> None:
    """POST restart without includeTasks keeps Connect's old answer: 204, no body."""
    rest.create(name)
    response = rest.call("POST", f"/connectors/{name}/restart")
    assert response.status_code == 204 and response.content == b""


def test_restart_with_tasks_answers_202_and_status(rest: RestClient, name: str) -> None:
    """POST restart?includeTasks=true answers 202 and the status, restarting tasks marked."""
    rest.create(name)
    response = rest.call("POST", f"/connectors/{name}/restart?includeTasks=true")
    assert response.status_code == 202, response.text
    status = response.json()
    assert status["name"] == name and status["tasks"]
    assert {t["state"] for t in status["tasks"]} == {"RESTARTING"}


def test_restart_only_failed_tasks(rest: RestClient, name: str) -> None:
    """includeTasks=true&onlyFailed=true restarts the failed task and leaves the others."""
    if rest.target.fail_task is None:
        pytest.skip("this target cannot fail a task on demand")
    rest.create(name)
    rest.target.fail_task(name, 1)
    response = rest.call("POST", f"/connectors/{name}/restart",
                         params={"includeTasks": "true", "onlyFailed": "true"})
    assert response.status_code == 202, response.text
    states = {t["id"]: t["state"] for t in response.json()["tasks"]}
    assert states[1] == "RESTARTING" and states[0] != "RESTARTING"


def test_restart_refuses_a_non_boolean_flag(rest: RestClient, name: str) -> None:
    """includeTasks=yes is refused (400), not silently read as false."""
    rest.create(name)
    assert_error(rest.call("POST", f"/connectors/{name}/restart?includeTasks=yes"), 400,
                 "includeTasks")


def test_restart_task_answers_204(rest: RestClient, name: str) -> None:
    """POST .../tasks/{id}/restart answers 204; an unknown task is 404."""
    rest.create(name)
    response = rest.call("POST", f"/connectors/{name}/tasks/0/restart")
    assert response.status_code == 204 and response.content == b""
    assert_error(rest.call("POST", f"/connectors/{name}/tasks/99/restart"), 404)


# -- delete and offsets ------------------------------------------------------------------------
def test_delete_answers_204_and_forgets(rest: RestClient, name: str) -> None:
    """DELETE /connectors/{name} answers 204; the connector is then 404 and not listed."""
    rest.create(name)
    response = rest.call("DELETE", f"/connectors/{name}")
    assert response.status_code == 204 and response.content == b""
    rest.eventually(lambda: rest.call("GET", f"/connectors/{name}").status_code == 404,
                    "the connector to be gone")
    assert name not in rest.call("GET", "/connectors").json()


def _next_ticks(rest: RestClient, name: str) -> list[int]:
    response = rest.call("GET", f"/connectors/{name}/offsets")
    assert response.status_code == 200
    return [o["offset"]["next_tick"] for o in response.json()["offsets"]]


def test_delete_keeps_offsets_unless_reset_offsets(rest: RestClient, name: str) -> None:
    """Offsets survive DELETE (a re-created connector resumes) unless ?resetOffsets=true."""
    if rest.target.commit is None:
        pytest.skip("this target cannot commit offsets on demand")
    rest.create(name)
    rest.target.commit(name)
    before = _next_ticks(rest, name)
    assert before
    assert rest.call("DELETE", f"/connectors/{name}").status_code == 204
    rest.create(name)
    rest.call("PUT", f"/connectors/{name}/stop")
    assert min(_next_ticks(rest, name)) >= min(before)  # resumed where it was
    assert rest.call("DELETE", f"/connectors/{name}?resetOffsets=true").status_code == 204
    rest.create(name)
    rest.call("PUT", f"/connectors/{name}/stop")
    assert not _next_ticks(rest, name) or min(_next_ticks(rest, name)) < min(before)


def test_offsets_shape(rest: RestClient, name: str) -> None:
    """GET /connectors/{name}/offsets answers {"offsets": [{"partition", "offset"}]}."""
    rest.create(name)
    if rest.target.commit is not None:
        rest.target.commit(name)
    body = rest.call("GET", f"/connectors/{name}/offsets").json()
    assert set(body) == {"offsets"} and isinstance(body["offsets"], list)
    for entry in body["offsets"]:
        assert set(entry) == {"partition", "offset"}
        assert isinstance(entry["partition"]["shard"], int)
        assert isinstance(entry["offset"]["next_tick"], int)


def test_reset_offsets_needs_a_stopped_connector(rest: RestClient, name: str) -> None:
    """DELETE .../offsets is refused (400) while running, and answers 200 once stopped."""
    rest.create(name)
    assert_error(rest.call("DELETE", f"/connectors/{name}/offsets"), 400, "stop")
    rest.call("PUT", f"/connectors/{name}/stop")
    rest.wait_state(name, "STOPPED")
    response = rest.call("DELETE", f"/connectors/{name}/offsets")
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "The offsets for this connector have been reset "
                                          "successfully"}
    assert _next_ticks(rest, name) == []


# -- unknown connector: 404 everywhere -----------------------------------------------------
@pytest.mark.parametrize(("method", "suffix"), [
    ("GET", ""), ("GET", "/config"), ("GET", "/status"), ("GET", "/tasks"),
    ("GET", "/tasks/0/status"), ("PUT", "/pause"), ("PUT", "/resume"), ("PUT", "/stop"),
    ("POST", "/restart"), ("POST", "/restart?includeTasks=true"), ("POST", "/tasks/0/restart"),
    ("DELETE", ""), ("DELETE", "?resetOffsets=true"), ("GET", "/offsets"),
    ("DELETE", "/offsets"),
])
def test_unknown_connector_is_404(rest: RestClient, method: str, suffix: str) -> None:
    """Every per-connector endpoint answers 404 "Connector <name> not found" for a stranger."""
    response = rest.call(method, f"/connectors/no-such-connector{suffix}")
    message = assert_error(response, 404, "no-such-connector")
    if "/tasks/" not in suffix:
        assert message == "Connector no-such-connector not found"


# -- URL-encoded names ---------------------------------------------------------------------
def test_names_with_url_encoded_characters(rest: RestClient) -> None:
    """Connector names with spaces, unicode, ?, #, %, & and quotes work in every path."""
    name = NAME_WITH_SPECIALS
    info = rest.create(name)
    assert info["name"] == name
    path = f"/connectors/{quote(name)}"
    assert rest.call("GET", path).json()["name"] == name
    assert rest.status(name)["name"] == name
    assert name in rest.call("GET", "/connectors").json()
    assert rest.call("PUT", f"{path}/config", rest.target.valid_config()).status_code == 200
    assert rest.call("PUT", f"{path}/pause").status_code == 202
    assert rest.call("DELETE", path).status_code == 204


def test_encoded_slash_in_name_is_refused(rest: RestClient) -> None:
    """A name with '/' (sent as %2F) is refused with 400: offsets are keyed by "<name>/"."""
    response = rest.call("PUT", "/connectors/a%2Fb/config", rest.target.valid_config())
    assert_error(response, 400, "'/'")


# -- plugins and validation ----------------------------------------------------------------
def test_connector_plugins_lists_the_doge_source(rest: RestClient) -> None:
    """GET /connector-plugins lists our one source connector class with a version."""
    response = rest.call("GET", "/connector-plugins")
    assert response.status_code == 200
    [plugin] = response.json()
    assert plugin["class"] == PLUGIN and plugin["type"] == "source"
    assert isinstance(plugin["version"], str) and plugin["version"]


def test_plugin_config_lists_definitions(rest: RestClient) -> None:
    """GET /connector-plugins/{plugin}/config lists the config keys; unknown plugins are 404."""
    response = rest.call("GET", "/connector-plugins/DogeSourceConnector/config")
    assert response.status_code == 200
    names = [d["name"] for d in response.json()]
    assert "connector.class" in names and "model" in names
    assert_error(rest.call("GET", "/connector-plugins/FileStreamSource/config"), 404,
                 "FileStreamSource")


def _validate(rest: RestClient, config: dict[str, Any], plugin: str = "DogeSource") -> Any:
    return rest.call("PUT", f"/connector-plugins/{plugin}/config/validate", config)


def test_validate_valid_config(rest: RestClient) -> None:
    """PUT .../config/validate answers Connect's ConfigInfos with no errors for a valid config."""
    response = _validate(rest, rest.target.valid_config(), PLUGIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"name", "error_count", "groups", "configs"}
    assert body["error_count"] == 0 and isinstance(body["groups"], list)
    for entry in body["configs"]:
        assert {"name", "type", "required", "default_value", "importance", "documentation",
                "group", "width", "display_name", "dependents", "order"} <= set(
                    entry["definition"])
        assert set(entry["value"]) == {"name", "value", "recommended_values", "errors",
                                       "visible"}


def test_validate_invalid_config_reports_errors_with_200(rest: RestClient) -> None:
    """An invalid config is answered 200 with error_count > 0 and errors on the bad key."""
    body = _validate(rest, rest.target.invalid_config()).json()
    assert body["error_count"] > 0
    bad = [c for c in body["configs"] if c["value"]["name"] == "bogus.key"]
    assert bad and bad[0]["value"]["errors"]


def test_validate_errors(rest: RestClient) -> None:
    """Validate refuses a mismatched connector.class, an unknown plugin and bad JSON with 400."""
    assert_error(_validate(rest, {"connector.class": "FileStreamSource"}), 400,
                 "Included connector type FileStreamSource does not match request type "
                 "DogeSource")
    assert_error(_validate(rest, {}, "FileStreamSource"), 400, "FileStreamSource")
    response = rest.call("PUT", "/connector-plugins/DogeSource/config/validate", content="{x",
                         headers={"Content-Type": "application/json"})
    assert_error(response, 400, "Malformed JSON")


# -- HTTP-level errors -----------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/nope", "/connectors/a/b/c/d/e", "/connectors/a/nope"])
def test_unknown_path_is_404(rest: RestClient, path: str) -> None:
    """An unknown path answers 404 in Connect's error body."""
    assert_error(rest.call("GET", path), 404, "Not Found")


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("POST", "/", "GET"),
    ("DELETE", "/connectors", "GET, POST"),
    ("POST", "/connectors/x/config", "GET, PUT"),
    ("GET", "/connectors/x/pause", "PUT"),
    ("PATCH", "/connectors/x/offsets", "DELETE, GET"),
])
def test_wrong_method_is_405(rest: RestClient, method: str, path: str, allowed: str) -> None:
    """A known path with the wrong method answers 405 with an Allow header."""
    response = rest.call(method, path)
    assert_error(response, 405, "Method Not Allowed")
    assert response.headers["allow"] == allowed


def test_body_that_is_not_json_typed_is_415(rest: RestClient, name: str) -> None:
    """A form-encoded body is refused (415), so a web page cannot POST a connector here."""
    response = rest.call("POST", "/connectors", content=f'{{"name": "{name}", "config": {{}}}}',
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(response, 415, "application/json")
    assert name not in rest.call("GET", "/connectors").json()


def test_trailing_slash_is_the_same_path(rest: RestClient, name: str) -> None:
    """/connectors/ and /connectors name the same resource, as in Connect."""
    rest.create(name)
    assert name in rest.call("GET", "/connectors/").json()
    assert rest.call("GET", f"/connectors/{name}/status/").status_code == 200
