"""Reads that warm each other, writes that fill the cache, and a cache that hiccups during a write.

Use cases on a fake gateway, the fake cache (which counts round trips and can be taken down)
and a fake clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import pytest

from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock
from orderdesk_mcp.domain.cache_keys import order_key, order_version_key
from orderdesk_mcp.domain.cache_stats import CacheStats
from orderdesk_mcp.domain.cached_orders import order_to_cache
from orderdesk_mcp.domain.commands import (
    CreateOrderCommand,
    DeleteOrderCommand,
    GetOrderCommand,
    ListOrdersCommand,
    UpdateOrderCommand,
)
from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.errors import OrderNotFound
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage, OrderQuery
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations, invalidate_order
from orderdesk_mcp.domain.use_cases.create_order import CreateOrder
from orderdesk_mcp.domain.use_cases.delete_order import DeleteOrder
from orderdesk_mcp.domain.use_cases.get_order import GetOrder
from orderdesk_mcp.domain.use_cases.list_orders import ListOrders
from orderdesk_mcp.domain.use_cases.update_order import UpdateOrder
from tests.fake_cache import FakeOrderCache
from tests.fakes import FakeAuditLog, FakeClock, FakeOrderGateway

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="acme", store_id="100001")
TTL = 15.0
ORDERS = {str(500_001 + n): {"id": str(500_001 + n), "email": f"c{n}@example.com"} for n in range(5)}


class WritingDuringList(FakeOrderGateway):
    """A list whose fetch overlaps a write of one of its orders (the write lands mid-fetch)."""

    def __init__(self, orders: Mapping[str, Mapping[str, Any]], cache: FakeOrderCache) -> None:
        super().__init__(orders)
        self.cache = cache
        self.write_during_list: str | None = None

    async def list_page(self, store: StoreRef, query: OrderQuery) -> OrderPage:
        page = await super().list_page(store, query)
        if self.write_during_list is not None:
            self.docs[self.write_during_list]["email"] = "changed@example.com"
            await invalidate_order(self.cache, store, self.write_during_list)
        return page


class WriteBetweenChecks(FakeOrderCache):
    """A cache where another write of ``order_id`` lands while the fill stores its entries."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.order_id: str | None = None

    async def set_many(self, values: Mapping[str, Any], *, ttl: float) -> None:
        await super().set_many(values, ttl=ttl)
        if self.order_id is not None:
            await self.incr(order_version_key(STORE, self.order_id))
            self.order_id = None


class World:
    def __init__(self, cache: FakeOrderCache | None = None) -> None:
        self.clock = FakeClock()
        self.cache = cache if cache is not None else FakeOrderCache(self.clock)
        self.gateway = WritingDuringList(ORDERS, self.cache)
        self.stats = CacheStats()
        self.invalidations = Invalidations(cache=self.cache, clock=self.clock, ttl=TTL)
        self.get = GetOrder(
            gateway=self.gateway,
            cache=self.cache,
            ttl=TTL,
            stats=self.stats,
            invalidations=self.invalidations,
        )
        self.list = ListOrders(
            gateway=self.gateway,
            cache=self.cache,
            ttl=TTL,
            stats=self.stats,
            invalidations=self.invalidations,
        )
        self.update = UpdateOrder(
            gateway=self.gateway, cache=self.cache, audit=FakeAuditLog(), clock=self.clock,
            policy=ConflictPolicy(), lock=MemoryWriteLock(clock=self.clock), invalidations=self.invalidations,
        )  # fmt: skip

    async def order(self, order_id: str) -> Order:
        return await self.get(GetOrderCommand.parse(STORE, order_id))

    async def page(self) -> list[str]:
        return [o.id for o in (await self.list(ListOrdersCommand.parse(STORE, limit=50))).orders]


async def test_a_get_of_an_order_a_list_just_returned_is_a_hit() -> None:
    world = World()
    ids = await world.page()
    for order_id in ids:
        assert (await world.order(order_id)).doc == ORDERS[order_id]
    assert world.gateway.calls == {"list_page": 1}


async def test_the_list_fill_checks_the_write_counters_in_one_round_trip_however_long_the_page() -> None:
    world = World()
    before = world.cache.round_trips
    await world.page()
    # generation read, list get, list set, then the fill: counters, entries, counters again.
    assert world.cache.round_trips - before == 6


async def test_a_list_that_overlapped_a_write_fills_nothing() -> None:
    world = World()
    world.gateway.write_during_list = "500003"
    await world.page()
    assert (await world.order("500003")).doc["email"] == "changed@example.com"
    assert world.gateway.calls == {"list_page": 1, "fetch": 1}


