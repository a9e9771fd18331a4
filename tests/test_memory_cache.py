"""The in-memory cache's own promises: LRU bounds by entries and bytes, counters kept, speed."""

from __future__ import annotations

import msgspec
import pytest

from orderdesk_mcp.adapters.memory_cache import ENTRY_OVERHEAD_BYTES, MemoryOrderCache
from tests.fakes import FakeClock


def _size(key: str, value: object) -> int:
    return len(key) + len(msgspec.json.encode(value)) + ENTRY_OVERHEAD_BYTES


async def _present(cache: MemoryOrderCache, *keys: str) -> list[str]:
    return [key for key in keys if await cache.get(key) is not None]


@pytest.mark.anyio
async def test_the_least_recently_used_entry_goes_first_when_entries_overflow() -> None:
    cache = MemoryOrderCache(clock=FakeClock(), max_entries=3)
    for key in ("a", "b", "c"):
        await cache.set(key, key, ttl=60)
    await cache.get("a")  # a is now more recent than b
    await cache.set("d", "d", ttl=60)
    assert await _present(cache, "a", "b", "c", "d") == ["a", "c", "d"]
    assert cache.entry_count == 3


@pytest.mark.anyio
async def test_entries_are_evicted_oldest_first_until_the_bytes_fit() -> None:
    value = "x" * 1000
    one = _size("k1", value)
    cache = MemoryOrderCache(clock=FakeClock(), max_bytes=3 * one)
    for key in ("k1", "k2", "k3"):
        await cache.set(key, value, ttl=60)
    assert cache.bytes_used == 3 * one
    await cache.set("k4", "x" * 1500, ttl=60)  # needs room of one and a half entries
    assert await _present(cache, "k1", "k2", "k3", "k4") == ["k3", "k4"]
    assert cache.bytes_used == one + _size("k4", "x" * 1500)
    assert cache.bytes_used <= 3 * one


@pytest.mark.anyio
async def test_a_value_bigger_than_the_whole_cache_is_not_kept_and_replaces_nothing_stale() -> None:
    cache = MemoryOrderCache(clock=FakeClock(), max_bytes=2_000)
    await cache.set("small", "old", ttl=60)
    await cache.set("other", "kept", ttl=60)
    await cache.set("small", "y" * 5_000, ttl=60)
    assert await cache.get("small") is None  # never the stale "old"
    assert await cache.get("other") == "kept"
    assert cache.bytes_used == _size("other", "kept")


@pytest.mark.anyio
async def test_replacing_and_deleting_entries_keeps_the_byte_count_exact() -> None:
    cache = MemoryOrderCache(clock=FakeClock())
    await cache.set("k", "short", ttl=60)
    await cache.set("k", "a much longer value", ttl=60)
    assert cache.bytes_used == _size("k", "a much longer value")
    await cache.delete("k")
    assert (cache.bytes_used, cache.entry_count) == (0, 0)


@pytest.mark.anyio
async def test_an_expired_entry_is_dropped_when_read() -> None:
    clock = FakeClock()
    cache = MemoryOrderCache(clock=clock)
    await cache.set("k", "v", ttl=15)
    clock.advance(14.999)
    assert await cache.get("k") == "v"
    clock.advance(0.001)
    assert await cache.get("k") is None
    assert (cache.bytes_used, cache.entry_count) == (0, 0)


@pytest.mark.anyio
async def test_counters_survive_any_amount_of_eviction() -> None:
    cache = MemoryOrderCache(clock=FakeClock(), max_entries=1, max_bytes=500)
    await cache.incr("tenant:t:store:s:lists:gen")
    for n in range(100):
        await cache.set(f"k{n}", "v" * 100, ttl=60)
    assert await cache.get_counter("tenant:t:store:s:lists:gen") == 1
    assert cache.entry_count == 1


@pytest.mark.anyio
async def test_a_zero_ttl_stores_nothing() -> None:
    cache = MemoryOrderCache(clock=FakeClock())
    await cache.set("k", "v", ttl=60)
    await cache.set("k", "w", ttl=0)
    assert await cache.get("k") is None


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_entries and max_bytes must be positive"):
        MemoryOrderCache(clock=FakeClock(), max_entries=0)
