"""A fill that cannot be kept is removed reliably, even when the cache fails right after storing it.

Every fill (a get's, a list page's, a write's answer, an inventory item's) stores its entry and
then reads the write counter again: a write that overlapped the read makes it throw the entry
away. When the cache blipped for the operations after the store (the counter read failing, then
the delete dropped, as a Redis timeout does), the possibly stale entry stayed for its whole TTL and
nothing remembered it. Now the removal goes through ``Invalidations.discard``: a removal that fails
is remembered, retried in the background, and the order (or item) is read upstream meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import anyio
import pytest

from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.domain.cache_keys import order_key
from orderdesk_mcp.domain.cache_stats import CacheStats
from orderdesk_mcp.domain.commands import GetOrderCommand, ListOrdersCommand
from orderdesk_mcp.domain.inventory import InventoryItem
from orderdesk_mcp.domain.inventory_cache_keys import inventory_item_key
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.reach_commands import GetItemCommand
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations, invalidate_order
from orderdesk_mcp.domain.use_cases.get_inventory_item import GetInventoryItem
from orderdesk_mcp.domain.use_cases.get_order import GetOrder
from orderdesk_mcp.domain.use_cases.list_orders import ListOrders
from tests.fake_inventory import FakeInventoryGateway
from tests.fakes import FakeClock, FakeOrderGateway

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="default", store_id="100001")
TTL = 300.0


class BlipAfterSet(MemoryOrderCache):
    """Once ``armed``, every operation after the next store (``set``, or ``set_many`` when
    ``armed_on`` says so) fails as a Redis timeout does: counters read -1, deletes are dropped,
    invalidations report failure. ``recover`` ends it."""

    armed = False
    armed_on = "set"
    failing = False

    async def set(self, key: str, value: Any, *, ttl: float) -> None:
        await super().set(key, value, ttl=ttl)
        self.failing = self.failing or (self.armed and self.armed_on == "set")

    async def set_many(self, values: Mapping[str, Any], *, ttl: float) -> None:
        await super().set_many(values, ttl=ttl)
        self.failing = self.failing or (self.armed and self.armed_on == "set_many")

    async def get_counter(self, key: str) -> int:
        return -1 if self.failing else await super().get_counter(key)

    async def get_counters(self, keys: Sequence[str]) -> list[int]:
        return [-1] * len(keys) if self.failing else await super().get_counters(keys)

    async def delete(self, *keys: str) -> None:
        if not self.failing:
            await super().delete(*keys)

    async def invalidate(self, *, counters: Sequence[str], keys: Sequence[str]) -> list[int] | None:
        return None if self.failing else await super().invalidate(counters=counters, keys=keys)

    def recover(self) -> None:
        self.armed = self.failing = False


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.cache = BlipAfterSet(clock=self.clock)
        self.invalidations = Invalidations(cache=self.cache, clock=self.clock, ttl=TTL)
        self.upstream = FakeOrderGateway({"500001": {"id": "500001", "email": "old@example.com"}})


class WriteDuringRead(FakeOrderGateway):
    """Reads the order; meanwhile a write lands upstream and is invalidated, then the cache blips."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self._world = world

    def _write_lands(self) -> None:
        self._world.upstream.docs["500001"]["email"] = "new@example.com"

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        order = await self._world.upstream.fetch(store, order_id)
        self._write_lands()
        assert await invalidate_order(self._world.cache, store, order_id)
        self._world.cache.armed = True
        return order


async def _settled(world: World) -> None:
    world.cache.recover()
    with anyio.fail_after(5):
        await anyio.wait_all_tasks_blocked()


async def test_a_get_fill_whose_check_and_delete_fail_is_remembered_and_read_upstream_meanwhile() -> None:
    world = World()
    get = GetOrder(
        gateway=WriteDuringRead(world), cache=world.cache, ttl=TTL, stats=CacheStats(),
        invalidations=world.invalidations,
    )  # fmt: skip
    plain = GetOrder(
        gateway=world.upstream,
        cache=world.cache,
        ttl=TTL,
        stats=CacheStats(),
        invalidations=world.invalidations,
    )
    async with world.invalidations:
        await get(GetOrderCommand.parse(STORE, "500001"))
        assert world.invalidations.pending == 1
        assert world.invalidations.bypassing(STORE, "500001")
        await _settled(world)
        assert world.invalidations.pending == 0
        assert await world.cache.get(order_key(STORE, "500001")) is None  # the unverified entry is gone
        world.clock.advance(TTL / 2)
        assert (await plain(GetOrderCommand.parse(STORE, "500001"))).doc["email"] == "new@example.com"


async def test_a_write_fill_whose_check_fails_is_remembered_until_it_is_removed() -> None:
    world = World()
    saved = Order.from_document({"id": "500001", "email": "new@example.com"})
    async with world.invalidations:
        world.cache.armed = True  # the fill's own store arms it: the counter check then fails
        await world.invalidations.after_write(STORE, "500001", saved)
        assert world.invalidations.bypassing(STORE, "500001")
        await _settled(world)
        assert world.invalidations.pending == 0
        assert await world.cache.get(order_key(STORE, "500001")) is None


async def test_a_page_fill_whose_check_and_delete_fail_is_remembered_per_order() -> None:
    world = World()
    world.upstream.docs["500002"] = {"id": "500002", "email": "b@example.com"}
    orders = ListOrders(
        gateway=world.upstream,
        cache=world.cache,
        ttl=TTL,
        stats=CacheStats(),
        invalidations=world.invalidations,
    )
    async with world.invalidations:
        world.cache.armed, world.cache.armed_on = True, "set_many"  # the orders' fill arms it
        await orders(ListOrdersCommand.parse(STORE, limit=10))
        assert world.invalidations.bypassing(STORE, "500001")
        assert world.invalidations.bypassing(STORE, "500002")
        await _settled(world)
        assert world.invalidations.pending == 0
        assert await world.cache.get(order_key(STORE, "500001")) is None
        assert await world.cache.get(order_key(STORE, "500002")) is None


class ItemWriteDuringRead(FakeInventoryGateway):
    def __init__(self, world: World) -> None:
        super().__init__({"2501": {"id": 2501, "name": "Mug", "code": "MUG-1", "price": 9.5, "stock": 10}})
        self._world = world

    async def fetch_item(self, store: StoreRef, item_id: str) -> InventoryItem:
        item = await super().fetch_item(store, item_id)
        self._world.cache.armed = True
        return item


async def test_an_item_fill_whose_check_and_delete_fail_is_remembered() -> None:
    world = World()
    get = GetInventoryItem(
        inventory=ItemWriteDuringRead(world), cache=world.cache, ttl=TTL, invalidations=world.invalidations
    )
    async with world.invalidations:
        await get(GetItemCommand.parse(STORE, "2501"))
        assert world.invalidations.bypassing_inventory(STORE, "2501")
        await _settled(world)
        assert world.invalidations.pending == 0
        assert await world.cache.get(inventory_item_key(STORE, "2501")) is None
