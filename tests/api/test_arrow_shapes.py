"""simulate() of nested shapes: Arrow structs, lists and decimals with the engine's values."""

from __future__ import annotations

import decimal

import pyarrow as pa

from connector import api
from tests.helpers import ROOT


def test_shop_orders_are_nested_arrow_columns() -> None:
    """The shop's orders: the customer a struct, line items a list of structs with decimals."""
    orders = api.simulate(str(ROOT / "config" / "shop.json"), users=400, ticks=300)["shop_orders"]
    assert orders.num_rows > 0
    schema = orders.schema
    assert pa.types.is_struct(schema.field("customer").type)
    items = schema.field("items").type
    assert pa.types.is_list(items) and pa.types.is_struct(items.value_type)
    assert items.value_type.field("unit_price").type == pa.decimal128(9, 2)
    for row in orders.to_pylist():
        assert row["customer"]["address"]["country"] == "DE"
        assert [i["line"] for i in row["items"]] == list(range(1, len(row["items"]) + 1))
        assert all(isinstance(i["unit_price"], decimal.Decimal) for i in row["items"])
