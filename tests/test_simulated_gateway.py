"""SimulatedOrderGateway: the simulator in-process behind the OrderGateway port, with domain errors."""

from __future__ import annotations

import pytest

from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.domain.errors import (
    AuthenticationFailed,
    ConcurrentModification,
    OrderNotFound,
    OutcomeUnknown,
    RateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.pagination import OrderQuery
from orderdesk_mcp.ports.gateway import OrderGateway
from tests.factories import order_doc, order_docs
from tests.fakes import FakeClock

pytestmark = pytest.mark.anyio

STORE_ID = "100001"
STORE = StoreRef(tenant="default", store_id=STORE_ID)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> SimulatorState:
    sim = SimulatorState(clock=clock)
    sim.add_store(STORE_ID, "sim-key")
    sim.seed(STORE_ID, [d | {"folder_id": 1 + n % 2} for n, d in enumerate(order_docs(6, seed=3))])
    return sim


def _as_port(state: SimulatorState) -> OrderGateway:
    return SimulatedOrderGateway(state)  # mypy checks that the port is implemented


@pytest.fixture
def gateway(state: SimulatorState) -> SimulatedOrderGateway:
    return SimulatedOrderGateway(state)


async def test_it_is_a_no_op_async_context_manager(state: SimulatorState) -> None:
    async with SimulatedOrderGateway(state) as gateway:
        order = await gateway.fetch(STORE, "500001")
    assert order.doc == state.orders(STORE_ID)["500001"]


async def test_fetch_and_delete_of_a_missing_order_are_order_not_found(
    gateway: SimulatedOrderGateway,
) -> None:
    for attempt in (gateway.fetch(STORE, "999999"), gateway.delete(STORE, "999999")):
        with pytest.raises(OrderNotFound) as caught:
            await attempt
        assert str(caught.value) == "Order 999999 was not found in store 100001."


async def test_list_page_applies_the_query_and_an_offset_past_the_end_is_empty(
    gateway: SimulatedOrderGateway,
) -> None:
    page = await gateway.list_page(STORE, OrderQuery(folder_id=(2,), order_by="id", order="asc", limit=2))
    assert ([o.id for o in page.orders], page.total_count, page.has_more) == (["500002", "500004"], 3, True)
    empty = await gateway.list_page(STORE, OrderQuery(offset=50))
    assert (empty.orders, empty.total_count, empty.has_more) == ((), 6, False)


async def test_a_filter_orderdesk_would_refuse_is_upstream_rejected_with_its_message(
    gateway: SimulatedOrderGateway,
) -> None:
    with pytest.raises(UpstreamRejected) as caught:
        await gateway.list_page(STORE, OrderQuery(search_start_date="last tuesday"))
    assert str(caught.value) == (
        'OrderDesk rejected the request. OrderDesk said: "'
        'search_start_date must be a UTC date as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"'
    )
    assert caught.value.status == 422


async def test_create_stores_the_order_and_a_duplicate_source_is_rejected(
    gateway: SimulatedOrderGateway, state: SimulatorState
) -> None:
    doc = order_doc(source_name="Etsy", source_id="ETSY-9")
    created = await gateway.create(STORE, doc)
    assert created.id == "500007"
    assert created.doc == state.orders(STORE_ID)["500007"]
    with pytest.raises(UpstreamRejected) as caught:
        await gateway.create(STORE, doc)
    assert (
        str(caught.value)
        == 'OrderDesk rejected the request. OrderDesk said: "Duplicate order: existing order id 500007"'
    )


async def test_create_without_items_is_rejected_with_orderdesks_message(
    gateway: SimulatedOrderGateway,
) -> None:
    with pytest.raises(UpstreamRejected) as caught:
        await gateway.create(STORE, order_doc(order_items=[]))
    assert (
        str(caught.value)
        == 'OrderDesk rejected the request. OrderDesk said: "at least one order item is required"'
    )


async def test_replace_writes_the_full_document_and_a_409_is_concurrent_modification(
    gateway: SimulatedOrderGateway, state: SimulatorState
) -> None:
    doc = dict(state.orders(STORE_ID)["500002"])
    doc.pop("checkout_data")
    saved = await gateway.replace(STORE, "500002", doc | {"x_kept": 1})
    assert "checkout_data" not in saved.doc
    assert saved.doc["x_kept"] == 1
    state.faults.conflict_next_put()
    with pytest.raises(ConcurrentModification) as caught:
        await gateway.replace(STORE, "500002", doc)
    assert str(caught.value) == "Order 500002 was changed by another writer at the same time."


async def test_change_after_read_edits_the_order_after_the_fetch_returns(
    gateway: SimulatedOrderGateway, state: SimulatorState
) -> None:
    state.faults.change_after_read("500003")
    first = await gateway.fetch(STORE, "500003")
    second = await gateway.fetch(STORE, "500003")
    assert "external_edit" not in first.doc["order_metadata"]
    assert second.doc["order_metadata"]["external_edit"] == 1
    assert first.fingerprint != second.fingerprint
    assert (await gateway.fetch(STORE, "500003")).fingerprint == second.fingerprint


async def test_fail_next_is_upstream_unavailable_and_for_a_create_outcome_unknown(
    gateway: SimulatedOrderGateway, state: SimulatorState
) -> None:
    state.faults.fail_next(1, status=503)
    with pytest.raises(UpstreamUnavailable) as caught:
        await gateway.fetch(STORE, "500001")
    assert str(caught.value) == "OrderDesk is unavailable right now (HTTP 503); try again in a minute."
    state.faults.fail_next(1, status=500)
    with pytest.raises(OutcomeUnknown):
        await gateway.create(STORE, order_doc())
    state.faults.fail_next(1, status=400, body=b'{"status":"error","message":"Bad folder"}')
    with pytest.raises(UpstreamRejected, match="Bad folder"):
        await gateway.list_page(STORE, OrderQuery())


async def test_a_fault_for_another_path_is_left_for_that_path(
    gateway: SimulatedOrderGateway, state: SimulatorState
) -> None:
    state.faults.fail_next(1, path_prefix="/orders/500004")
    await gateway.fetch(STORE, "500001")
    with pytest.raises(UpstreamUnavailable):
        await gateway.delete(STORE, "500004")
    assert "500004" in state.orders(STORE_ID)


async def test_rate_limit_next_is_rate_limited_for_the_store_with_its_retry_after(
    gateway: SimulatedOrderGateway, state: SimulatorState
) -> None:
    state.faults.rate_limit_next(1, retry_after=4)
    with pytest.raises(RateLimited) as caught:
        await gateway.fetch(STORE, "500001")
    assert (caught.value.store_id, caught.value.retry_after) == (STORE_ID, 4.0)
    assert str(caught.value) == "OrderDesk's rate limit for store 100001 was reached; retry in 4.0 s."


async def test_an_error_body_is_upstream_rejected_and_nothing_is_written(
    gateway: SimulatedOrderGateway, state: SimulatorState
) -> None:
    state.faults.error_body_next(1, "Order locked by a rule")
    with pytest.raises(UpstreamRejected) as caught:
        await gateway.replace(STORE, "500001", {"order_items": []})
    assert str(caught.value) == 'OrderDesk rejected the request. OrderDesk said: "Order locked by a rule"'
    assert state.orders(STORE_ID)["500001"]["order_items"] != []


async def test_a_dropped_create_after_processing_is_outcome_unknown_yet_stored(
    gateway: SimulatedOrderGateway, state: SimulatorState
) -> None:
    state.faults.drop_next(1, after_processing=True)
    with pytest.raises(OutcomeUnknown) as caught:
        await gateway.create(STORE, order_doc())
    assert str(caught.value) == (
        "OrderDesk did not confirm the order creation (connection lost); it may or may not have happened."
    )
    assert "500007" in state.orders(STORE_ID)
    state.faults.drop_next(1)
    with pytest.raises(UpstreamUnavailable, match="connection lost"):
        await gateway.delete(STORE, "500007")
    assert "500007" in state.orders(STORE_ID)


async def test_http_only_faults_stay_queued_and_no_request_is_logged(
    gateway: SimulatedOrderGateway, state: SimulatorState
) -> None:
    state.faults.slow_next(1, 30.0)
    state.faults.huge_body_next(1, 10_000_000)
    await gateway.fetch(STORE, "500001")
    assert state.faults.pending() == 2
    assert state.requests == []


async def test_an_unknown_store_is_authentication_failed(gateway: SimulatedOrderGateway) -> None:
    other = StoreRef(tenant="default", store_id="777")
    with pytest.raises(AuthenticationFailed):
        await gateway.check_connection(other)
    with pytest.raises(AuthenticationFailed):
        await gateway.fetch(other, "500001")
    await gateway.check_connection(STORE)
