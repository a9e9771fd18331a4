"""The aiohttp client against the simulator's fault switches, over real loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from orderdesk_mcp.adapters.http_gateway import USER_AGENT, HttpOrderGateway
from orderdesk_mcp.adapters.memory_rate_limiter import MemoryRateLimiter
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.domain.context import CallContext, call_context
from orderdesk_mcp.domain.errors import (
    AuthenticationFailed,
    OutcomeUnknown,
    RateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.use_cases.resilient_gateway import ResilientOrderGateway
from tests.fake_credentials import FakeCredentialStore
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
    assert str(caught.value) == 'OrderDesk rejected the request. OrderDesk said: "Order locked by rule"'


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
            'rejected the request. OrderDesk said: "Bad email"',
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
    gateway = HttpOrderGateway(base_url="http://127.0.0.1:9", credentials=FakeCredentialStore())
    with pytest.raises(RuntimeError):
        await gateway.fetch(STORE, "1")


class _Seen:
    """What a tiny stand-in OrderDesk saw, and what it answers."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = status
        self.headers = headers or {}

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.Response:
            self.requests.append((request.method, dict(request.headers), await request.read()))
            body = {"status": "success", "order": {"id": 500001, "folder_id": "2", "x": []}}
            if self.status != 200:
                body = {"status": "error", "message": "nope"}
            return web.json_response(body, status=self.status, headers=self.headers)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        return app


@asynccontextmanager
async def _stand_in(seen: _Seen, limiter: MemoryRateLimiter | None = None) -> AsyncIterator[HttpOrderGateway]:
    server = TestServer(seen.app(), host="127.0.0.1")
    await server.start_server()
    credentials = FakeCredentialStore()
    credentials.add_store("default", STORE_ID, "secret-key-0001")
    try:
        async with HttpOrderGateway(
            base_url=str(server.make_url("")), credentials=credentials, limiter=limiter
        ) as gateway:
            yield gateway
    finally:
        await server.close()


async def test_every_request_carries_the_store_headers_and_a_body_only_on_writes() -> None:
    seen = _Seen()
    async with _stand_in(seen) as gateway:
        order = await gateway.fetch(STORE, "500001")
        await gateway.create(STORE, {"email": "a@example.com"})
    (_, get_headers, get_body), (_, post_headers, post_body) = seen.requests
    assert get_headers["ORDERDESK-STORE-ID"] == STORE_ID
    assert get_headers["ORDERDESK-API-KEY"] == "secret-key-0001"
    assert get_headers["User-Agent"] == USER_AGENT
    assert "Content-Type" not in get_headers
    assert get_body == b""
    assert post_headers["Content-Type"] == "application/json"
    assert msgspec.json.decode(post_body) == {"email": "a@example.com"}
    assert order.doc == {"id": "500001", "folder_id": "2", "x": []}  # only the id is normalised
    assert order.view.folder_id == 2


async def test_a_429_cools_our_bucket_down_for_orderdesks_retry_after() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(burst=20, per_second=3.0, clock=clock)
    seen = _Seen(status=429, headers={"X-Retry-After": "6", "X-Tokens-Remaining": "0"})
    async with _stand_in(seen, limiter) as gateway:
        with pytest.raises(RateLimited) as caught:
            await gateway.fetch(STORE, "500001")
    assert str(caught.value) == f"OrderDesk's rate limit for store {STORE_ID} was reached; retry in 6.0 s."
    with pytest.raises(RateLimited) as held:
        await limiter.acquire(STORE, max_wait=1.0)
    assert held.value.retry_after == 6.0


async def test_a_5xx_on_create_is_outcome_unknown_and_a_refused_connection_is_not() -> None:
    seen = _Seen(status=503)
    async with _stand_in(seen) as gateway:
        with pytest.raises(OutcomeUnknown) as caught:
            await gateway.create(STORE, {"email": "a@example.com"})
    assert caught.value.reason == "HTTP 503"
    credentials = FakeCredentialStore()
    credentials.add_store("default", STORE_ID, "k")
    async with HttpOrderGateway(base_url="http://127.0.0.1:9", credentials=credentials) as closed:
        with pytest.raises(UpstreamUnavailable) as refused:
            await closed.create(STORE, {"email": "a@example.com"})
    assert (
        str(refused.value) == "OrderDesk is unavailable right now (could not connect); try again in a minute."
    )
    assert refused.value.maybe_sent is False
