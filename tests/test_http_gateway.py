"""The aiohttp client against the simulator's fault switches, over real loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.http_gateway import HttpOrderGateway
from adapters.memory_rate_limiter import MemoryRateLimiter
from adapters.simulator import SimulatorState
from domain.context import CallContext, call_context
from domain.errors import (
    AuthenticationFailed,
    OutcomeUnknown,
    RateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from domain.order import StoreRef
from domain.retry import RetryPolicy
from domain.use_cases.resilient_gateway import ResilientOrderGateway
from tests.fakes import FakeClock
from tests.upstream_harness import API_KEY, STORE_ID, http_gateway, served_simulator

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="default", store_id=STORE_ID)
NEW = {"customer": {"company": "ACME"}, "order_items": [{"name": "Anvil", "price": 10}]}


@pytest.fixture
def state() -> SimulatorState:
    sim = SimulatorState()
    sim.add_store(STORE_ID, API_KEY)
    sim.seed_samples(STORE_ID, 3)
    return sim


@pytest.fixture
async def url(state: SimulatorState) -> AsyncIterator[str]:
    async with served_simulator(state) as base:
        yield base


async def test_a_wrong_key_is_authentication_failed_and_the_key_is_not_in_the_message(url: str) -> None:
    async with http_gateway(url, api_key="wrong-key-abcdef") as gateway:
        with pytest.raises(AuthenticationFailed) as caught:
            await gateway.fetch(STORE, "500001")
    assert "wrong-key-abcdef" not in str(caught.value)


async def test_status_error_with_http_200_is_rejected_with_orderdesks_message(
    url: str, state: SimulatorState
) -> None:
    state.faults.error_body_next(1, "Order locked\nby\x00rule")
    async with http_gateway(url) as gateway:
        with pytest.raises(UpstreamRejected) as caught:
            await gateway.fetch(STORE, "500001")
    assert str(caught.value) == "OrderDesk rejected the request: Order locked by rule"


@pytest.mark.parametrize(
    ("status", "body", "content_type", "message"),
    [
        (
            502,
            b"<html><body>Bad gateway</body></html>",
            "text/html",
            "OrderDesk is unavailable right now (HTTP 502)",
        ),
        (200, b'{"status": "success", "order": {"id"', "application/json", "(unreadable response)"),
        (
            400,
            b"<html>nope</html>",
            "text/html",
            "OrderDesk rejected the request: HTTP 400 with an unreadable body",
        ),
        (
            422,
            b'{"status":"error","message":"Bad email"}',
            "application/json",
            "rejected the request: Bad email",
        ),
    ],
)
async def test_broken_and_html_bodies_become_clear_errors(
    url: str, state: SimulatorState, status: int, body: bytes, content_type: str, message: str
) -> None:
    state.faults.fail_next(1, status=status, body=body, content_type=content_type)
    async with http_gateway(url) as gateway:
        with pytest.raises((UpstreamUnavailable, UpstreamRejected)) as caught:
            await gateway.fetch(STORE, "500001")
    assert message in str(caught.value)
    assert "<html>" not in str(caught.value)


async def test_a_429_carries_orderdesks_retry_after(url: str, state: SimulatorState) -> None:
    state.faults.rate_limit_next(1, retry_after=7)
    async with http_gateway(url) as gateway:
        with pytest.raises(RateLimited) as caught:
            await gateway.fetch(STORE, "500001")
    assert caught.value.retry_after == 7.0


async def test_a_body_over_the_limit_is_refused(url: str, state: SimulatorState) -> None:
    state.faults.huge_body_next(1, 2_000_000)
    async with http_gateway(url, max_response_bytes=100_000) as gateway:
        with pytest.raises(UpstreamRejected) as caught:
            await gateway.fetch(STORE, "500001")
    assert "larger than the 100000 byte limit" in str(caught.value)


async def test_a_dropped_connection_is_unavailable_for_reads(url: str, state: SimulatorState) -> None:
    state.faults.drop_next(2)  # aiohttp itself re-sends an idempotent request once on a dropped connection
    async with http_gateway(url) as gateway:
        with pytest.raises(UpstreamUnavailable) as caught:
            await gateway.fetch(STORE, "500001")
    assert str(caught.value) == "OrderDesk is unavailable right now (connection lost); try again in a minute."


async def test_a_create_dropped_after_it_landed_is_outcome_unknown_not_failed(
    url: str, state: SimulatorState
) -> None:
    state.faults.drop_next(1, after_processing=True)
    async with http_gateway(url) as gateway:
        with pytest.raises(OutcomeUnknown) as caught:
            await gateway.create(STORE, NEW)
    assert str(caught.value) == (
        "OrderDesk did not confirm the order creation (connection lost); it may or may not have happened."
    )
    assert len(state.orders(STORE_ID)) == 4


async def test_a_slow_answer_past_the_read_timeout_is_unavailable(url: str, state: SimulatorState) -> None:
    state.faults.slow_next(1, 2.0)
    async with http_gateway(url, read_timeout=0.2) as gateway:
        with pytest.raises(UpstreamUnavailable) as caught:
            await gateway.fetch(STORE, "500001")
    assert "timed out" in str(caught.value)


async def test_correlation_id_and_user_agent_reach_orderdesk(url: str, state: SimulatorState) -> None:
    async with http_gateway(url) as gateway:
        with call_context(CallContext(correlation_id="corr-123")):
            await gateway.fetch(STORE, "500001")
    assert state.requests[-1].correlation_id == "corr-123"


async def test_tokens_remaining_resynchronises_our_bucket(url: str, state: SimulatorState) -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(burst=20, per_second=3.0, clock=clock)
    for _ in range(18):
        state.take_token(STORE_ID)
    async with http_gateway(url, limiter=limiter) as gateway:
        await gateway.fetch(STORE, "500001")
    await limiter.acquire(STORE, max_wait=0)
    with pytest.raises(RateLimited):
        await limiter.acquire(STORE, max_wait=0)


async def test_injected_5xx_cost_at_most_one_extra_request_per_failure(
    url: str, state: SimulatorState
) -> None:
    clock = FakeClock()
    state.faults.rate_limit_enabled = False
    limiter = MemoryRateLimiter(burst=1000, per_second=1000.0, clock=clock)
    async with http_gateway(url, limiter=limiter) as http:
        gateway = ResilientOrderGateway(inner=http, limiter=limiter, clock=clock, policy=RetryPolicy())
        for n in range(50):
            if n % 5 == 0:
                state.faults.fail_next(1, status=503)
            await gateway.fetch(STORE, "500001")
    reads = [r for r in state.requests if r.path.endswith("/500001")]
    assert len(reads) / 50 <= 1.25
    assert len(clock.sleeps) == 10


async def test_using_the_gateway_outside_its_block_is_a_programming_error() -> None:
    gateway = HttpOrderGateway(base_url="http://127.0.0.1:9", credentials=_NoCreds())
    with pytest.raises(RuntimeError):
        await gateway.fetch(STORE, "1")


class _NoCreds:
    async def stores(self, tenant: str) -> tuple[()]:
        return ()

    async def api_key(self, store: StoreRef) -> str:
        return "k"

    async def authenticate(self, token: str) -> str | None:
        return None
