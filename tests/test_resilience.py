"""Retries, backoff, deadlines and token buckets, on a fake clock (milliseconds per test)."""

from __future__ import annotations

import pytest
import redis.asyncio

from adapters.memory_rate_limiter import MemoryRateLimiter
from adapters.redis_rate_limiter import RedisRateLimiter
from domain.context import CallContext, call_context
from domain.errors import DeadlineExceeded, OutcomeUnknown, RateLimited, UpstreamUnavailable
from domain.order import StoreRef
from domain.retry import RetryPolicy, backoff_delay, is_retryable, retry_delay
from domain.use_cases.resilient_gateway import ResilientOrderGateway
from tests.fakes import FakeClock, FakeOrderGateway

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="t1", store_id="42")
DOC = {"id": "500001", "email": "a@example.com"}


def _resilient(gateway: FakeOrderGateway, clock: FakeClock, *, jitter: float = 1.0) -> ResilientOrderGateway:
    limiter = MemoryRateLimiter(burst=20, per_second=3.0, clock=clock)
    return ResilientOrderGateway(
        inner=gateway, limiter=limiter, clock=clock, policy=RetryPolicy(), jitter=lambda: jitter
    )


def test_backoff_ceilings_are_1_2_4_seconds_capped_at_10() -> None:
    policy = RetryPolicy()
    assert [backoff_delay(policy, n, jitter=1.0) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert backoff_delay(policy, 3, jitter=0.25) == 1.0
    assert retry_delay(policy, 1, jitter=0.1, retry_after=3.0) == 3.0
    assert retry_delay(policy, 1, jitter=0.1, retry_after=60.0) == 10.0


def test_only_repeatable_failures_are_retried() -> None:
    assert is_retryable(RateLimited("1", 1.0), idempotent=False)
    assert is_retryable(UpstreamUnavailable("HTTP 503"), idempotent=True)
    assert not is_retryable(UpstreamUnavailable("reset", maybe_sent=True), idempotent=False)
    assert not is_retryable(OutcomeUnknown("order creation", "timed out"), idempotent=True)


async def test_a_429_is_retried_after_orderdesks_retry_after() -> None:
    clock = FakeClock()
    gateway = FakeOrderGateway({"500001": DOC})
    gateway.fail_next("fetch", RateLimited("", 3.0))
    order = await _resilient(gateway, clock, jitter=0.0).fetch(STORE, "500001")
    assert order.id == "500001"
    assert clock.sleeps == [3.0]
    assert gateway.calls["fetch"] == 2


async def test_5xx_three_times_more_then_gives_up_with_the_unavailable_message() -> None:
    clock = FakeClock()
    gateway = FakeOrderGateway({"500001": DOC})
    gateway.fail_next("fetch", *[UpstreamUnavailable("HTTP 503") for _ in range(4)])
    with pytest.raises(UpstreamUnavailable) as caught:
        await _resilient(gateway, clock, jitter=0.5).fetch(STORE, "500001")
    assert str(caught.value) == "OrderDesk is unavailable right now (HTTP 503); try again in a minute."
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert gateway.calls["fetch"] == 4


async def test_a_create_is_never_resent_after_an_unknown_outcome() -> None:
    clock = FakeClock()
    gateway = FakeOrderGateway()
    gateway.fail_next("create", OutcomeUnknown("order creation", "connection lost"))
    with pytest.raises(OutcomeUnknown):
        await _resilient(gateway, clock).create(STORE, {"email": "x@example.com"})
    assert gateway.calls["create"] == 1
    assert clock.sleeps == []


async def test_no_sleep_ends_past_the_calls_deadline() -> None:
    clock = FakeClock()
    gateway = FakeOrderGateway({"500001": DOC})
    gateway.fail_next("fetch", RateLimited("", 5.0))
    ctx = CallContext(correlation_id="c1", deadline=clock.monotonic() + 2.0, timeout=2.0)
    with call_context(ctx), pytest.raises(RateLimited) as caught:
        await _resilient(gateway, clock).fetch(STORE, "500001")
    assert str(caught.value) == "OrderDesk's rate limit for store 42 was reached; retry in 5.0 s."
    assert clock.sleeps == []


async def test_a_spent_deadline_stops_before_calling_upstream() -> None:
    clock = FakeClock()
    gateway = FakeOrderGateway({"500001": DOC})
    ctx = CallContext(correlation_id="c1", deadline=clock.monotonic() - 0.1, timeout=30.0)
    with call_context(ctx), pytest.raises(DeadlineExceeded) as caught:
        await _resilient(gateway, clock).fetch(STORE, "500001")
    assert "did not finish within its 30 s deadline" in str(caught.value)
    assert gateway.calls == {}


async def test_memory_bucket_allows_a_burst_of_20_then_refills_at_3_per_second() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(burst=20, per_second=3.0, clock=clock)
    for _ in range(20):
        await limiter.acquire(STORE, max_wait=0)
    with pytest.raises(RateLimited) as caught:
        await limiter.acquire(STORE, max_wait=0.1)
    assert caught.value.retry_after == pytest.approx(0.3, abs=0.05)
    await limiter.acquire(STORE, max_wait=None)
    assert clock.sleeps == [pytest.approx(1 / 3)]
    clock.advance(1.0)
    for _ in range(3):
        await limiter.acquire(STORE, max_wait=0)


async def test_memory_bucket_resyncs_from_tokens_remaining_and_cools_down_after_a_429() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(burst=20, per_second=3.0, clock=clock)
    await limiter.observe(STORE, tokens_remaining=0)
    with pytest.raises(RateLimited):
        await limiter.acquire(STORE, max_wait=0)
    clock.advance(10)
    await limiter.observe(STORE, retry_after=4.0)
    with pytest.raises(RateLimited) as caught:
        await limiter.acquire(STORE, max_wait=1.0)
    assert caught.value.retry_after == 4.0
    other = StoreRef(tenant="t2", store_id="42")
    await limiter.acquire(other, max_wait=0)


async def test_redis_bucket_is_shared_by_every_limiter_on_the_same_redis(
    redis_url: str, redis_prefix: str
) -> None:
    clock = FakeClock()
    clients = [redis.asyncio.Redis.from_url(redis_url) for _ in range(2)]
    try:
        first, second = (
            RedisRateLimiter(client=c, burst=5, per_second=0.5, clock=clock, prefix=redis_prefix)
            for c in clients
        )
        for limiter in (first, second, first, second, first):
            await limiter.acquire(STORE, max_wait=0)
        with pytest.raises(RateLimited):
            await second.acquire(STORE, max_wait=0.5)
        await first.observe(StoreRef(tenant="t1", store_id="7"), retry_after=30.0)
        with pytest.raises(RateLimited) as caught:
            await second.acquire(StoreRef(tenant="t1", store_id="7"), max_wait=1.0)
        assert caught.value.retry_after == pytest.approx(30.0, abs=0.5)
        keys = sorted(
            k.decode() if isinstance(k, bytes) else k for k in await clients[0].keys(redis_prefix + "*")
        )
        assert keys == [
            f"{redis_prefix}tenant:t1:store:42:bucket",
            f"{redis_prefix}tenant:t1:store:7:cooldown",
        ]
    finally:
        for c in clients:
            await c.aclose()


async def test_redis_bucket_falls_back_to_the_process_when_redis_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    client = redis.asyncio.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        limiter = RedisRateLimiter(client=client, burst=2, per_second=1.0, clock=clock)
        await limiter.acquire(STORE, max_wait=0)
        await limiter.observe(STORE, tokens_remaining=0)
        with pytest.raises(RateLimited):
            await limiter.acquire(STORE, max_wait=0)
    finally:
        await client.aclose()
    assert "shared rate limiter unavailable" in caplog.text
