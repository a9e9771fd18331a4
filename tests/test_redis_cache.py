"""The Redis cache when Redis dies or hangs, and invalidation shared between processes."""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import redis.asyncio
from redis.asyncio.retry import Retry

from orderdesk_mcp.adapters.redis_cache import RedisOrderCache, redis_client_from_url
from orderdesk_mcp.domain.cache_stats import CacheStats
from orderdesk_mcp.domain.commands import GetOrderCommand, ListOrdersCommand
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.use_cases.cache_invalidation import invalidate_order
from orderdesk_mcp.domain.use_cases.get_order import GetOrder
from orderdesk_mcp.domain.use_cases.list_orders import ListOrders
from orderdesk_mcp.ports.cache import OrderCache
from tests.conftest import RedisServer
from tests.fakes import FakeOrderGateway

STORE = StoreRef(tenant="acme", store_id="1001")
ROOT = Path(__file__).resolve().parents[1]
LOGGER = "orderdesk_mcp.adapters.redis_cache"


def _is_an_order_cache(client: redis.asyncio.Redis) -> OrderCache:
    return RedisOrderCache(client=client)  # mypy checks the adapter against the port here


def _gateway() -> FakeOrderGateway:
    return FakeOrderGateway({"500001": {"id": "500001", "email": "old@example.com"}})


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


@pytest.fixture
async def client(redis_url: str, redis_prefix: str) -> AsyncIterator[redis.asyncio.Redis]:
    made = redis_client_from_url(redis_url)
    try:
        yield made
        leftovers = await made.keys(redis_prefix + "*")
        if leftovers:
            await made.delete(*leftovers)
    finally:
        await made.aclose()


