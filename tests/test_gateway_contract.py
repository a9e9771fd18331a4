"""One contract for the OrderGateway port, run on the in-process simulator and on the aiohttp
client talking to the simulator over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from orderdesk_mcp.adapters.http_gateway import HttpOrderGateway
from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.domain.errors import (
    AuthenticationFailed,
    ConcurrentModification,
    CredentialsMissing,
    OrderNotFound,
    UpstreamRejected,
)
from orderdesk_mcp.domain.folders import Folder
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.pagination import OrderQuery
from orderdesk_mcp.ports.folders import FolderDirectory
from orderdesk_mcp.ports.gateway import OrderGateway
from tests.upstream_harness import API_KEY, STORE_ID, http_gateway, served_simulator

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="default", store_id=STORE_ID)
NEW = {
    "email": "new@example.com",
    "customer": {"first_name": "Ada", "last_name": "Lovelace"},
    "order_items": [{"name": "Mug", "price": 9.5, "quantity": 2}],
    "x_custom": {"kept": True},
}


@pytest.fixture
def state() -> SimulatorState:
    sim = SimulatorState()
    sim.faults.rate_limit_enabled = False
    sim.add_store(STORE_ID, API_KEY)
    sim.seed_samples(STORE_ID, 12)
    return sim


Gateways = SimulatedOrderGateway | HttpOrderGateway  # every adapter; each implements every port


@pytest.fixture(params=["simulated", "http"])
async def gateway(request: pytest.FixtureRequest, state: SimulatorState) -> AsyncIterator[Gateways]:
    if request.param == "simulated":
        async with SimulatedOrderGateway(state) as simulated:
            yield simulated
    else:
        async with served_simulator(state) as url, http_gateway(url) as http:
            yield http


async def test_fetch_returns_the_stored_document(gateway: OrderGateway, state: SimulatorState) -> None:
    order = await gateway.fetch(STORE, "500001")
    assert order.doc == state.orders(STORE_ID)["500001"]
    assert order.view.folder_id == 1


async def test_fetch_of_a_missing_order_is_order_not_found(gateway: OrderGateway) -> None:
    with pytest.raises(OrderNotFound) as caught:
        await gateway.fetch(STORE, "999999")
    assert str(caught.value) == f"Order 999999 was not found in store {STORE_ID}."


async def test_list_pages_with_total_and_has_more(gateway: OrderGateway) -> None:
    first = await gateway.list_page(STORE, OrderQuery(limit=5, offset=0, order_by="id", order="asc"))
    last = await gateway.list_page(STORE, OrderQuery(limit=5, offset=10, order_by="id", order="asc"))
    beyond = await gateway.list_page(STORE, OrderQuery(limit=5, offset=50))
    assert [o.id for o in first.orders] == [str(500001 + n) for n in range(5)]
    assert (first.total_count, first.has_more) == (12, True)
    assert ([o.id for o in last.orders], last.has_more) == (["500011", "500012"], False)
    assert (beyond.orders, beyond.has_more) == ((), False)


async def test_list_filters_by_folder_source_id_and_email(
    gateway: OrderGateway, state: SimulatorState
) -> None:
    docs = state.orders(STORE_ID)
    in_folders = await gateway.list_page(STORE, OrderQuery(folder_id=(2, 3), limit=100))
    assert {o.id for o in in_folders.orders} == {i for i, d in docs.items() if d["folder_id"] in (2, 3)}
    by_name = await gateway.list_page(STORE, OrderQuery(folder_name="Closed", limit=100))
    assert {o.id for o in by_name.orders} == {i for i, d in docs.items() if d["folder_id"] == 3}
    one = docs["500004"]
    by_source = await gateway.list_page(STORE, OrderQuery(source_id=one["source_id"]))
    by_email = await gateway.list_page(STORE, OrderQuery(email=one["email"]))
    assert [o.id for o in by_source.orders] == [o.id for o in by_email.orders] == ["500004"]
    dated = await gateway.list_page(
        STORE, OrderQuery(search_start_date="2026-10-03", search_end_date="2026-10-04", limit=100)
    )
    assert {o.id for o in dated.orders} == {
        i for i, d in docs.items() if "2026-10-03" <= d["date_added"][:10] <= "2026-10-04"
    }


async def test_create_computes_totals_and_keeps_unknown_fields(gateway: OrderGateway) -> None:
    order = await gateway.create(STORE, NEW)
    assert order.doc["order_total"] == 19.0
    assert order.doc["shipping"] == NEW["customer"]
    assert order.doc["x_custom"] == {"kept": True}
    assert order.doc["source_id"] == order.id


async def test_create_without_a_name_is_rejected_with_orderdesks_message(gateway: OrderGateway) -> None:
    with pytest.raises(UpstreamRejected) as caught:
        await gateway.create(STORE, {"order_items": [{"name": "x"}]})
    assert str(caught.value) == (
        'OrderDesk rejected the request. OrderDesk said: "'
        'a first and last name or a company is required in shipping or customer"'
    )


async def test_replace_is_full_replacement(gateway: OrderGateway, state: SimulatorState) -> None:
    doc = dict(state.orders(STORE_ID)["500002"])
    doc.pop("checkout_data")
    doc["order_items"] = []
    doc["x_new"] = [1, 2]
    saved = await gateway.replace(STORE, "500002", doc)
    assert "checkout_data" not in saved.doc
    assert saved.doc["order_items"] == []
    assert saved.doc["x_new"] == [1, 2]
    assert state.orders(STORE_ID)["500002"]["order_total"] == 5.0


async def test_replace_answers_a_conflict_as_concurrent_modification(
    gateway: OrderGateway, state: SimulatorState
) -> None:
    state.faults.conflict_next_put()
    with pytest.raises(ConcurrentModification):
        await gateway.replace(STORE, "500003", state.orders(STORE_ID)["500003"])


async def test_delete_removes_and_a_second_delete_is_not_found(
    gateway: OrderGateway, state: SimulatorState
) -> None:
    await gateway.delete(STORE, "500005")
    assert "500005" not in state.orders(STORE_ID)
    with pytest.raises(OrderNotFound):
        await gateway.delete(STORE, "500005")


async def test_check_connection_accepts_the_store_and_refuses_another(gateway: OrderGateway) -> None:
    await gateway.check_connection(STORE)
    # the simulator knows no store 777; the HTTP client has no key for it
    with pytest.raises((AuthenticationFailed, CredentialsMissing)):
        await gateway.check_connection(StoreRef(tenant="default", store_id="777"))


async def test_folders_come_from_the_store_settings_in_their_order(gateway: Gateways) -> None:
    directory: FolderDirectory = gateway
    assert await directory.folders(STORE) == (
        Folder(id=1, name="New"),
        Folder(id=2, name="Prepared"),
        Folder(id=3, name="Closed"),
        Folder(id=4, name="Canceled"),
    )
