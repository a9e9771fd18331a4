"""ResilientOrderGateway on a fake gateway and a fake clock: retries, backoff, deadlines, buckets."""

from __future__ import annotations

import random

import pytest

from orderdesk_mcp.adapters.memory_rate_limiter import MemoryRateLimiter
from orderdesk_mcp.domain.context import CallContext, call_context
from orderdesk_mcp.domain.errors import (
    DeadlineExceeded,
    OrderNotFound,
    OutcomeUnknown,
    RateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.pagination import OrderQuery
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.use_cases.resilient_gateway import ResilientOrderGateway
from orderdesk_mcp.ports.gateway import OrderGateway
from tests.fakes import FakeClock, FakeOrderGateway

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="t1", store_id="42")
DOC = {"id": "500001", "email": "a@example.com", "x_unknown": {"kept": True}}
NEW = {"email": "new@example.com"}


class _Setup:
    def __init__(self, *, jitter: float = 1.0) -> None:
        self.clock = FakeClock()
        self.inner = FakeOrderGateway({"500001": DOC})
        self.limiter = MemoryRateLimiter(burst=20, per_second=3.0, clock=self.clock)
        self.gateway = ResilientOrderGateway(
            inner=self.inner,
            limiter=self.limiter,
            clock=self.clock,
            policy=RetryPolicy(),
            jitter=lambda: jitter,
        )

    def deadline(self, seconds: float) -> CallContext:
        return CallContext(correlation_id="c1", deadline=self.clock.monotonic() + seconds, timeout=seconds)


def test_the_wrapper_is_an_order_gateway() -> None:
    setup = _Setup()
    gateway: OrderGateway = setup.gateway
    assert gateway is setup.gateway


async def test_a_429_then_success_waits_orderdesks_retry_after() -> None:
    setup = _Setup(jitter=0.0)
    setup.inner.fail_next("fetch", RateLimited("", 3.0))
    order = await setup.gateway.fetch(STORE, "500001")
    assert order.doc == DOC
    assert setup.clock.sleeps == [3.0]
    assert setup.inner.calls["fetch"] == 2


async def test_5xx_four_times_gives_up_after_three_jittered_retries() -> None:
    setup = _Setup()
    rng = random.Random(1234)
    setup.gateway = ResilientOrderGateway(
        inner=setup.inner, limiter=setup.limiter, clock=setup.clock, policy=RetryPolicy(), jitter=rng.random
    )
    setup.inner.fail_next("fetch", *[UpstreamUnavailable("HTTP 503") for _ in range(4)])
    with pytest.raises(UpstreamUnavailable) as caught:
        await setup.gateway.fetch(STORE, "500001")
    assert str(caught.value) == "OrderDesk is unavailable right now (HTTP 503); try again in a minute."
    assert setup.inner.calls["fetch"] == 4
    assert len(setup.clock.sleeps) == 3
    expected = random.Random(1234)
    assert setup.clock.sleeps == [expected.random() * ceiling for ceiling in (1.0, 2.0, 4.0)]
    assert all(0 <= d < c for d, c in zip(setup.clock.sleeps, (1.0, 2.0, 4.0), strict=True))


async def test_two_5xx_then_success_returns_the_order() -> None:
    setup = _Setup(jitter=0.5)
    setup.inner.fail_next("fetch", UpstreamUnavailable("HTTP 502"), UpstreamUnavailable("HTTP 503"))
    order = await setup.gateway.fetch(STORE, "500001")
    assert order.id == "500001"
    assert setup.clock.sleeps == [0.5, 1.0]


async def test_a_refusal_is_not_retried() -> None:
    setup = _Setup()
    setup.inner.fail_next("fetch", UpstreamRejected("Order locked", status=422))
    with pytest.raises(UpstreamRejected):
        await setup.gateway.fetch(STORE, "500001")
    with pytest.raises(OrderNotFound):
        await setup.gateway.fetch(STORE, "404404")
    assert setup.inner.calls["fetch"] == 2
    assert setup.clock.sleeps == []


async def test_a_create_is_never_resent_after_an_unknown_outcome() -> None:
    setup = _Setup()
    setup.inner.fail_next("create", OutcomeUnknown("order creation", "connection lost"))
    with pytest.raises(OutcomeUnknown) as caught:
        await setup.gateway.create(STORE, NEW)
    assert str(caught.value) == (
        "OrderDesk did not confirm the order creation (connection lost); it may or may not have happened."
    )
    assert setup.inner.calls["create"] == 1
    assert setup.inner.writes == []
    assert setup.clock.sleeps == []


async def test_a_create_that_may_have_been_sent_is_not_resent() -> None:
    setup = _Setup()
    setup.inner.fail_next("create", UpstreamUnavailable("connection lost", maybe_sent=True))
    with pytest.raises(UpstreamUnavailable):
        await setup.gateway.create(STORE, NEW)
    assert setup.inner.calls["create"] == 1