@pytest.mark.anyio
async def test_the_process_client_uses_bytes_short_timeouts_and_a_single_retry() -> None:
    client = redis_client_from_url("redis://127.0.0.1:6399/2")
    try:
        kwargs: dict[str, Any] = client.connection_pool.connection_kwargs
        assert kwargs["decode_responses"] is False
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.25, 0.25)
        assert kwargs["health_check_interval"] == 30
        assert isinstance(kwargs["retry"], Retry)
        assert kwargs["retry"].get_retries() == 1
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_a_burst_larger_than_the_pool_waits_for_connections_instead_of_failing(
    redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    # redis-py's default pool refused the 101st concurrent command (MaxConnectionsError):
    # 300 increments at once counted 100 and logged the cache as unavailable. The client is
    # patient (5 s, not 0.25): on a loaded machine the queue for 32 connections can take longer
    # than 0.25 s, and a command that waits past its timeout is dropped by design.
    caplog.set_level(logging.WARNING, logger=LOGGER)
    client = redis_client_from_url(redis_url, timeout=5.0)
    try:
        cache = RedisOrderCache(client=client, prefix=redis_prefix, op_timeout=5.0)
        with anyio.fail_after(10):
            async with anyio.create_task_group() as burst:
                for _ in range(300):
                    burst.start_soon(cache.incr, "burst")
        assert await cache.get_counter("burst") == 300
        assert _warnings(caplog) == []
        assert client.connection_pool.max_connections == 32
    finally:
        await client.delete(redis_prefix + "burst")
        await client.aclose()


@pytest.mark.anyio
async def test_a_dead_redis_reads_as_a_miss_and_orders_still_come_from_upstream(
    private_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    client = redis_client_from_url(private_redis.url)
    try:
        cache = RedisOrderCache(client=client, prefix="od:")
        gateway, stats = _gateway(), CacheStats()
        get = GetOrder(gateway=gateway, cache=cache, ttl=15, stats=stats)
        list_orders = ListOrders(gateway=gateway, cache=cache, ttl=15, stats=stats)
        cmd = GetOrderCommand.parse(STORE, "500001")
        await get(cmd)
        await get(cmd)
        assert gateway.calls["fetch"] == 1

        private_redis.stop()
        durations: list[float] = []

        async def timed(op: Any) -> Any:
            started = time.monotonic()
            result = await op
            durations.append(time.monotonic() - started)
            return result

        assert await timed(cache.get("k")) is None
        assert await timed(cache.add("claim", 1, ttl=5)) is False
        assert await timed(cache.incr("gen")) == -1
        assert await timed(cache.get_counter("gen")) == -1
        assert await timed(cache.set("k", 1, ttl=5)) is None
        assert await timed(cache.delete("k")) is None
        assert (await timed(get(cmd))).doc["email"] == "old@example.com"
        page = await timed(list_orders(ListOrdersCommand.parse(STORE)))
        assert [o.id for o in page.orders] == ["500001"]
        assert (gateway.calls["fetch"], gateway.calls["list_page"]) == (2, 1)
        assert max(durations) < 1.0
        assert sum(durations) < 3.0
        assert len(_warnings(caplog)) == 1
        assert _warnings(caplog)[0].startswith("Redis cache unavailable (ConnectionError during get: ")
        assert _warnings(caplog)[0].endswith("); reads go upstream")

        private_redis.start()  # same port: the pool reconnects on its own
        await cache.set("k", "back", ttl=5)
        assert await cache.get("k") == "back"
        assert [r.getMessage() for r in caplog.records if r.levelno == logging.INFO] == [
            "Redis cache reachable again"
        ]
    finally:
        await client.aclose()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections and never answers: a hung Redis."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


@pytest.mark.anyio
async def test_a_hung_redis_costs_each_call_no_more_than_the_op_timeout(
    silent_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = redis_client_from_url(silent_server)
    try:
        cache = RedisOrderCache(client=client, op_timeout=0.25)
        gateway = _gateway()
        get = GetOrder(gateway=gateway, cache=cache, ttl=15, stats=CacheStats())
        for op in (cache.get("k"), cache.add("claim", 1, ttl=5), cache.get_counter("gen")):
            started = time.monotonic()
            assert await op in (None, False, -1)
            assert time.monotonic() - started < 0.6
        started = time.monotonic()
        order = await get(GetOrderCommand.parse(STORE, "500001"))
        assert order.id == "500001"
        assert time.monotonic() - started < 1.2  # a miss costs two cache reads at most
        assert len(_warnings(caplog)) == 1
        assert "TimeoutError during get" in _warnings(caplog)[0]
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_warnings_repeat_no_more_often_than_warn_every(
    private_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = redis_client_from_url(private_redis.url)
    try:
        quiet, chatty = RedisOrderCache(client=client), RedisOrderCache(client=client, warn_every=0.0)
        private_redis.stop()
        for _ in range(5):
            await quiet.get("a")
        assert len(_warnings(caplog)) == 1
        await chatty.get("a")
        await chatty.get("b")
        assert len(_warnings(caplog)) == 3
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_a_write_in_one_process_invalidates_what_another_process_cached(
    client: redis.asyncio.Redis, redis_url: str, redis_prefix: str
) -> None:
    gateway = _gateway()
    other = redis_client_from_url(redis_url)
    try:
        reader_cache = RedisOrderCache(client=client, prefix=redis_prefix)
        writer_cache = RedisOrderCache(client=other, prefix=redis_prefix)
        get = GetOrder(gateway=gateway, cache=reader_cache, ttl=15, stats=CacheStats())
        list_orders = ListOrders(gateway=gateway, cache=reader_cache, ttl=15, stats=CacheStats())
        cmd, list_cmd = GetOrderCommand.parse(STORE, "500001"), ListOrdersCommand.parse(STORE)
        await get(cmd)
        await list_orders(list_cmd)
        await get(cmd)
        await list_orders(list_cmd)
        assert (gateway.calls["fetch"], gateway.calls["list_page"]) == (1, 1)
        gateway.docs["500001"]["email"] = "new@example.com"
        await invalidate_order(writer_cache, STORE, "500001")
        assert (await get(cmd)).doc["email"] == "new@example.com"
        assert (await list_orders(list_cmd)).orders[0].doc["email"] == "new@example.com"
        assert (gateway.calls["fetch"], gateway.calls["list_page"]) == (2, 2)
    finally:
        await other.aclose()


INVALIDATE_IN_CHILD = """
import sys
import anyio
from orderdesk_mcp.adapters.redis_cache import RedisOrderCache, redis_client_from_url
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.use_cases.cache_invalidation import invalidate_order

async def main() -> None:
    client = redis_client_from_url(sys.argv[1])
    try:
        await invalidate_order(RedisOrderCache(client=client, prefix=sys.argv[2]),
                               StoreRef(tenant="acme", store_id="1001"), "500001")
    finally:
        await client.aclose()

anyio.run(main)
"""


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_write_in_a_real_second_process_invalidates_this_processs_entries(
    client: redis.asyncio.Redis, redis_url: str, redis_prefix: str
) -> None:
    gateway = _gateway()
    cache = RedisOrderCache(client=client, prefix=redis_prefix)
    get = GetOrder(gateway=gateway, cache=cache, ttl=15, stats=CacheStats())
    cmd = GetOrderCommand.parse(STORE, "500001")
    await get(cmd)
    await get(cmd)
    assert gateway.calls["fetch"] == 1
    gateway.docs["500001"]["email"] = "new@example.com"
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    with anyio.fail_after(30):
        done = await anyio.run_process(
            [sys.executable, "-c", INVALIDATE_IN_CHILD, redis_url, redis_prefix], env=env, check=False
        )
    assert done.returncode == 0, done.stderr.decode()
    assert (await get(cmd)).doc["email"] == "new@example.com"
    assert await client.get(f"{redis_prefix}tenant:acme:store:1001:lists:gen") == b"1"
