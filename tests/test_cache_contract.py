"""The OrderCache contract, run against the in-memory cache and a real Redis alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.adapters.redis_cache import RedisOrderCache, redis_client_from_url
from orderdesk_mcp.ports.cache import OrderCache
from tests.fake_cache import FakeOrderCache
from tests.fakes import FakeClock

_memory: OrderCache = MemoryOrderCache(clock=FakeClock())


class CacheUnderTest:
    """A cache plus a way to let time pass: the fake clock for memory, real time for Redis."""

    def __init__(self, cache: OrderCache, clock: FakeClock | None) -> None:
        self.cache = cache
        self._clock = clock

    async def elapse(self, seconds: float) -> None:
        if self._clock is not None:
            self._clock.advance(seconds)
        else:
            await anyio.sleep(seconds)


@pytest.fixture(params=["memory", "redis", "fake"])
async def subject(
    request: pytest.FixtureRequest, redis_url: str, redis_prefix: str
) -> AsyncIterator[CacheUnderTest]:
    if request.param == "fake":
        clock = FakeClock()
        yield CacheUnderTest(FakeOrderCache(clock), clock)
        return
    if request.param == "memory":
        clock = FakeClock()
        async with MemoryOrderCache(clock=clock) as memory:
            yield CacheUnderTest(memory, clock)
        return
    # The contract is what the cache does, not how fast: a patient client, so a stalled CI
    # machine cannot turn a slow answer into a timeout (dropped by design; tested elsewhere).
    client = redis_client_from_url(redis_url, timeout=5.0)
    try:
        async with RedisOrderCache(client=client, prefix=redis_prefix, op_timeout=5.0) as cache:
            yield CacheUnderTest(cache, None)
        leftovers = [key async for key in client.scan_iter(match=redis_prefix + "*")]
        if leftovers:
            await client.delete(*leftovers)
    finally:
        await client.aclose()


ORDER_DOC: dict[str, Any] = {
    "id": "500001",
    "email": "zoë@example.com",
    "shipping": {"first_name": "Zoë", "city": "Zürich", "notes": '日本語 🚚 "quoted" \\ back'},
    "order_items": [{"code": "A-1", "price": 12.5, "quantity": 2, "metadata": {}}, {"code": "", "qty": 0}],
    "order_metadata": {"nested": {"deeper": [1, [2, [3, None]], True, False]}},
    "folder_id": 1,
    "empty": "",
}


@pytest.mark.anyio
async def test_a_missing_key_reads_as_none(subject: CacheUnderTest) -> None:
    assert await subject.cache.get("tenant:t:store:s:orders:1") is None


@pytest.mark.anyio
async def test_set_then_get_returns_the_value_and_a_second_set_replaces_it(subject: CacheUnderTest) -> None:
    await subject.cache.set("k", {"v": 1}, ttl=30)
    assert await subject.cache.get("k") == {"v": 1}
    await subject.cache.set("k", {"v": 2}, ttl=30)
    assert await subject.cache.get("k") == {"v": 2}


@pytest.mark.parametrize(
    "value",
    [ORDER_DOC, [1, "two", 3.5, None, {"x": []}], "plain ünïcödé ✓", 42, -7.25, True, {"": ""}],
    ids=["order", "list", "string", "int", "float", "bool", "empty-key"],
)
@pytest.mark.anyio
async def test_values_round_trip_exactly(subject: CacheUnderTest, value: Any) -> None:
    await subject.cache.set("k", value, ttl=30)
    assert await subject.cache.get("k") == value


@pytest.mark.anyio
async def test_changing_a_returned_value_does_not_change_the_cached_one(subject: CacheUnderTest) -> None:
    await subject.cache.set("k", {"items": [1, 2]}, ttl=30)
    first = await subject.cache.get("k")
    assert isinstance(first, dict)
    first["items"].append(3)
    assert await subject.cache.get("k") == {"items": [1, 2]}


@pytest.mark.anyio
async def test_an_entry_lives_until_its_ttl_and_then_reads_as_a_miss(subject: CacheUnderTest) -> None:
    await subject.cache.set("k", "v", ttl=0.3)
    await subject.elapse(0.1)
    assert await subject.cache.get("k") == "v"
    await subject.elapse(0.3)
    assert await subject.cache.get("k") is None


@pytest.mark.anyio
async def test_add_stores_only_when_the_key_is_absent(subject: CacheUnderTest) -> None:
    assert await subject.cache.add("claim", {"by": "first"}, ttl=30) is True
    assert await subject.cache.add("claim", {"by": "second"}, ttl=30) is False
    assert await subject.cache.get("claim") == {"by": "first"}


@pytest.mark.anyio
async def test_add_succeeds_again_once_the_earlier_claim_expired(subject: CacheUnderTest) -> None:
    assert await subject.cache.add("claim", 1, ttl=0.2) is True
    await subject.elapse(0.3)
    assert await subject.cache.add("claim", 2, ttl=30) is True
    assert await subject.cache.get("claim") == 2


@pytest.mark.anyio
async def test_delete_removes_every_named_key_and_ignores_absent_ones(subject: CacheUnderTest) -> None:
    for key in ("a", "b", "c"):
        await subject.cache.set(key, key, ttl=30)
    await subject.cache.delete("a", "b", "never-set")
    await subject.cache.delete()
    assert [await subject.cache.get(k) for k in ("a", "b", "c")] == [None, None, "c"]


@pytest.mark.anyio
async def test_counters_start_at_zero_and_count_up_independently(subject: CacheUnderTest) -> None:
    assert await subject.cache.get_counter("gen:a") == 0
    assert [await subject.cache.incr("gen:a") for _ in range(3)] == [1, 2, 3]
    assert await subject.cache.incr("gen:b") == 1
    assert await subject.cache.get_counter("gen:a") == 3
    assert await subject.cache.get_counter("gen:b") == 1


@pytest.mark.anyio
async def test_a_deleted_counter_reads_zero_again(subject: CacheUnderTest) -> None:
    await subject.cache.incr("gen")
    await subject.cache.delete("gen")
    assert await subject.cache.get_counter("gen") == 0


@pytest.mark.anyio
async def test_concurrent_increments_are_never_lost(subject: CacheUnderTest) -> None:
    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(subject.cache.incr, "gen")
    assert await subject.cache.get_counter("gen") == 50


@pytest.mark.anyio
async def test_keys_differing_only_by_tenant_are_separate_entries(subject: CacheUnderTest) -> None:
    await subject.cache.set("tenant:a:store:s:orders:1", "a", ttl=30)
    await subject.cache.set("tenant:b:store:s:orders:1", "b", ttl=30)
    assert await subject.cache.get("tenant:a:store:s:orders:1") == "a"
    assert await subject.cache.get("tenant:b:store:s:orders:1") == "b"


@pytest.mark.anyio
async def test_many_counters_read_in_one_call_absent_ones_as_zero(subject: CacheUnderTest) -> None:
    await subject.cache.incr("v:1")
    await subject.cache.incr("v:1")
    await subject.cache.incr("v:3")
    assert await subject.cache.get_counters(["v:1", "v:2", "v:3"]) == [2, 0, 1]
    assert await subject.cache.get_counters([]) == []


@pytest.mark.anyio
async def test_set_many_stores_every_value_with_the_ttl(subject: CacheUnderTest) -> None:
    await subject.cache.set_many({"a": {"n": 1}, "b": [2]}, ttl=0.3)
    await subject.cache.set_many({}, ttl=30)
    assert [await subject.cache.get(k) for k in ("a", "b")] == [{"n": 1}, [2]]
    await subject.elapse(0.4)
    assert [await subject.cache.get(k) for k in ("a", "b")] == [None, None]


@pytest.mark.anyio
async def test_invalidate_bumps_every_counter_and_removes_the_keys_at_once(subject: CacheUnderTest) -> None:
    await subject.cache.set("order", "old", ttl=30)
    await subject.cache.set("kept", "yes", ttl=30)
    await subject.cache.incr("gen")
    assert await subject.cache.invalidate(counters=["gen", "v"], keys=["order", "absent"]) == [2, 1]
    assert await subject.cache.get("order") is None
    assert await subject.cache.get("kept") == "yes"
    assert await subject.cache.get_counters(["gen", "v"]) == [2, 1]
    assert await subject.cache.invalidate(counters=["gen"], keys=[]) == [3]


@pytest.mark.anyio
async def test_invalidate_with_no_counters_is_a_delete_that_reports_success(subject: CacheUnderTest) -> None:
    # Invalidations.discard removes an unkept fill this way: unlike delete, it says whether it happened.
    await subject.cache.set("order", "old", ttl=30)
    await subject.cache.incr("gen")
    assert await subject.cache.invalidate(counters=[], keys=["order", "absent"]) == []
    assert await subject.cache.get("order") is None
    assert await subject.cache.get_counter("gen") == 1