async def test_a_create_refused_before_sending_is_retried_once_and_created_once() -> None:
    setup = _Setup(jitter=0.0)
    setup.inner.fail_next("create", RateLimited("", 2.0), UpstreamUnavailable("could not connect"))
    order = await setup.gateway.create(STORE, NEW)
    assert [w[0] for w in setup.inner.writes] == ["create"]
    assert setup.inner.writes[0][1] == order.id
    assert setup.clock.sleeps == [2.0, 0.0]


async def test_a_delete_is_idempotent_and_retried() -> None:
    setup = _Setup(jitter=0.0)
    setup.inner.fail_next("delete", UpstreamUnavailable("HTTP 500"))
    await setup.gateway.delete(STORE, "500001")
    assert [w[0] for w in setup.inner.writes] == ["delete"]
    assert setup.inner.calls["delete"] == 2


async def test_a_put_is_never_resent_blind_after_a_lost_connection_a_429_or_a_5xx() -> None:
    setup = _Setup(jitter=0.0)
    for failure in (
        UpstreamUnavailable("connection lost", maybe_sent=True),
        RateLimited("", 1.0),
        UpstreamUnavailable("HTTP 503"),
    ):
        setup.inner.fail_next("replace", failure)
        with pytest.raises(type(failure)):
            await setup.gateway.replace(STORE, "500001", DOC | {"email": "b@example.com"})
    assert setup.inner.calls["replace"] == 3  # one request each: the caller re-reads and re-merges
    assert setup.inner.writes == []
    saved = await setup.gateway.replace(STORE, "500001", DOC | {"email": "b@example.com"})
    assert saved.doc["x_unknown"] == {"kept": True}


async def test_prepaid_tokens_are_spent_by_the_next_calls_so_nothing_waits_between_them() -> None:
    setup = _Setup()
    setup.limiter = MemoryRateLimiter(burst=2, per_second=1.0, clock=setup.clock)
    gateway = ResilientOrderGateway(
        inner=setup.inner, limiter=setup.limiter, clock=setup.clock, policy=RetryPolicy()
    )
    async with gateway.resilience.prepaid(STORE, 2):
        assert setup.clock.sleeps == []
        await gateway.fetch(STORE, "500001")
        await gateway.replace(STORE, "500001", DOC)
    assert setup.clock.sleeps == []  # both tokens were taken before the read
    await gateway.fetch(STORE, "500001")  # the bucket is empty now: this one waits a refill
    assert setup.clock.sleeps == [pytest.approx(1.0)]


async def test_a_429_holds_back_the_next_caller_for_the_cool_down() -> None:
    setup = _Setup()
    setup.inner.fail_next("fetch", RateLimited("", 5.0))
    with call_context(setup.deadline(2.0)), pytest.raises(RateLimited) as caught:
        await setup.gateway.fetch(STORE, "500001")
    assert str(caught.value) == "OrderDesk's rate limit for store 42 was reached; retry in 5.0 s."
    assert setup.clock.sleeps == []
    await setup.gateway.check_connection(STORE)
    assert setup.clock.sleeps == [5.0]


async def test_no_sleep_ends_past_the_calls_deadline() -> None:
    setup = _Setup()
    setup.inner.fail_next("list_page", *[UpstreamUnavailable("HTTP 503") for _ in range(3)])
    with call_context(setup.deadline(2.5)), pytest.raises(UpstreamUnavailable):
        await setup.gateway.list_page(STORE, OrderQuery(limit=10))
    assert setup.clock.sleeps == [1.0]
    assert setup.inner.calls["list_page"] == 2


async def test_a_spent_deadline_stops_before_calling_upstream() -> None:
    setup = _Setup()
    ctx = CallContext(correlation_id="c1", deadline=setup.clock.monotonic() - 0.1, timeout=30.0)
    with call_context(ctx), pytest.raises(DeadlineExceeded) as caught:
        await setup.gateway.fetch(STORE, "500001")
    assert str(caught.value) == (
        "The call did not finish within its 30 s deadline and was stopped; OrderDesk may be slow, try again."
    )
    assert setup.inner.calls == {}


async def test_an_empty_bucket_waits_only_as_long_as_the_deadline_allows() -> None:
    setup = _Setup()
    await setup.limiter.observe(STORE, tokens_remaining=0)
    with call_context(setup.deadline(0.2)), pytest.raises(RateLimited) as caught:
        await setup.gateway.fetch(STORE, "500001")
    assert str(caught.value) == "OrderDesk's rate limit for store 42 was reached; retry in 0.3 s."
    assert setup.inner.calls == {}
    await setup.gateway.fetch(STORE, "500001")
    assert setup.clock.sleeps == [pytest.approx(1 / 3)]
