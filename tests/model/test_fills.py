"""Nested fields, keys and headers in models: accepted forms, and precise errors for mistakes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from connector.errors import UserError
from connector.model import fills
from connector.model.spec import KeyKind
from connector.model.validate import load_model
from tests.helpers import MODELS, SCHEMAS, write_model

Mutation = Callable[[dict[str, Any]], None]


def shop() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((MODELS / "shop.yaml").read_text())
    data["schemas"] = str(SCHEMAS)
    return copy.deepcopy(data)


def _order_fields(m: dict[str, Any]) -> dict[str, Any]:
    checkout = next(t for t in m["transitions"] if t["name"] == "checkout")
    fields: dict[str, Any] = checkout["emit"][0]["fields"]
    return fields


def _field(name: str, value: Any) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        _order_fields(m)[name] = value
    return mutate


def _drop_field(name: str) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        del _order_fields(m)[name]
    return mutate


def _topic(topic: str, key: str, value: Any) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        m["topics"][topic][key] = value
    return mutate


def _both(*mutations: Mutation) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        for each in mutations:
            each(m)
    return mutate


ORDER = "transitions[4].emit[0]"
BAD: list[tuple[str, Mutation, str, str]] = [
    ("unknown dotted path", _field("customer.nickname", "name"),
     f"{ORDER}.fields.customer.nickname",
     "field 'customer.nickname' is not in record field 'customer'; its fields: customer_id"),
    ("unknown top-level field", _field("discount", "1"), f"{ORDER}.fields.discount",
     "field 'discount' is not in the schema of topic 'shop_orders'"),
    ("nested field of the wrong type", _field("customer.member_no", "name"),
     f"{ORDER}.fields.customer.member_no", "expected a LONG expression, but 'name' is STRING"),
    ("nested field missing", _both(_field("customer.address", {"street": "street"}),
                                   lambda m: m["attributes"].pop("zip")),
     f"{ORDER}.fields.customer.address",
     "field 'customer.address.zip' (string) of record io.dogeconnect.shop.Address gets no "
     "value"),
    ("record given an expression", _field("payment", "method"), f"{ORDER}.fields.payment",
     "field 'payment' is a record io.dogeconnect.shop.Payment: give its fields as a mapping"),
    ("value and dotted fields of one record",
     lambda m: _order_fields(m).update({"payment": "method", "payment.card": "null"}),
     f"{ORDER}.fields.payment.card", "'payment' is given a value at"),
    ("array given an expression", _field("items", "lines"), f"{ORDER}.fields.items",
     "give a list of items [a, b, ...] or {length: EXPR, item: ITEM}"),
    ("array form with a typo", _field("items", {"lenght": "2", "item": {}}),
     f"{ORDER}.fields.items", "expected the keys length, item"),
    ("array length of the wrong type",
     _field("items", {"length": "'two'", "item": {"line": "1", "sku": "'x'", "quantity": "1",
                                                  "unit_price": "1.0"}}),
     f"{ORDER}.fields.items.length", "expected a LONG expression"),
    ("sequence() in array items",
     _field("items", {"length": "1", "item": {"line": "sequence('line')", "sku": "'x'",
                                              "quantity": "1", "unit_price": "1.0"}}),
     f"{ORDER}.fields.items", "sequence('line') cannot be used in the items"),
    ("enum constant that is no symbol",
     lambda m: _order_fields(m)["payment"].update({"method": "'CASH'"}),
     f"{ORDER}.fields.payment.method",
     "'CASH' is not a symbol of enum field 'payment.method': CARD, PAYPAL"),
    ("int field from a TIMESTAMP", _field("items", [{"line": "time", "sku": "'x'",
                                                     "quantity": "1", "unit_price": "1.0"}]),
     f"{ORDER}.fields.items[0].line", "does not fit an Avro int (32 bits)"),
    ("key expression of the wrong type", _topic("shop_views", "key", "ip == ''"),
     "topics.shop_views.key", "expected a STRING or LONG or null expression, but \"ip == ''\""
     " is BOOLEAN"),
    ("key expression with an unknown name", _topic("shop_views", "key", "customer"),
     "topics.shop_views.key", "unknown name 'customer'"),
    ("header of an unsupported type", _topic("shop_orders", "headers", {"n": "member_no"}),
     "topics.shop_orders.headers.n", "expected a STRING or null expression, but 'member_no' "
     "is LONG"),
    ("key record field missing",
     _topic("shop_orders", "key", {"schema": "shop_order_key", "fields": {"id": "'x'"}}),
     "topics.shop_orders.key.fields.id", "field 'id' is not in the schema of the key of topic"),
    ("key schema file missing", _topic("shop_orders", "key", {"schema": "nope"}),
     "topics.shop_orders.key.schema", "schema file"),
]


@pytest.mark.parametrize(("case", "mutate", "path", "message"), BAD, ids=[c[0] for c in BAD])
def test_bad_shapes_are_rejected_with_file_line_and_path(tmp_path: Path, case: str,
                                                         mutate: Mutation, path: str,
                                                         message: str) -> None:
    """Each mistake in a nested field, key or header names the file, its line and its path."""
    model = shop()
    mutate(model)
    file = write_model(tmp_path, model)
    with pytest.raises(UserError) as info:
        load_model(file)
    problems = [p for p in info.value.errors if message in p.message]
    assert problems, f"{case}: no error containing {message!r} in " + \
        str([p.render() for p in info.value.errors])
    assert any(p.file == str(file) and p.path == path and p.line for p in problems), \
        [p.render() for p in problems]


def test_the_shop_example_checks() -> None:
    """The shop example's orders: nested customer, items, payment, a record key, headers."""
    model = load_model(MODELS / "shop.yaml")
    checkout = next(t for t in model.transitions if t.spec.name == "checkout")
    (emit,) = checkout.emits
    shaped = {f.name: fill for f, fill in emit.shaped}
    assert isinstance(shaped["customer"], fills.RecordFill)
    items = shaped["items"]
    assert isinstance(items, fills.ArrayFill) and items.length is not None
    assert emit.key is not None and emit.key.kind is KeyKind.RECORD
    assert [name for name, _ in emit.headers] == ["trace_id", "source"]
    assert "shop_orders" in model.key_schemas


