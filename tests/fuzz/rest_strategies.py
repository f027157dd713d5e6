"""Hypothesis strategies for hostile REST requests: the routes of connector/rest/routes.py with
hostile names, queries, bodies and content types, and connector configs through the endpoints
that read them (validate, create, create-or-update). The target is tests/fuzz/rest_target.py.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from hypothesis import strategies as st

from connector.rest import info
from connector.rest.routes import ANY, ROUTES
from tests.fuzz.strategies import connector_config, model, nasty_text, scalar

METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "TRACE")
REST_NAMES: tuple[str, ...] = ("c", "..", ".", "%2e%2e", "%2E.", "a/b", "a\\b", "a\x00b",
                               "x" * 300, "\u202e", "\ud800", " c", "c\n", "%00", "a..b",
                               "\u2028", "é", "0")
# The target's models.dir holds bank.yaml and out.yaml, a symlink to a file outside it.
MODEL_PATHS = ("bank.yaml", "./bank.yaml", "../outside.yaml", "sub/../bank.yaml", "out.yaml",
               "/etc/passwd", "/proc/self/environ", "%2e%2e/outside.yaml", "bank.yaml\x00",
               "a" * 300 + ".yaml", "", "/dev/zero", "nope.yaml", "schemas")
CONTENT_TYPES = (None, "application/json", "application/json; charset=utf-8", "text/plain",
                 "application/x-www-form-urlencoded", "APPLICATION/JSON", "x" * 300,
                 "application/vnd.api+json")
QUERIES = ("", "?expand=status", "?expand=info&expand=status", "?includeTasks=true",
           "?includeTasks=true&onlyFailed=maybe", "?resetOffsets=x", "?%zz", "?a=\x00")
GARBAGE = (b"", b"{", b"[]", b"null", b'"x"', b"{}", b'{"a":1,"a":2}', b"\xff\xfe",
           b"[" * 100_000, b'{"name":' * 50_000, b"1" * 5000,
           b'{"name": "c", "config": ' + b"[" * 3000 + b"]" * 3000 + b"}",
           b'{"name": "c", "config": {"model": "' + b"[" * 100_000 + b'"}}')


def _path(pattern: tuple[str, ...], names: list[str], quote: bool) -> str:
    it = iter(names)
    parts = [(urllib.parse.quote(next(it, "c").encode("utf-8", "surrogatepass"), safe="")
              if quote else next(it, "c"))
             if p == ANY else p for p in pattern]
    return "/" + "/".join(parts)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8", "surrogatepass")


def rest_body() -> st.SearchStrategy[bytes]:
    name = st.one_of(st.sampled_from(REST_NAMES), nasty_text())
    model_value = st.one_of(st.sampled_from(MODEL_PATHS), st.sampled_from(MODEL_PATHS), model(),
                            model().map(json.dumps), scalar())
    config = st.tuples(connector_config(), model_value).map(lambda t: {**t[0], "model": t[1]})
    return st.one_of(
        st.tuples(name, config).map(lambda t: _json_bytes({"name": t[0], "config": t[1]})),
        config.map(_json_bytes), st.sampled_from(GARBAGE), st.binary(max_size=64),
        st.tuples(name, config).map(lambda t: _json_bytes({"name": t[0], "config": t[1], "x": 1})))


def rest_request() -> st.SearchStrategy[tuple[str, str, bytes, str | None]]:
    """(method, target, body, content type)."""
    route = st.sampled_from(ROUTES)
    names = st.lists(st.one_of(st.sampled_from(REST_NAMES), nasty_text()), min_size=2, max_size=2)
    return st.tuples(route, st.one_of(st.none(), st.sampled_from(METHODS)), names,
                     st.booleans(), st.sampled_from(QUERIES), rest_body(),
                     st.sampled_from(CONTENT_TYPES)).map(
        lambda t: (t[1] or t[0][0], _path(t[0][1], t[2], t[3]) + t[4], t[5], t[6]))


_SIMPLE = info.PLUGIN_CLASS.rsplit(".", 1)[1]
PLUGIN_NAMES = (info.PLUGIN_CLASS, _SIMPLE, _SIMPLE.removesuffix("Connector"), "Other",
                "%2e%2e", "")


def rest_connector_config() -> st.SearchStrategy[dict[str, Any]]:
    """A connector config as REST clients send it: a model path under the target's models.dir
    (or out of it) or an inline model, sometimes `name` and `connector.class` inside."""
    model_value = st.one_of(st.sampled_from(MODEL_PATHS), st.just("bank.yaml"),
                            model().map(json.dumps), model(), scalar())
    extra = st.fixed_dictionaries({}, optional={
        "name": st.one_of(st.sampled_from(REST_NAMES), nasty_text()),
        "connector.class": st.one_of(st.sampled_from(PLUGIN_NAMES), scalar())})
    return st.tuples(connector_config(), model_value, extra).map(
        lambda t: {**t[0], "model": t[1], **t[2]})


def rest_config_request() -> st.SearchStrategy[tuple[str, str, bytes, str | None]]:
    """Connector configs through the endpoints that read them: validate (against our plugin
    names mostly), create, and create-or-update by PUT."""
    name = st.one_of(st.sampled_from(REST_NAMES), st.just("c"), nasty_text())
    config = rest_connector_config()
    content = st.sampled_from(("application/json", "application/json", None, "text/plain"))

    def quoted(text: str) -> str:
        return urllib.parse.quote(text.encode("utf-8", "surrogatepass"), safe="")

    validate = st.tuples(st.sampled_from(PLUGIN_NAMES), config, content).map(
        lambda t: ("PUT", f"/connector-plugins/{quoted(t[0])}/config/validate", _json_bytes(t[1]),
                   t[2]))
    create = st.tuples(name, config, content).map(
        lambda t: ("POST", "/connectors", _json_bytes({"name": t[0], "config": t[1]}), t[2]))
    put = st.tuples(name, config, content).map(
        lambda t: ("PUT", f"/connectors/{quoted(t[0])}/config", _json_bytes(t[1]), t[2]))
    return st.one_of(validate, validate, create, create, put)


