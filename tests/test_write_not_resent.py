"""A write whose answer was lost is never re-sent blind: the retry reads the order first.

aiohttp re-sends a PUT or DELETE by itself, once, when a kept-alive connection drops before the
answer. OrderDesk may have applied the first one; re-sending the same full document would
overwrite whatever changed in between. The HTTP adapter stops that re-send, so the lost answer
reaches ``UpdateOrder``, which reads the order again and re-merges inside its lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from orderdesk_mcp.adapters.memory_rate_limiter import MemoryRateLimiter
from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.domain.commands import UpdateOrderCommand
from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.context import CallContext, call_context
from orderdesk_mcp.domain.errors import UpstreamUnavailable
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage, OrderQuery
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.use_cases.resilient_gateway import ResilientOrderGateway
from orderdesk_mcp.domain.use_cases.update_order import UpdateOrder
from orderdesk_mcp.ports.gateway import OrderGateway
from tests.fake_cache import FakeOrderCache
from tests.fakes import FakeAuditLog, FakeClock
from tests.upstream_harness import API_KEY, STORE_ID, http_gateway, served_simulator

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="default", store_id=STORE_ID)


def _state() -> tuple[SimulatorState, str]:
    state = SimulatorState()
    state.faults.rate_limit_enabled = False
    state.add_store(STORE_ID, API_KEY)
    state.seed_samples(STORE_ID, 2)
    return state, next(iter(state.orders(STORE_ID)))


def _sent(state: SimulatorState, order_id: str) -> list[str]:
    return [r.method for r in state.requests if r.path.endswith(f"/orders/{order_id}")]


async def test_a_put_whose_answer_was_lost_is_not_re_sent_by_the_http_client() -> None:
    state, order_id = _state()
    state.faults.drop_next(1, after_processing=True, method="PUT")
    async with served_simulator(state) as url, http_gateway(url) as http:
        current = await http.fetch(STORE, order_id)  # leaves a kept-alive connection in the pool
        with pytest.raises(UpstreamUnavailable) as caught:
            await http.replace(STORE, order_id, {**current.doc, "email": "new@example.com"})
    assert caught.value.maybe_sent
    assert str(caught.value) == "OrderDesk is unavailable right now (connection lost); try again in a minute."
    assert _sent(state, order_id) == ["GET", "PUT"]


async def test_a_delete_whose_answer_was_lost_is_not_re_sent_by_the_http_client() -> None:
    state, order_id = _state()
    state.faults.drop_next(1, after_processing=True, method="DELETE")
    async with served_simulator(state) as url, http_gateway(url) as http:
        await http.fetch(STORE, order_id)
        with pytest.raises(UpstreamUnavailable) as caught:
            await http.delete(STORE, order_id)
    assert caught.value.maybe_sent
    assert _sent(state, order_id) == ["GET", "DELETE"]  # a re-send would have been answered 404
    assert order_id not in state.orders(STORE_ID)


class _OutsideWriterAfterLostPut:
    """The HTTP gateway, plus someone changing the order in OrderDesk right after our PUT's answer is lost."""

    def __init__(self, inner: OrderGateway, state: SimulatorState, order_id: str) -> None:
        self._inner = inner
        self._state = state
        self._order_id = order_id

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        return await self._inner.fetch(store, order_id)

    async def list_page(self, store: StoreRef, query: OrderQuery) -> OrderPage:
        return await self._inner.list_page(store, query)

    async def create(self, store: StoreRef, doc: Mapping[str, Any]) -> Order:
        return await self._inner.create(store, doc)

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        try:
            return await self._inner.replace(store, order_id, doc)
        except UpstreamUnavailable:
            self._state.orders(STORE_ID)[self._order_id]["shipping_method"] = "Express (changed outside)"
            raise

    async def delete(self, store: StoreRef, order_id: str) -> None:
        await self._inner.delete(store, order_id)

    async def check_connection(self, store: StoreRef) -> None:
        await self._inner.check_connection(store)


async def test_an_update_whose_put_answer_was_lost_reads_again_and_keeps_a_change_made_meanwhile() -> None:
    state, order_id = _state()
    state.faults.drop_next(1, after_processing=True, method="PUT")
    clock = FakeClock()
    async with served_simulator(state) as url, http_gateway(url) as http:
        await http.fetch(STORE, order_id)  # a kept-alive connection, as a busy server has
        limiter = MemoryRateLimiter(burst=100, per_second=100.0, clock=clock)
        outside = _OutsideWriterAfterLostPut(http, state, order_id)
        gateway = ResilientOrderGateway(inner=outside, limiter=limiter, clock=clock, policy=RetryPolicy())
        update = UpdateOrder(
            gateway=gateway, cache=FakeOrderCache(clock), audit=FakeAuditLog(), clock=clock,
            policy=ConflictPolicy(), lock=MemoryWriteLock(clock=clock), resilience=gateway.resilience,
        )  # fmt: skip
        with call_context(CallContext(correlation_id="c1")):
            result = await update(UpdateOrderCommand.parse(STORE, order_id, {"email": "new@example.com"}))
    stored = state.orders(STORE_ID)[order_id]
    assert stored["email"] == "new@example.com"
    assert stored["shipping_method"] == "Express (changed outside)"
    # The re-read finds our change applied by the PUT whose answer was lost: nothing left to send.
    assert _sent(state, order_id) == ["GET", "GET", "PUT", "GET"]
    assert result.attempts == 2