def test_dotted_names_and_mappings_merge(tmp_path: Path) -> None:
    """`a.b: x` and `a: {c: y}` give the same record; a name given twice is an error."""
    model = shop()
    fields = _order_fields(model)
    fields["payment.method"] = fields["payment"].pop("method")
    file = write_model(tmp_path, model)
    load_model(file)
    fields["payment.reference"] = "uuid()"
    with pytest.raises(UserError, match="'reference' is given twice"):
        load_model(write_model(tmp_path, model))


def test_union_forms(tmp_path: Path) -> None:
    """A general union takes an expression of one branch's type, {Branch: ...} or if/then/else;
    an expression fitting no branch is refused naming the branches."""
    schema = {"type": "record", "name": "U", "fields": [
        {"name": "a", "type": ["null", "long", "string"]},
        {"name": "b", "type": ["string", {"type": "record", "name": "R", "fields": [
            {"name": "x", "type": "long"}]}]},
        {"name": "c", "type": ["null", "R"]}]}
    model: dict[str, Any] = {"states": ["s"], "topics": {"u": {"schema": schema}}, "transitions": [
        {"name": "t", "from": "s", "to": "s", "chance": 1, "emit": [{"topic": "u", "fields": {
            "a": "if(user_id > 3, user_id, null)",
            "b": {"if": "user_id % 2 == 0", "then": {"R": {"x": "user_id"}}, "else": "'odd'"},
            "c": {"x": "tick"}}}]}]}
    validated = load_model(write_model(tmp_path, model))
    shaped = {f.name: fill for f, fill in validated.transitions[0].emits[0].shaped}
    assert isinstance(shaped["a"], fills.BranchFill) and shaped["a"].null_branch == 0
    assert isinstance(shaped["b"], fills.CondFill)
    assert isinstance(shaped["c"], fills.BranchFill) and shaped["c"].branch == 1
    model["transitions"][0]["emit"][0]["fields"]["a"] = "1.5"
    with pytest.raises(UserError, match="fits no branch of its union"):
        load_model(write_model(tmp_path, model))
