"""One contract for the RateLimiter port, run on the in-process and the Redis-shared bucket.

The memory bucket runs on a fake clock. The Redis bucket keeps time with Redis ``TIME`` (so
processes agree), so its waits are real; the contract only waits where 50 ms is enough.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import anyio
import pytest
import redis.asyncio

from orderdesk_mcp.adapters.memory_rate_limiter import MemoryRateLimiter
from orderdesk_mcp.adapters.redis_rate_limiter import RedisRateLimiter
from orderdesk_mcp.adapters.system_clock import SystemClock
from orderdesk_mcp.domain.errors import RateLimited
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.ports.rate_limiter import RateLimiter
from tests.fakes import FakeClock

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="t1", store_id="42")
MakeLimiter = Callable[..., RateLimiter]


class _RecordingClock(SystemClock):
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await super().sleep(seconds)


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def make(
    request: pytest.FixtureRequest, redis_url: str, redis_prefix: str
) -> AsyncIterator[MakeLimiter]:
    """A factory of limiters of one kind, all on the same (Redis-shared, for redis) buckets."""
    kind: str = request.param
    clients: list[redis.asyncio.Redis] = []
    clock = FakeClock()

    def factory(*, burst: int = 20, per_second: float = 3.0) -> RateLimiter:
        if kind == "memory":
            return MemoryRateLimiter(burst=burst, per_second=per_second, clock=clock)
        client = redis.asyncio.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
        clients.append(client)
        return RedisRateLimiter(
            client=client, burst=burst, per_second=per_second, clock=_RecordingClock(), prefix=redis_prefix
        )

    try:
        yield factory
    finally:
        for client in clients:
            await client.aclose()


async def test_a_burst_of_20_is_allowed_then_the_21st_is_refused_with_the_wait(
    make: MakeLimiter,
) -> None:
    limiter = make()
    for _ in range(20):
        await limiter.acquire(STORE, max_wait=0)
    with pytest.raises(RateLimited) as caught:
        await limiter.acquire(STORE, max_wait=0.1)
    assert str(caught.value) == "OrderDesk's rate limit for store 42 was reached; retry in 0.3 s."
    assert caught.value.retry_after == pytest.approx(0.3, abs=0.05)


async def test_30_callers_at_once_share_a_burst_of_20_exactly(make: MakeLimiter) -> None:
    limiter = make()
    taken: list[bool] = []

    async def take() -> None:
        try:
            await limiter.acquire(STORE, max_wait=0)
        except RateLimited:
            taken.append(False)
        else:
            taken.append(True)

    async with anyio.create_task_group() as tg:
        for _ in range(30):
            tg.start_soon(take)
    assert (taken.count(True), taken.count(False)) == (20, 10)


async def test_an_empty_bucket_waits_for_the_refill_when_the_caller_can_wait(make: MakeLimiter) -> None:
    limiter = make(burst=1, per_second=20.0)
    await limiter.acquire(STORE, max_wait=0)
    with anyio.fail_after(5):
        await limiter.acquire(STORE, max_wait=None)
    with pytest.raises(RateLimited):
        await limiter.acquire(STORE, max_wait=0)


async def test_tokens_remaining_resynchronises_down_never_up(make: MakeLimiter) -> None:
    limiter = make()
    for _ in range(18):
        await limiter.acquire(STORE, max_wait=0)
    await limiter.observe(STORE, tokens_remaining=50)
    await limiter.observe(STORE, tokens_remaining=1)
    await limiter.acquire(STORE, max_wait=0)
    with pytest.raises(RateLimited):
        await limiter.acquire(STORE, max_wait=0)


async def test_a_429_cools_the_store_down_for_its_retry_after(make: MakeLimiter) -> None:
    limiter = make()
    await limiter.observe(STORE, retry_after=4.0)
    with pytest.raises(RateLimited) as caught:
        await limiter.acquire(STORE, max_wait=1.0)
    assert str(caught.value) == "OrderDesk's rate limit for store 42 was reached; retry in 4.0 s."


async def test_buckets_are_per_orderdesk_store_whichever_tenant_sends(make: MakeLimiter) -> None:
    # Regression: buckets were per tenant and store, so two tenants configured on one OrderDesk
    # store each spent a full burst, together twice OrderDesk's limit (20 of 36 gets came back 429).
    limiter = make(burst=1)
    await limiter.acquire(STORE, max_wait=0)
    with pytest.raises(RateLimited):
        await limiter.acquire(StoreRef(tenant="t2", store_id="42"), max_wait=0)
    await limiter.acquire(StoreRef(tenant="t1", store_id="43"), max_wait=0)
    await limiter.observe(StoreRef(tenant="t2", store_id="43"), retry_after=30.0)
    with pytest.raises(RateLimited):
        await limiter.acquire(StoreRef(tenant="t1", store_id="43"), max_wait=0)


# -- memory only: exact refill on the fake clock --------------------------------------------


async def test_memory_bucket_refills_at_3_per_second() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(burst=20, per_second=3.0, clock=clock)
    for _ in range(20):
        await limiter.acquire(STORE, max_wait=0)
    await limiter.acquire(STORE, max_wait=None)
    assert clock.sleeps == [pytest.approx(1 / 3)]
    clock.advance(1.0)
    for _ in range(3):
        await limiter.acquire(STORE, max_wait=0)
    with pytest.raises(RateLimited):
        await limiter.acquire(STORE, max_wait=0)
    clock.advance(60.0)
    for _ in range(20):
        await limiter.acquire(STORE, max_wait=0)
    with pytest.raises(RateLimited):
        await limiter.acquire(STORE, max_wait=0)


# -- redis only: sharing, key layout, refill kept across a resync, outage fallback ----------


async def test_every_redis_limiter_on_the_same_redis_shares_the_bucket_and_cool_down(
    redis_url: str, redis_prefix: str
) -> None:
    clients = [redis.asyncio.Redis.from_url(redis_url) for _ in range(2)]
    try:
        first, second = (
            RedisRateLimiter(client=c, burst=5, per_second=0.5, clock=SystemClock(), prefix=redis_prefix)
            for c in clients
        )
        for limiter in (first, second, first, second, first):
            await limiter.acquire(STORE, max_wait=0)
        with pytest.raises(RateLimited):
            await second.acquire(STORE, max_wait=0.5)
        other = StoreRef(tenant="t1", store_id="7")
        await first.observe(other, retry_after=30.0)
        with pytest.raises(RateLimited) as caught:
            await second.acquire(other, max_wait=1.0)
        assert caught.value.retry_after == pytest.approx(30.0, abs=0.5)
    finally:
        for client in clients:
            await client.aclose()


async def test_redis_keys_are_scoped_by_prefix_and_store(
    redis_client: redis.asyncio.Redis, redis_prefix: str
) -> None:
    limiter = RedisRateLimiter(client=redis_client, clock=SystemClock(), prefix=redis_prefix)
    await limiter.acquire(STORE, max_wait=0)
    await limiter.observe(StoreRef(tenant="t1", store_id="7"), retry_after=5.0)
    keys = sorted(
        k.decode() if isinstance(k, bytes) else k for k in await redis_client.keys(redis_prefix + "*")
    )
    assert keys == [f"{redis_prefix}store:42:bucket", f"{redis_prefix}store:7:cooldown"]


async def test_redis_resync_counts_the_refill_since_the_last_touch(
    redis_client: redis.asyncio.Redis, redis_prefix: str
) -> None:
    limiter = RedisRateLimiter(client=redis_client, clock=SystemClock(), prefix=redis_prefix)
    seconds, micros = await redis_client.time()
    ten_seconds_ago = seconds * 1000 + micros // 1000 - 10_000
    bucket = f"{redis_prefix}store:42:bucket"
    await redis_client.hset(bucket, mapping={"tokens": "0", "at": str(ten_seconds_ago)})
    await limiter.observe(STORE, tokens_remaining=3)
    for _ in range(3):
        await limiter.acquire(STORE, max_wait=0)
    with pytest.raises(RateLimited):
        await limiter.acquire(STORE, max_wait=0)


async def test_a_dead_redis_falls_back_to_the_process_bucket_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="orderdesk_mcp.adapters.redis_rate_limiter")
    client = redis.asyncio.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        limiter = RedisRateLimiter(client=client, burst=2, per_second=1.0, clock=FakeClock())
        await limiter.acquire(STORE, max_wait=0)
        await limiter.observe(STORE, tokens_remaining=0)
        with pytest.raises(RateLimited):
            await limiter.acquire(STORE, max_wait=0)
    finally:
        await client.aclose()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "shared rate limiter unavailable (ConnectionError); using a conservative in-process bucket "
        "(burst 1, 1 request a second) until Redis answers again"
    ]
