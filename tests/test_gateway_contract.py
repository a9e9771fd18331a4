"""One contract for the OrderGateway port, run on the in-process simulator, on the aiohttp client
talking to the simulator over loopback HTTP and, with the live variables set, on the aiohttp
client talking to a real OrderDesk store (``make test-live``; see ``tests/live``).

Tests on ``target`` hold on any store: they read an order id from the list before reading it,
and write only orders they create themselves (deleted afterwards, even when they fail). Tests on
``gateway`` and ``state`` check the simulator's seeded data and fault switches, so they never
run live.
"""

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
from tests.live.config import with_live
from tests.live.gateway import GatewayTarget, open_target
from tests.live.shapes import MISSING_ORDER_ID
from tests.upstream_harness import API_KEY, STORE_ID, http_gateway, served_simulator

pytestmark = pytest.mark.anyio

on_every_target = pytest.mark.parametrize("target", with_live("simulated", "http"), indirect=True)
on_write_targets = pytest.mark.parametrize(
    "target", with_live("simulated", "http", writes=True), indirect=True
)

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


@pytest.fixture
async def target(request: pytest.FixtureRequest, state: SimulatorState) -> AsyncIterator[GatewayTarget]:
    async with open_target(request.param, state) as opened:
        yield opened


def _amount(value: object) -> float:
    """OrderDesk sends money as a number or a numeric string (ORDERDESK_API 7.2)."""
    assert isinstance(value, int | float | str), value
    return float(value)


@on_every_target
async def test_fetch_returns_the_order_the_list_names(target: GatewayTarget) -> None:
    known = await target.known_order()
    order = await target.gateway.fetch(target.store, known.id)
    assert (order.id, order.view.source_id, order.view.folder_id) == (
        known.id, known.view.source_id, known.view.folder_id
    )  # fmt: skip
    assert order.view.folder_id is not None


@on_every_target
async def test_fetch_of_a_missing_order_is_order_not_found(target: GatewayTarget) -> None:
    with pytest.raises(OrderNotFound) as caught:
        await target.gateway.fetch(target.store, MISSING_ORDER_ID)
    assert str(caught.value) == f"Order {MISSING_ORDER_ID} was not found in store {target.store.store_id}."


@on_every_target
async def test_list_page_counts_agree_with_the_total(target: GatewayTarget) -> None:
    first = await target.gateway.list_page(target.store, OrderQuery(limit=2))
    total = first.total_count
    beyond = await target.gateway.list_page(target.store, OrderQuery(limit=2, offset=total + 10))
    assert len(first.orders) == min(2, total)
    assert first.has_more == (total > 2)
    assert (beyond.orders, beyond.has_more) == ((), False)
    # Regression: over HTTP a page past the end reported the offset asked for as the total.
    assert beyond.total_count == total


@on_every_target
async def test_folder_and_source_id_filters_find_a_listed_order(target: GatewayTarget) -> None:
    known = await target.known_order()
    folder_id = known.view.folder_id
    assert folder_id is not None
    names = {f.id: f.name for f in await target.folders()}
    by_id = await target.gateway.list_page(target.store, OrderQuery(folder_id=(folder_id,), limit=20))
    by_name = await target.gateway.list_page(target.store, OrderQuery(folder_name=names[folder_id], limit=20))
    assert (
        {o.view.folder_id for o in by_id.orders} == {folder_id} == {o.view.folder_id for o in by_name.orders}
    )
    assert [o.id for o in by_name.orders] == [o.id for o in by_id.orders]
    by_source = await target.gateway.list_page(target.store, OrderQuery(source_id=known.view.source_id))
    assert known.id in [o.id for o in by_source.orders]
    assert {o.view.source_id for o in by_source.orders} == {known.view.source_id}


@on_every_target
async def test_check_connection_accepts_the_store_and_refuses_another(target: GatewayTarget) -> None:
    await target.gateway.check_connection(target.store)
    # the simulator knows no store 0; the HTTP client has no key for it
    with pytest.raises((AuthenticationFailed, CredentialsMissing)):
        await target.gateway.check_connection(StoreRef(tenant="default", store_id="0"))


