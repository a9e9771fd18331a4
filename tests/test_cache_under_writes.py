"""A write to one order never stops another order's read from filling the cache."""

from __future__ import annotations

import pytest

from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.domain.cache_keys import order_key
from orderdesk_mcp.domain.cache_stats import CacheStats
from orderdesk_mcp.domain.commands import GetOrderCommand
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.use_cases.cache_invalidation import invalidate_order
from orderdesk_mcp.domain.use_cases.get_order import GetOrder
from tests.fakes import FakeClock, FakeOrderGateway

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="t", store_id="1")


class _WritesDuringFetch(FakeOrderGateway):
    """While order 500001 is fetched, another writer changes ``written`` (then the fetch ends)."""

    def __init__(self, cache: MemoryOrderCache, written: str) -> None:
        super().__init__({"500001": {"id": "500001"}, "500002": {"id": "500002"}})
        self._cache = cache
        self._written = written

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        order = await super().fetch(store, order_id)
        await invalidate_order(self._cache, store, self._written)
        return order


@pytest.mark.parametrize(("written", "cached"), [("500002", True), ("500001", False)])
async def test_only_a_write_of_the_same_order_discards_a_concurrent_fill(written: str, cached: bool) -> None:
    clock = FakeClock()
    cache = MemoryOrderCache(clock=clock)
    get = GetOrder(gateway=_WritesDuringFetch(cache, written), cache=cache, ttl=15, stats=CacheStats())
    await get(GetOrderCommand.parse(STORE, "500001"))
    assert (await cache.get(order_key(STORE, "500001")) is not None) is cached