async def test_an_order_written_while_the_fill_stored_it_is_dropped_again() -> None:
    clock = FakeClock()
    cache = WriteBetweenChecks(clock)
    world = World(cache)
    world.clock = clock
    cache.order_id = "500002"
    await world.page()
    assert await cache.get(order_key(STORE, "500002")) is None
    assert await cache.get(order_key(STORE, "500001")) is not None


async def test_the_read_right_after_an_update_is_a_hit_with_the_saved_order() -> None:
    world = World()
    result = await world.update(UpdateOrderCommand.parse(STORE, "500001", {"email": "new@example.com"}))
    fetches = world.gateway.calls["fetch"]
    read = await world.order("500001")
    assert read.doc["email"] == "new@example.com"
    assert read.fingerprint == result.order.fingerprint
    assert world.gateway.calls["fetch"] == fetches  # no upstream read


async def test_a_write_fill_is_dropped_when_another_write_landed_before_it_was_stored() -> None:
    clock = FakeClock()

    class DeleteLandsFirst(FakeOrderCache):
        async def set(self, key: str, value: Any, *, ttl: float) -> None:
            await super().set(key, value, ttl=ttl)
            if key == order_key(STORE, "500001"):
                await invalidate_order(self, STORE, "500001")  # e.g. a delete from another caller

    world = World(DeleteLandsFirst(clock))
    world.clock = clock
    await world.update(UpdateOrderCommand.parse(STORE, "500001", {"email": "new@example.com"}))
    assert await world.cache.get(order_key(STORE, "500001")) is None


async def test_after_a_failed_invalidation_this_process_reads_the_order_upstream_until_it_is_retried() -> (
    None
):
    world = World()
    stale = Order.from_document(ORDERS["500001"])
    await world.cache.set(order_key(STORE, "500001"), order_to_cache(stale), ttl=TTL)
    async with world.invalidations:
        world.cache.down = True  # Redis frozen during the update
        await world.update(UpdateOrderCommand.parse(STORE, "500001", {"email": "new@example.com"}))
        world.cache.down = False  # back before the next read, but the stale entry is still there
        assert world.invalidations.pending == 1
        assert await world.cache.get(order_key(STORE, "500001")) is not None
        assert (await world.order("500001")).doc["email"] == "new@example.com"  # bypassed, not the stale copy
        assert world.gateway.calls["fetch"] == 2
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert world.invalidations.pending == 0  # the background retry landed
        assert await world.cache.get(order_key(STORE, "500001")) is None
        assert world.clock.sleeps == [0.5]


async def test_a_failed_invalidation_is_retried_until_the_ttl_has_passed_then_given_up() -> None:
    world = World()
    async with world.invalidations:
        world.cache.down = True
        await world.update(UpdateOrderCommand.parse(STORE, "500001", {"email": "new@example.com"}))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert world.invalidations.pending == 0
        assert len(world.clock.sleeps) == int(TTL / 0.5)  # every entry it had to remove has expired by now
        assert not world.invalidations.bypassing(STORE, "500001")


async def test_an_error_inside_the_lifespan_passes_through_the_invalidations_unwrapped() -> None:
    world = World()
    with pytest.raises(ValueError, match="the tool failed"):
        async with world.invalidations:
            raise ValueError("the tool failed")


async def test_a_delete_whose_invalidation_failed_is_retried_and_the_order_read_upstream_meanwhile() -> None:
    world = World()
    await world.page()  # the list filled the cache with 500002
    delete = DeleteOrder(
        gateway=world.gateway, cache=world.cache, audit=FakeAuditLog(), clock=world.clock,
        invalidations=world.invalidations,
    )  # fmt: skip
    async with world.invalidations:
        world.cache.down = True
        await delete(DeleteOrderCommand.parse(STORE, "500002", confirm=True))
        world.cache.down = False
        assert world.invalidations.bypassing(STORE, "500002")
        assert world.invalidations.bypassing(STORE)  # and the store's list pages
        with pytest.raises(OrderNotFound):  # upstream, not the copy the list left behind
            await world.order("500002")
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert world.invalidations.pending == 0
        assert await world.cache.get(order_key(STORE, "500002")) is None


async def test_the_read_right_after_a_create_is_a_hit_with_the_created_order() -> None:
    world = World()
    create = CreateOrder(
        gateway=world.gateway, cache=world.cache, records=world.cache, audit=FakeAuditLog(),
        clock=world.clock, invalidations=world.invalidations,
    )  # fmt: skip
    new = {
        "email": "new@example.com",
        "shipping": {"first_name": "Ada", "last_name": "Lovelace"},
        "order_items": [{"name": "Mug", "price": 9.5, "quantity": 1}],
    }
    created = await create(CreateOrderCommand.parse(STORE, new))
    read = await world.order(created.order.id)
    assert read.doc == created.order.doc
    assert "fetch" not in world.gateway.calls  # no upstream read