@on_every_target
async def test_every_order_lives_in_one_of_the_stores_folders(target: GatewayTarget) -> None:
    folders = await target.folders()
    known = await target.known_order()
    assert folders
    assert len({f.id for f in folders}) == len(folders)
    assert all(f.id > 0 and f.name.strip() for f in folders)
    assert known.view.folder_id in {f.id for f in folders}


@on_write_targets
async def test_create_without_a_name_is_rejected_and_leaves_nothing(target: GatewayTarget) -> None:
    doc = {"source_id": target.new_order()["source_id"], "order_items": [{"name": "x"}]}
    with pytest.raises(UpstreamRejected) as caught:
        await target.gateway.create(target.store, doc)
    if target.state is not None:  # OrderDesk's own wording is not documented
        assert str(caught.value) == (
            'OrderDesk rejected the request. OrderDesk said: "'
            'a first and last name or a company is required in shipping or customer"'
        )
    assert await target.gateway.clean_up() == []  # nothing was stored under its source_id


@on_write_targets
async def test_create_computes_totals_and_replace_is_full_replacement(target: GatewayTarget) -> None:
    doc = target.new_order(checkout_data={"Gift Message": "odmcp-live"})
    created = await target.gateway.create(target.store, doc)
    assert created.view.source_id == doc["source_id"]
    assert _amount(created.doc["order_total"]) == 19.0
    assert (created.doc["shipping"]["first_name"], created.doc["shipping"]["last_name"]) == (
        "Ada",
        "Lovelace",
    )
    assert created.doc["checkout_data"] == {"Gift Message": "odmcp-live"}
    [mug] = created.doc["order_items"]
    assert str(mug["id"]).isdigit()
    assert (mug["name"], _amount(mug["price"]), int(mug["quantity"])) == ("Mug", 9.5, 2)
    changed = dict(created.doc)
    changed.pop("checkout_data")
    changed["order_items"] = [{"name": "Plate", "price": 4, "quantity": 1}]
    saved = await target.gateway.replace(target.store, created.id, changed)
    again = await target.gateway.fetch(target.store, created.id)
    for order in (saved, again):
        assert not order.doc.get("checkout_data")
        [plate] = order.doc["order_items"]
        assert plate["name"] == "Plate"
        assert str(plate["id"]) != str(mug["id"])
        assert _amount(order.doc["order_total"]) == 4.0


@on_write_targets
async def test_delete_removes_and_a_second_delete_is_not_found(target: GatewayTarget) -> None:
    created = await target.gateway.create(target.store, target.new_order())
    await target.gateway.delete(target.store, created.id)
    with pytest.raises(OrderNotFound):
        await target.gateway.delete(target.store, created.id)
    if target.state is not None:
        assert created.id not in target.state.orders(STORE_ID)


async def test_fetch_returns_the_stored_document(gateway: OrderGateway, state: SimulatorState) -> None:
    order = await gateway.fetch(STORE, "500001")
    assert order.doc == state.orders(STORE_ID)["500001"]
    assert order.view.folder_id == 1


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
    # As orders_list sends a bare-date window (ListOrdersCommand): from its first second to its last.
    start, end = "2026-10-03 00:00:00", "2026-10-04 23:59:59"
    window = OrderQuery(search_start_date=start, search_end_date=end, limit=100)
    dated = await gateway.list_page(STORE, window)
    assert {o.id for o in dated.orders} == {
        i for i, d in docs.items() if "2026-10-03" <= d["date_added"][:10] <= "2026-10-04"
    }


async def test_create_keeps_unknown_fields_and_defaults_the_source_id_to_the_id(
    gateway: OrderGateway,
) -> None:
    order = await gateway.create(STORE, NEW)
    assert order.doc["order_total"] == 19.0
    assert order.doc["shipping"] == NEW["customer"]
    assert order.doc["x_custom"] == {"kept": True}
    assert order.doc["source_id"] == order.id


async def test_replace_of_a_seeded_order_keeps_exactly_what_it_was_sent(
    gateway: OrderGateway, state: SimulatorState
) -> None:
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


async def test_folders_come_from_the_store_settings_in_their_order(gateway: Gateways) -> None:
    directory: FolderDirectory = gateway
    assert await directory.folders(STORE) == (
        Folder(id=1, name="New"),
        Folder(id=2, name="Prepared"),
        Folder(id=3, name="Closed"),
        Folder(id=4, name="Canceled"),
    )
