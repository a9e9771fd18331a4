"""One contract for the shipment, inventory and order-action ports, run on the in-process
simulator and on the aiohttp client talking to the simulator over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from orderdesk_mcp.adapters.http_gateway import HttpOrderGateway
from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.domain.errors import OrderNotFound, UpstreamRejected, UpstreamUnavailable
from orderdesk_mcp.domain.inventory import InventoryQuery
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.reach_errors import DuplicateShipment, InventoryItemNotFound, ShipmentNotFound
from orderdesk_mcp.domain.shipment import NewShipment
from orderdesk_mcp.ports.inventory import InventoryGateway
from orderdesk_mcp.ports.order_actions import OrderActions
from orderdesk_mcp.ports.shipments import ShipmentGateway
from tests.upstream_harness import API_KEY, STORE_ID, http_gateway, served_simulator

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="default", store_id=STORE_ID)
UPS = NewShipment(tracking_number="1Z999", carrier_code="UPS", shipment_method="Ground", weight=1.5)
ITEMS = [
    {"name": "Coffee mug", "code": "MUG-1", "price": 9.5, "stock": 10, "x_bin": {"aisle": 4}},
    {"name": "Tea mug", "code": "MUG-2", "price": 8, "stock": 3},
    {"name": "T-shirt", "code": "TEE-L", "price": 18, "stock": 25},
]

Gateways = SimulatedOrderGateway | HttpOrderGateway


@pytest.fixture
def state() -> SimulatorState:
    sim = SimulatorState()
    sim.faults.rate_limit_enabled = False
    sim.add_store(STORE_ID, API_KEY)
    sim.seed_samples(STORE_ID, 6)
    sim.seed_inventory(STORE_ID, ITEMS)
    return sim


@pytest.fixture(params=["simulated", "http"])
async def gateway(request: pytest.FixtureRequest, state: SimulatorState) -> AsyncIterator[Gateways]:
    if request.param == "simulated":
        async with SimulatedOrderGateway(state) as simulated:
            yield simulated
    else:
        async with served_simulator(state) as url, http_gateway(url) as http:
            yield http


def _typed(gateway: Gateways) -> tuple[ShipmentGateway, InventoryGateway, OrderActions]:
    return gateway, gateway, gateway


async def test_a_new_order_has_no_shipments_and_an_added_one_is_listed(gateway: Gateways) -> None:
    shipments, _, _ = _typed(gateway)
    assert await shipments.shipments(STORE, "500001") == ()
    await shipments.add_shipment(STORE, "500001", UPS)
    (listed,) = await shipments.shipments(STORE, "500001")
    assert (listed.tracking_number, listed.carrier_code) == ("1Z999", "UPS")
    assert listed.doc["shipment_method"] == "Ground"
    assert listed.doc["weight"] == "1.5"  # OrderDesk keeps weights as strings
    assert listed.doc["tracking_url"]  # guessed when not sent


async def test_the_same_shipment_twice_is_orderdesks_shipment_not_added(
    gateway: Gateways, state: SimulatorState
) -> None:
    await gateway.add_shipment(STORE, "500002", UPS)
    with pytest.raises(DuplicateShipment) as caught:
        await gateway.add_shipment(STORE, "500002", UPS)
    assert str(caught.value) == "OrderDesk did not add the shipment to order 500002: it already has it."
    assert len(state.orders(STORE_ID)["500002"]["order_shipments"]) == 1


async def test_shipments_of_a_missing_order_are_order_not_found(gateway: Gateways) -> None:
    with pytest.raises(OrderNotFound):
        await gateway.shipments(STORE, "999999")
    with pytest.raises(OrderNotFound):
        await gateway.add_shipment(STORE, "999999", UPS)


async def test_delete_removes_the_shipment_and_a_second_delete_is_shipment_not_found(
    gateway: Gateways,
) -> None:
    await gateway.add_shipment(STORE, "500003", UPS)
    (shipment,) = await gateway.shipments(STORE, "500003")
    await gateway.delete_shipment(STORE, "500003", shipment.id)
    assert await gateway.shipments(STORE, "500003") == ()
    with pytest.raises(ShipmentNotFound) as caught:
        await gateway.delete_shipment(STORE, "500003", shipment.id)
    assert str(caught.value) == (
        f"Order 500003 has no shipment {shipment.id}; list them with shipments_list."
    )
    with pytest.raises(OrderNotFound):
        await gateway.delete_shipment(STORE, "999999", shipment.id)


async def test_move_reports_each_order_and_moves_the_known_ones(
    gateway: Gateways, state: SimulatorState
) -> None:
    docs = state.orders(STORE_ID)
    before = docs["500001"]["folder_id"]
    reports = await gateway.move_orders(STORE, ["500001", "999999"], 2)
    by_id = {r.order_id: r for r in reports}
    assert by_id["500001"].moved is True
    assert by_id["500001"].original_folder_id == before
    assert by_id["500001"].message == "Order Moved to Prepared Folder"
    assert by_id["999999"].moved is False
    assert docs["500001"]["folder_id"] == 2
    assert state.history(STORE_ID, "500001")[-1]["note"] == "Order moved to Prepared"


async def test_move_to_an_unknown_folder_is_rejected(gateway: Gateways) -> None:
    with pytest.raises(UpstreamRejected) as caught:
        await gateway.move_orders(STORE, ["500001"], 99)
    assert str(caught.value) == (
        'OrderDesk rejected the request. OrderDesk said: "Destination folder not found"'
    )


async def test_a_history_note_returns_the_order_with_its_history(
    gateway: Gateways, state: SimulatorState
) -> None:
    first = await gateway.add_history_note(STORE, "500004", "Customer called")
    second = await gateway.add_history_note(STORE, "500004", "Called again")
    assert first.id == "500004"
    assert [h["note"] for h in second.doc["order_history"]] == ["Customer called", "Called again"]
    assert second.doc["order_history"][0]["source_name"] == "API"
    assert "order_history" not in state.orders(STORE_ID)["500004"]  # GET /orders/{id} carries none
    with pytest.raises(OrderNotFound):
        await gateway.add_history_note(STORE, "999999", "x")


async def test_inventory_pages_filter_by_code_and_search(gateway: Gateways) -> None:
    page = await gateway.inventory_page(STORE, InventoryQuery(limit=2))
    assert ([i.code for i in page.items], page.total_count, page.has_more) == (["MUG-1", "MUG-2"], 3, True)
    last = await gateway.inventory_page(STORE, InventoryQuery(limit=2, offset=2))
    assert ([i.code for i in last.items], last.has_more) == (["TEE-L"], False)
    by_code = await gateway.inventory_page(STORE, InventoryQuery(code="MUG-2"))
    assert [i.name for i in by_code.items] == ["Tea mug"]
    searched = await gateway.inventory_page(STORE, InventoryQuery(search="mug"))
    assert [i.code for i in searched.items] == ["MUG-1", "MUG-2"]


async def test_fetch_item_returns_the_stored_document(gateway: Gateways, state: SimulatorState) -> None:
    item = await gateway.fetch_item(STORE, "2501")
    assert item.doc == state.inventory(STORE_ID)[2501]
    assert (item.id, item.code, item.stock) == ("2501", "MUG-1", 10)
    with pytest.raises(InventoryItemNotFound) as caught:
        await gateway.fetch_item(STORE, "9999")
    assert str(caught.value) == f"Inventory item 9999 was not found in store {STORE_ID}."


async def test_inventory_put_blanks_every_field_it_is_not_sent(
    gateway: Gateways, state: SimulatorState
) -> None:
    await gateway.replace_item(STORE, "2501", {"name": "Coffee mug", "code": "MUG-1", "stock": 4, "x_new": 1})
    saved = state.inventory(STORE_ID)[2501]
    assert (saved["stock"], saved["price"], saved["x_new"]) == (4, "", 1)
    assert "x_bin" not in saved
    with pytest.raises(InventoryItemNotFound):
        await gateway.replace_item(STORE, "9999", {"name": "x", "code": "y"})
    with pytest.raises(UpstreamRejected) as caught:
        await gateway.replace_item(STORE, "2501", {"name": "", "code": "MUG-1"})
    assert str(caught.value) == 'OrderDesk rejected the request. OrderDesk said: "name is required"'


async def test_a_lost_shipment_answer_may_have_been_applied(gateway: Gateways, state: SimulatorState) -> None:
    state.faults.drop_next(1, after_processing=True, method="POST")
    with pytest.raises(UpstreamUnavailable) as caught:
        await gateway.add_shipment(STORE, "500005", UPS)
    assert caught.value.maybe_sent is True
    assert len(state.orders(STORE_ID)["500005"]["order_shipments"]) == 1


# -- OrderDesk's odd answers, as they travel on the wire ----------------------------------------


async def _raw(url: str, method: str, path: str, body: object = None) -> tuple[int, dict[str, Any]]:
    headers = {"ORDERDESK-STORE-ID": STORE_ID, "ORDERDESK-API-KEY": API_KEY}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{url}/api/v2{path}", json=body, headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_the_wire_answers_are_orderdesks_documented_shapes(state: SimulatorState) -> None:
    async with served_simulator(state) as url:
        _, listing = await _raw(url, "GET", "/inventory-items?limit=2")
        shipment = {"tracking_number": "1Z1", "carrier_code": "UPS"}
        _, added = await _raw(url, "POST", "/orders/500001/shipments", shipment)
        status, duplicate = await _raw(url, "POST", "/orders/500001/shipments", shipment)
        move = {"order_id_list": [500002], "destination_folder_name": "Closed"}
        _, moved = await _raw(url, "POST", "/move-orders", move)
        item = {"name": "Tea mug", "code": "MUG-2", "stock": 1}
        _, put = await _raw(url, "PUT", "/inventory-items/2502", item)
    assert (listing["total_records"], listing["records_returned"]) == ("3", 2)  # a string, as documented
    assert added["message"] == "Shipment Added"
    assert (status, duplicate["status"], duplicate["message"]) == (200, "error", "Shipment Not Added")
    assert moved["message"] == "1 Orders Moved"
    results = moved["results"]
    assert len(results) == 1
    assert results[0]["order_id"] == 500002  # integers, as documented
    assert results[0]["message"] == "Order Moved to Closed Folder"
    assert isinstance(results[0]["original_folder_id"], int)
    assert set(put) == {"status", "message", "execution_time"}  # no item in the answer


async def test_a_server_error_answering_a_post_may_have_been_applied(
    gateway: Gateways, state: SimulatorState
) -> None:
    for path in ("/move-orders", "/orders/500001/order-history", "/orders/500001/shipments"):
        state.faults.fail_next(1, status=503, path_prefix=path)
    with pytest.raises(UpstreamUnavailable) as moved:
        await gateway.move_orders(STORE, ["500001"], 2)
    with pytest.raises(UpstreamUnavailable) as noted:
        await gateway.add_history_note(STORE, "500001", "x")
    with pytest.raises(UpstreamUnavailable) as shipped:
        await gateway.add_shipment(STORE, "500001", UPS)
    assert (moved.value.maybe_sent, noted.value.maybe_sent, shipped.value.maybe_sent) == (True, True, True)
    state.faults.fail_next(1, status=503)
    with pytest.raises(UpstreamUnavailable) as read:
        await gateway.shipments(STORE, "500001")
    assert read.value.maybe_sent is False  # a read is safe to repeat
