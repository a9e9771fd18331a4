"""A DELETE whose answer was lost and whose retry gets 404 deleted the order: say so, not "not found"."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderdesk_mcp.adapters.memory_rate_limiter import MemoryRateLimiter
from orderdesk_mcp.adapters.simulator import SimulatorState, default_state
from orderdesk_mcp.domain.commands import DeleteOrderCommand
from orderdesk_mcp.domain.context import CallContext, call_context
from orderdesk_mcp.domain.errors import OrderNotFound
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.use_cases.delete_order import DeleteOrder
from orderdesk_mcp.domain.use_cases.resilient_gateway import ResilientOrderGateway
from orderdesk_mcp.entrypoints.settings import SIMULATOR_API_KEY, SIMULATOR_STORE_ID
from tests.fake_cache import FakeOrderCache
from tests.fakes import FakeAuditLog, FakeClock
from tests.mcp_harness import make_container, mcp_client
from tests.upstream_harness import API_KEY, STORE_ID, http_gateway, served_simulator

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="default", store_id=STORE_ID)


def _state() -> SimulatorState:
    state = SimulatorState()
    state.faults.rate_limit_enabled = False
    state.add_store(STORE_ID, API_KEY)
    state.seed_samples(STORE_ID, 3)
    return state


async def _delete(state: SimulatorState, order_id: str) -> tuple[str, FakeAuditLog]:
    clock = FakeClock()
    audit = FakeAuditLog()
    async with served_simulator(state) as url, http_gateway(url) as http:
        limiter = MemoryRateLimiter(burst=100, per_second=100.0, clock=clock)
        gateway = ResilientOrderGateway(inner=http, limiter=limiter, clock=clock, policy=RetryPolicy())
        delete = DeleteOrder(gateway=gateway, cache=FakeOrderCache(clock), audit=audit, clock=clock)
        with call_context(CallContext(correlation_id="c1")):
            result = await delete(DeleteOrderCommand.parse(STORE, order_id, confirm=True))
    assert result.order_id == order_id
    return result.note, audit


async def test_a_delete_whose_answer_was_lost_and_whose_retry_finds_nothing_reports_it_deleted() -> None:
    state = _state()
    order_id = next(iter(state.orders(STORE_ID)))
    # The DELETE lands and its answer is lost; the retry (ours: aiohttp's own re-send is off) gets 404.
    state.faults.drop_next(1, after_processing=True)
    note, audit = await _delete(state, order_id)
    assert note == (
        "OrderDesk's answer to the first delete request was lost; the retry found the order already "
        "gone, so that first request deleted it."
    )
    assert order_id not in state.orders(STORE_ID)
    assert [(r.outcome, r.error) for r in audit.records] == [("ok", None)]


async def test_a_plain_delete_has_no_note() -> None:
    state = _state()
    note, _ = await _delete(state, next(iter(state.orders(STORE_ID))))
    assert note == ""


async def test_a_delete_of_a_missing_order_without_a_lost_answer_is_still_not_found() -> None:
    with pytest.raises(OrderNotFound) as caught:
        await _delete(_state(), "999999")
    assert str(caught.value) == f"Order 999999 was not found in store {STORE_ID}."


async def test_orders_delete_tells_the_agent_when_the_first_answer_was_lost(tmp_path: Path) -> None:
    state = default_state(store_id=SIMULATOR_STORE_ID, api_key=SIMULATOR_API_KEY, sample_count=3)
    order_id = next(iter(state.orders(SIMULATOR_STORE_ID)))
    state.faults.drop_next(1, after_processing=True, method="DELETE")
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        lost = await client.call_tool("orders_delete", {"order_id": order_id, "confirm": True})
        other = next(iter(state.orders(SIMULATOR_STORE_ID)))
        plain = await client.call_tool("orders_delete", {"order_id": other, "confirm": True})
    assert not lost.is_error
    assert lost.structured_content == {
        "deleted": True,
        "order_id": order_id,
        "note": "OrderDesk's answer to the first delete request was lost; the retry found the order already "
        "gone, so that first request deleted it.",
    }
    assert order_id not in state.orders(SIMULATOR_STORE_ID)
    assert plain.structured_content == {"deleted": True, "order_id": other}  # no note on an ordinary answer
