"""The simulator's writes over HTTP: create rules and messages, duplicates, full-replacement PUT, delete."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from orderdesk_mcp.adapters.simulator import SimulatorState
from tests.factories import order_doc
from tests.fakes import FakeClock
from tests.sim_client import STORE, SimClient, call, served

pytestmark = pytest.mark.anyio

NEW: dict[str, Any] = {
    "email": "ada@example.com",
    "customer": {"first_name": "Ada", "last_name": "Lovelace"},
    "shipping_total": 5,
    "handling_total": "1.50",
    "tax_total": 2.25,
    "discount_list": [{"name": "Welcome", "code": "HELLO", "amount": "3.00"}],
    "order_items": [
        {"name": "Mug", "price": 9.5, "quantity": 2, "weight": 0.5, "variation_list": {}, "metadata": {}},
        {"name": "Sticker", "price": "1.25", "quantity": 4, "variation_list": {"Size": "S"}},
    ],
    "x_custom": {"kept": True},
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> SimulatorState:
    sim = SimulatorState(clock=clock)
    sim.faults.rate_limit_enabled = False
    sim.add_store(STORE, "sim-key-0123456789")
    return sim


@pytest.fixture
async def client(state: SimulatorState) -> AsyncIterator[SimClient]:
    async with served(state) as test_client:
        yield test_client


async def test_create_fills_ids_dates_defaults_and_computed_totals(
    client: SimClient, state: SimulatorState
) -> None:
    status, body = await call(client, "POST", "/orders", json=NEW)
    assert (status, body["status"], body["message"]) == (200, "success", "Order Created")
    order = body["order"]
    assert order == state.orders(STORE)["500001"]
    assert (order["id"], order["source_id"], order["source_name"], order["folder_id"]) == (
        "500001", "500001", "Order Desk", 1,
    )  # fmt: skip
    assert order["date_added"] == order["date_updated"] == "2026-01-01 00:00:00"
    assert order["shipping"] == NEW["customer"]
    totals = {k: order[k] for k in ("quantity_total", "product_total", "discount_total", "order_total")}
    assert totals == {"quantity_total": 6, "product_total": 24.0, "discount_total": 3.0, "order_total": 29.75}
    assert order["weight_total"] == 1.0
    assert order["email_count"] == "1"
    assert [i["id"] for i in order["order_items"]] == ["900001", "900002"]
    assert order["order_items"][0]["variation_list"] == order["order_items"][0]["metadata"] == []
    assert order["order_items"][1]["variation_list"] == {"Size": "S"}
    assert order["x_custom"] == {"kept": True}
    assert order["order_shipments"] == []


async def test_email_count_counts_the_orders_with_that_email(client: SimClient) -> None:
    for expected in ("1", "2", "3"):
        _, body = await call(client, "POST", "/orders", json=order_doc(email="same@example.com"))
        assert body["order"]["email_count"] == expected


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({}, "at least one order item is required; "
             "a first and last name or a company is required in shipping or customer"),
        ({"customer": {"first_name": "Ada"}, "order_items": [{"name": "x"}]},
         "a first and last name or a company is required in shipping or customer"),
        ({"shipping": {"company": "ACME"}, "order_items": []}, "at least one order item is required"),
        ({"shipping": {"company": "ACME"}, "order_items": {"name": "x"}},
         "order_items must be a list of order item objects"),
        ({"shipping": {"company": "ACME"}, "order_items": [{"name": "x"}, "y"]},
         "order_items[1] must be an order item object"),
        ({"shipping": {"company": "ACME"}, "order_items": [{"name": "x"}], "folder_id": 9},
         "folder_id must be one of the store's folders: [1, 2, 3, 4]"),
    ],
)  # fmt: skip
async def test_create_rejects_what_orderdesk_requires_with_a_422_naming_it(
    client: SimClient, state: SimulatorState, doc: dict[str, Any], message: str
) -> None:
    status, body = await call(client, "POST", "/orders", json=doc)
    assert (status, body["status"], body["message"]) == (422, "error", message)
    assert state.orders(STORE) == {}


async def test_a_company_alone_is_enough_and_shipping_is_copied_to_customer(client: SimClient) -> None:
    doc = {"shipping": {"company": "ACME"}, "order_items": [{"name": "x"}], "folder_id": "3"}
    status, body = await call(client, "POST", "/orders", json=doc)
    assert status == 200
    assert body["order"]["customer"] == {"company": "ACME"}
    assert body["order"]["folder_id"] == 3


async def test_a_body_that_is_not_a_json_object_is_a_400(client: SimClient) -> None:
    for data in (b"{not json", b"[1, 2]"):
        status, body = await call(client, "POST", "/orders", data=data)
        assert status == 400
        assert body["message"] in ("Request body is not valid JSON", "Request body must be a JSON object")


async def test_a_second_order_with_the_same_source_is_rejected_naming_the_first(client: SimClient) -> None:
    doc = order_doc(source_name="Shopify", source_id="SHOP-1001")
    _, first = await call(client, "POST", "/orders", json=doc)
    status, body = await call(client, "POST", "/orders", json=doc)
    assert (status, body["message"]) == (422, f"Duplicate order: existing order id {first['order']['id']}")
    status, _ = await call(client, "POST", "/orders", json=doc | {"source_name": "Amazon"})
    assert status == 200


async def test_put_is_full_replacement_of_everything_but_id_dates_and_shipments(
    client: SimClient, state: SimulatorState, clock: FakeClock
) -> None:
    _, created = await call(client, "POST", "/orders", json=NEW)
    state.orders(STORE)["500001"]["order_shipments"] = [{"id": "1", "tracking_number": "1Z"}]
    sent = copy.deepcopy(created["order"])
    del sent["x_custom"], sent["discount_list"]
    sent["order_items"] = [sent["order_items"][1] | {"price": 2.0}, {"name": "Tote", "price": 10}]
    sent |= {"x_new": [1, 2], "date_added": "1999-01-01 00:00:00", "order_shipments": [], "id": "7"}
    clock.advance(65)
    status, body = await call(client, "PUT", "/orders/500001", json=sent)
    assert (status, body["message"]) == (200, "Order Updated")
    saved = body["order"]
    assert saved == state.orders(STORE)["500001"]
    assert "x_custom" not in saved
    assert "discount_list" not in saved
    assert saved["x_new"] == [1, 2]
    assert [(i["id"], i["name"]) for i in saved["order_items"]] == [("900002", "Sticker"), ("900003", "Tote")]
    assert (saved["product_total"], saved["discount_total"], saved["order_total"]) == (18.0, 0.0, 26.75)
    assert (saved["id"], saved["date_added"]) == ("500001", "2026-01-01 00:00:00")
    assert saved["date_updated"] == "2026-01-01 00:01:05"
    assert saved["order_shipments"] == [{"id": "1", "tracking_number": "1Z"}]
    assert saved["folder_id"] == 1


async def test_put_without_a_folder_keeps_the_folder_and_refuses_an_unknown_one(client: SimClient) -> None:
    await call(client, "POST", "/orders", json=NEW | {"folder_id": 2})
    status, body = await call(client, "PUT", "/orders/500001", json={"order_items": []})
    assert (status, body["order"]["folder_id"], body["order"]["order_total"]) == (200, 2, 0.0)
    status, body = await call(client, "PUT", "/orders/500001", json={"folder_id": 77})
    assert (status, body["message"]) == (422, "folder_id must be one of the store's folders: [1, 2, 3, 4]")


async def test_hostile_numbers_count_as_zero_and_never_make_totals_infinite(client: SimClient) -> None:
    items = [
        {"name": "a", "price": "inf", "quantity": "1e400"},
        {"name": "b", "price": 1e308, "quantity": 10},
    ]
    doc = NEW | {"order_items": items, "shipping_total": "NaN", "discount_list": "nope"}
    status, body = await call(client, "POST", "/orders", json=doc)
    assert status == 200
    order = body["order"]
    assert (order["product_total"], order["order_total"], order["quantity_total"]) == (0.0, 0.0, 10)


async def test_delete_answers_the_documented_message_and_the_order_is_gone(
    client: SimClient, state: SimulatorState
) -> None:
    await call(client, "POST", "/orders", json=NEW)
    status, body = await call(client, "DELETE", "/orders/500001")
    assert (status, body["status"], body["message"]) == (200, "success", "Order 500001 Deleted")
    assert state.orders(STORE) == {}
    status, _ = await call(client, "GET", "/orders/500001")
    assert status == 404
