"""Read-through caching in GetOrder and ListOrders: hits, TTLs, keys, invalidation, stampedes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
import redis.asyncio

from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.adapters.redis_cache import RedisOrderCache, redis_client_from_url
from orderdesk_mcp.domain.cache_stats import CacheStats
from orderdesk_mcp.domain.commands import GetOrderCommand, ListOrdersCommand
from orderdesk_mcp.domain.errors import OrderDeskError, OrderNotFound, UpstreamUnavailable
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage, OrderQuery
from orderdesk_mcp.domain.use_cases.cache_invalidation import invalidate_order
from orderdesk_mcp.domain.use_cases.get_order import GetOrder
from orderdesk_mcp.domain.use_cases.list_orders import ListOrders
from orderdesk_mcp.ports.cache import OrderCache
from tests.fakes import FakeClock, FakeOrderGateway

STORE = StoreRef(tenant="acme", store_id="1001")
TTL = 15.0


def _docs(count: int = 3) -> dict[str, dict[str, Any]]:
    return {
        str(n): {
            "id": str(n),
            "email": f"buyer{n}@example.com",
            "folder_id": 1 + n % 2,
            "source_id": f"S{n % 2}",
        }
        for n in range(500001, 500001 + count)
    }


class GatedGateway(FakeOrderGateway):
    """Each fetch reads the stored document first, then waits until ``gate`` opens.

    ``late_error``, when set, is raised once the gate opens (a slow upstream that fails).
    """

    def __init__(self, orders: dict[str, dict[str, Any]]) -> None:
        super().__init__(orders)
        self.gate = anyio.Event()
        self.entered = anyio.Event()
        self.late_error: OrderDeskError | None = None

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        order = await super().fetch(store, order_id)
        self.entered.set()
        await self.gate.wait()
        if self.late_error is not None:
            error, self.late_error = self.late_error, None
            raise error
        return order


class Reads:
    def __init__(self, gateway: FakeOrderGateway, cache: OrderCache | None = None) -> None:
        self.clock = FakeClock()
        self.gateway = gateway
        self.cache: OrderCache = cache if cache is not None else MemoryOrderCache(clock=self.clock)
        self.stats = CacheStats()
        self.get = GetOrder(gateway=gateway, cache=self.cache, ttl=TTL, stats=self.stats)
        self.list = ListOrders(gateway=gateway, cache=self.cache, ttl=TTL, stats=self.stats)

    async def order(self, order_id: str, store: StoreRef = STORE) -> Order:
        return await self.get(GetOrderCommand.parse(store, order_id))

    async def page(self, **filters: Any) -> list[str]:
        page = await self.list(ListOrdersCommand.parse(STORE, **filters))
        return [order.id for order in page.orders]


@pytest.mark.anyio
async def test_the_second_get_is_served_from_the_cache() -> None:
    reads = Reads(FakeOrderGateway(_docs()))
    first = await reads.order("500001")
    second = await reads.order("500001")
    assert reads.gateway.calls["fetch"] == 1
    assert (second.doc, second.fingerprint, second.view) == (first.doc, first.fingerprint, first.view)
    assert reads.stats.snapshot() == {"tenant:acme:store:1001": {"hits": 1, "misses": 1}}


@pytest.mark.anyio
async def test_a_cached_order_expires_after_the_ttl_of_15_seconds() -> None:
    reads = Reads(FakeOrderGateway(_docs()))
    await reads.order("500001")
    reads.clock.advance(14.9)
    await reads.order("500001")
    assert reads.gateway.calls["fetch"] == 1
    reads.clock.advance(0.1)
    await reads.order("500001")
    assert reads.gateway.calls["fetch"] == 2


@pytest.mark.anyio
async def test_the_same_list_query_twice_is_served_from_the_cache() -> None:
    reads = Reads(FakeOrderGateway(_docs()))
    assert await reads.page(limit=2) == ["500001", "500002"]
    assert await reads.page(limit=2) == ["500001", "500002"]
    assert reads.gateway.calls["list_page"] == 1
    page = await reads.list(ListOrdersCommand.parse(STORE, limit=2))
    assert (page.total_count, page.limit, page.offset, page.has_more) == (3, 2, 0, True)


class CountingShaping:
    """A ListOrders.shaped caller: shapes a page into its ids under ``variant``, counting shapes."""

    def __init__(self, variant: str = "v1") -> None:
        self.variant = variant
        self.shaped = 0

    async def __call__(self) -> tuple[str, Callable[[OrderPage], dict[str, Any]]]:
        def shape(page: OrderPage) -> dict[str, Any]:
            self.shaped += 1
            return {"ids": [order.id for order in page.orders], "variant": self.variant}

        return self.variant, shape


@pytest.mark.anyio
async def test_a_repeated_list_reuses_its_shaped_result_until_a_write_retires_it() -> None:
    reads, shaping = Reads(FakeOrderGateway(_docs())), CountingShaping()
    cmd = ListOrdersCommand.parse(STORE, limit=2)
    first = await reads.list.shaped(cmd, shaping)
    first["ids"].append("changed by the caller")
    assert await reads.list.shaped(cmd, shaping) == {"ids": ["500001", "500002"], "variant": "v1"}
    assert (shaping.shaped, reads.gateway.calls["list_page"]) == (1, 1)
    assert reads.stats.snapshot()["tenant:acme:store:1001"] == {"hits": 1, "misses": 1}

    del reads.gateway.docs["500001"]
    await invalidate_order(reads.cache, STORE, "500001")
    assert (await reads.list.shaped(cmd, shaping))["ids"] == ["500002", "500003"]
    assert (shaping.shaped, reads.gateway.calls["list_page"]) == (2, 2)


@pytest.mark.anyio
async def test_a_shaped_result_expires_with_its_page() -> None:
    reads, shaping = Reads(FakeOrderGateway(_docs())), CountingShaping()
    cmd = ListOrdersCommand.parse(STORE, limit=2)
    await reads.list.shaped(cmd, shaping)
    reads.clock.advance(TTL + 0.1)
    await reads.list.shaped(cmd, shaping)
    assert (shaping.shaped, reads.gateway.calls["list_page"]) == (2, 2)


@pytest.mark.anyio
async def test_a_shape_made_from_a_cached_page_is_not_stored() -> None:
    # The page may be nearly TTL old; a shape stored now would outlive it.
    reads, shaping = Reads(FakeOrderGateway(_docs())), CountingShaping()
    cmd = ListOrdersCommand.parse(STORE, limit=2)
    await reads.list(cmd)
    await reads.list.shaped(cmd, shaping)
    await reads.list.shaped(cmd, shaping)
    assert (shaping.shaped, reads.gateway.calls["list_page"]) == (2, 1)


@pytest.mark.anyio
async def test_another_variant_view_or_field_list_is_shaped_again_from_the_cached_page() -> None:
    reads = Reads(FakeOrderGateway(_docs()))
    first, renamed = CountingShaping("folders v1"), CountingShaping("folders v2")
    summary = ListOrdersCommand.parse(STORE, limit=2)
    await reads.list.shaped(summary, first)
    assert (await reads.list.shaped(summary, renamed))["variant"] == "folders v2"
    await reads.list.shaped(ListOrdersCommand.parse(STORE, limit=2, view="full"), first)
    await reads.list.shaped(ListOrdersCommand.parse(STORE, limit=2, fields=["email"]), first)
    assert (first.shaped, renamed.shaped, reads.gateway.calls["list_page"]) == (3, 1, 1)


@pytest.mark.anyio
async def test_a_failing_list_is_reported_before_anything_is_shaped() -> None:
    # The caller's shaping reads folder names from OrderDesk; a list that fails must not cost those.
    reads, shaping = Reads(FakeOrderGateway(_docs())), CountingShaping()
    calls = 0

    async def counted() -> tuple[str, Callable[[OrderPage], dict[str, Any]]]:
        nonlocal calls
        calls += 1
        return await shaping()

    reads.gateway.fail_next("list_page", UpstreamUnavailable("boom"))
    with pytest.raises(UpstreamUnavailable):
        await reads.list.shaped(ListOrdersCommand.parse(STORE, limit=2), counted)
    assert (calls, shaping.shaped) == (0, 0)


VARIANTS: dict[str, Any] = {
    "limit": 7,
    "offset": 1,
    "folder_id": "2",
    "folder_name": "Shipped",
    "source_id": "S1",
    "email": "buyer@example.com",
    "search_start_date": "2026-01-01",
    "search_end_date": "2026-01-31",
    "modified_start_date": "2026-02-01",
    "modified_end_date": "2026-02-28",
    "order_by": "email",
    "order": "desc",
}


def test_the_variants_cover_every_query_field() -> None:
    assert set(VARIANTS) == set(OrderQuery.__struct_fields__)


@pytest.mark.parametrize("field", sorted(VARIANTS))
@pytest.mark.anyio
async def test_two_searches_differing_in_any_one_argument_never_share_a_page(field: str) -> None:
    reads = Reads(FakeOrderGateway(_docs()))
    await reads.page()
    await reads.page(**{field: VARIANTS[field]})
    await reads.page(**{field: VARIANTS[field]})
    assert reads.gateway.calls["list_page"] == 2


@pytest.mark.anyio
async def test_invalidate_order_retires_the_order_entry_and_every_list_page() -> None:
    reads = Reads(FakeOrderGateway(_docs()))
    await reads.order("500001")
    assert await reads.page(limit=5) == ["500001", "500002", "500003"]
    assert await reads.page(source_id="S0") == ["500002"]
    reads.gateway.docs["500001"]["email"] = "changed@example.com"
    del reads.gateway.docs["500002"]
    await invalidate_order(reads.cache, STORE, "500001")
    assert (await reads.order("500001")).doc["email"] == "changed@example.com"
    assert await reads.page(limit=5) == ["500001", "500003"]
    assert await reads.page(source_id="S0") == []
    assert (reads.gateway.calls["fetch"], reads.gateway.calls["list_page"]) == (2, 4)


@pytest.mark.anyio
async def test_a_hundred_concurrent_gets_of_a_cold_order_fetch_it_once() -> None:
    reads = Reads(GatedGateway(_docs()))
    gateway = reads.gateway
    assert isinstance(gateway, GatedGateway)
    results: list[Order] = []

    async def get() -> None:
        results.append(await reads.order("500001"))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(get)
            await gateway.entered.wait()
            await anyio.wait_all_tasks_blocked()
            gateway.gate.set()
    assert gateway.calls["fetch"] == 1
    assert len(results) == 100
    assert {r.fingerprint for r in results} == {results[0].fingerprint}
    assert reads.stats.snapshot()["tenant:acme:store:1001"] == {"hits": 0, "misses": 100}


@pytest.mark.anyio
async def test_an_upstream_error_reaches_every_waiter_and_is_not_cached() -> None:
    reads = Reads(GatedGateway(_docs()))
    gateway = reads.gateway
    assert isinstance(gateway, GatedGateway)
    gateway.late_error = UpstreamUnavailable("HTTP 503")
    messages: list[str] = []

    async def get() -> None:
        try:
            await reads.order("500001")
        except UpstreamUnavailable as exc:
            messages.append(str(exc))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(get)
            await gateway.entered.wait()
            await anyio.wait_all_tasks_blocked()
            gateway.gate.set()
    assert gateway.calls["fetch"] == 1
    assert messages == ["OrderDesk is unavailable right now (HTTP 503); try again in a minute."] * 10
    assert await reads.cache.get("tenant:acme:store:1001:orders:500001") is None
    assert (await reads.order("500001")).id == "500001"
    assert gateway.calls["fetch"] == 2


@pytest.mark.anyio
async def test_a_missing_order_is_not_cached() -> None:
    reads = Reads(FakeOrderGateway(_docs()))
    with pytest.raises(OrderNotFound, match=r"^Order 500009 was not found in store 1001\.$"):
        await reads.order("500009")
    reads.gateway.docs["500009"] = {"id": "500009"}
    assert (await reads.order("500009")).id == "500009"


@pytest.mark.anyio
async def test_a_read_that_started_before_a_write_does_not_refill_the_cache_with_old_data() -> None:
    gateway = GatedGateway(_docs())
    reads = Reads(gateway)
    seen: list[str] = []

    async def slow_reader() -> None:
        seen.append((await reads.order("500001")).doc["email"])

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(slow_reader)
            await gateway.entered.wait()  # it has read the old document upstream
            gateway.docs["500001"]["email"] = "new@example.com"  # the write lands upstream...
            await invalidate_order(reads.cache, STORE, "500001")  # ...and invalidates
            gateway.gate.set()
    assert seen == ["buyer500001@example.com"]  # it overlapped the write: old is fair
    assert await reads.cache.get("tenant:acme:store:1001:orders:500001") is None
    assert (await reads.order("500001")).doc["email"] == "new@example.com"


@pytest.mark.anyio
async def test_a_read_after_a_write_never_joins_a_fetch_that_started_before_it() -> None:
    gateway = GatedGateway(_docs())
    reads = Reads(gateway)
    seen: dict[str, str] = {}

    async def reader(name: str) -> None:
        seen[name] = (await reads.order("500001")).doc["email"]

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(reader, "before")
            await gateway.entered.wait()
            gateway.docs["500001"]["email"] = "new@example.com"
            await invalidate_order(reads.cache, STORE, "500001")
            tg.start_soon(reader, "after")
            await anyio.wait_all_tasks_blocked()
            gateway.gate.set()
    assert seen == {"before": "buyer500001@example.com", "after": "new@example.com"}
    assert gateway.calls["fetch"] == 2


@pytest.mark.anyio
async def test_the_same_order_id_under_two_tenants_never_shares_an_entry() -> None:
    reads = Reads(FakeOrderGateway(_docs()))
    other = StoreRef(tenant="globex", store_id="1001")
    await reads.order("500001")
    reads.gateway.docs["500001"]["email"] = "globex@example.com"
    assert (await reads.order("500001", other)).doc["email"] == "globex@example.com"
    assert (await reads.order("500001")).doc["email"] == "buyer500001@example.com"
    assert reads.gateway.calls["fetch"] == 2
    assert set(reads.stats.snapshot()) == {"tenant:acme:store:1001", "tenant:globex:store:1001"}


def _text(key: bytes | str) -> str:
    return key.decode() if isinstance(key, bytes) else key


@pytest.fixture
async def redis_client(redis_url: str, redis_prefix: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis_client_from_url(redis_url)
    try:
        yield client
        leftovers = await client.keys(redis_prefix + "*")
        if leftovers:
            await client.delete(*leftovers)
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_tenants_get_separate_keys_in_redis(
    redis_client: redis.asyncio.Redis, redis_prefix: str
) -> None:
    reads = Reads(FakeOrderGateway(_docs()), RedisOrderCache(client=redis_client, prefix=redis_prefix))
    await reads.order("500001")
    await reads.order("500001", StoreRef(tenant="globex", store_id="1001"))
    await reads.order("500001")
    assert reads.gateway.calls["fetch"] == 2
    held = sorted(_text(key) for key in await redis_client.keys(redis_prefix + "*"))
    assert held == [
        f"{redis_prefix}tenant:acme:store:1001:orders:500001",
        f"{redis_prefix}tenant:globex:store:1001:orders:500001",
    ]
    ttl_ms = await redis_client.pttl(held[0])
    assert 14_000 < ttl_ms <= 15_000
