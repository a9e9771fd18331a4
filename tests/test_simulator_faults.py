"""The simulator's rate limit (on a fake clock), request log and every fault switch, over HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
import msgspec
import pytest

from orderdesk_mcp.adapters.simulator import SimulatorState
from tests.factories import order_doc
from tests.fakes import FakeClock
from tests.sim_client import AUTH, STORE, SimClient, call, served

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> SimulatorState:
    sim = SimulatorState(clock=clock)
    sim.add_store(STORE, "sim-key-0123456789")
    sim.seed_samples(STORE, 3)
    return sim


@pytest.fixture
async def client(state: SimulatorState) -> AsyncIterator[SimClient]:
    async with served(state) as test_client:
        yield test_client


async def _raw(client: SimClient, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
    async with client.request(method, path, headers=kwargs.pop("headers", AUTH), **kwargs) as response:
        return response.status, dict(response.headers), await response.read()


async def test_the_bucket_allows_a_burst_of_20_then_429s_until_the_clock_refills_it(
    client: SimClient, state: SimulatorState, clock: FakeClock
) -> None:
    remaining = []
    for _ in range(20):
        status, headers, _ = await _raw(client, "GET", "/orders/500001")
        assert status == 200
        remaining.append(int(headers["X-Tokens-Remaining"]))
    assert remaining == list(range(19, -1, -1))
    status, headers, body = await _raw(client, "GET", "/orders/500001")
    assert (status, headers["X-Retry-After"], headers["X-Tokens-Remaining"]) == (429, "1", "0")
    assert msgspec.json.decode(body)["message"] == "Rate limit exceeded"
    assert [r.status for r in state.requests[-2:]] == [200, 429]
    clock.advance(1.0)  # 3 tokens per second
    statuses = [(await _raw(client, "GET", "/test"))[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


async def test_a_long_wait_for_a_token_is_rounded_up_to_whole_seconds(clock: FakeClock) -> None:
    state = SimulatorState(clock=clock, burst=1, per_second=0.4)
    state.add_store(STORE, "sim-key-0123456789")
    async with served(state) as client:
        assert (await _raw(client, "GET", "/test"))[0] == 200
        clock.advance(0.25)  # 0.1 tokens: the next one is 2.25 s away
        first = (await _raw(client, "GET", "/test"))[1]["X-Retry-After"]
        clock.advance(0.5)  # 0.3 tokens: 1.75 s away
        second = (await _raw(client, "GET", "/test"))[1]["X-Retry-After"]
    assert (first, second) == ("3", "2")
    assert [r.status for r in state.requests] == [200, 429, 429]


async def test_with_the_bucket_off_nothing_is_limited(client: SimClient, state: SimulatorState) -> None:
    state.faults.rate_limit_enabled = False
    assert {(await _raw(client, "GET", "/test"))[0] for _ in range(30)} == {200}


async def test_every_request_is_recorded_with_its_clock_time_and_correlation_id(
    client: SimClient, state: SimulatorState, clock: FakeClock
) -> None:
    await call(client, "GET", "/orders", headers=AUTH | {"X-Correlation-ID": "corr-7"})
    clock.advance(2)
    await call(client, "DELETE", "/api/v2/orders/999999")
    records = [(r.method, r.path, r.store_id, r.time, r.correlation_id, r.status) for r in state.requests]
    assert records == [
        ("GET", "/orders", STORE, 1000.0, "corr-7", 200),
        ("DELETE", "/api/v2/orders/999999", STORE, 1002.0, "", 404),
    ]


async def test_unknown_routes_wrong_methods_and_oversized_bodies_answer_json_errors(
    state: SimulatorState,
) -> None:
    async with served(state, max_body_bytes=1_000) as client:
        answers = [
            await call(client, "GET", "/batch-orders"),  # no such endpoint (ORDERDESK_API §2.9)
            await call(client, "PATCH", "/orders/500001", json={}),
            await call(client, "POST", "/orders", json=order_doc(pad="x" * 2_000)),
        ]
    assert [(status, body["status"], body["message"]) for status, body in answers] == [
        (404, "error", "Not Found"),
        (405, "error", "Method Not Allowed"),
        (413, "error", "Request Entity Too Large"),
    ]


async def test_fail_next_answers_the_given_status_body_and_headers_then_recovers(
    client: SimClient, state: SimulatorState
) -> None:
    state.faults.fail_next(2, status=502, body=b"<html>Bad gateway</html>", content_type="text/html",
                           headers={"Retry-After": "4"})  # fmt: skip
    for _ in range(2):
        status, headers, body = await _raw(client, "GET", "/orders/500001")
        assert (status, body, headers["Content-Type"], headers["Retry-After"]) == (
            502, b"<html>Bad gateway</html>", "text/html", "4",
        )  # fmt: skip
    assert (await _raw(client, "GET", "/orders/500001"))[0] == 200
    state.faults.fail_next(1)
    assert await call(client, "GET", "/test") == (503, {"status": "error", "message": "Server error"})


async def test_a_path_prefix_keeps_a_fault_for_the_requests_it_names(
    client: SimClient, state: SimulatorState
) -> None:
    state.faults.fail_next(1, status=500, path_prefix="/orders/500002")
    assert (await _raw(client, "GET", "/orders/500001"))[0] == 200
    assert (await _raw(client, "GET", "/orders/500002"))[0] == 500
    assert state.faults.pending() == 0


async def test_rate_limit_next_answers_429_with_a_whole_second_retry_after(
    client: SimClient, state: SimulatorState
) -> None:
    state.faults.rate_limit_next(1, retry_after=2.5)
    status, headers, body = await _raw(client, "GET", "/orders/500001")
    assert (status, headers["X-Retry-After"]) == (429, "3")
    assert msgspec.json.decode(body)["message"] == "Rate limit exceeded"


async def test_error_body_next_is_an_http_200_carrying_an_error(
    client: SimClient, state: SimulatorState
) -> None:
    state.faults.error_body_next(1, "Order locked by a rule")
    status, body = await call(client, "PUT", "/orders/500001", json=state.orders(STORE)["500001"])
    assert (status, body["status"], body["message"]) == (200, "error", "Order locked by a rule")
    assert state.orders(STORE)["500001"]["date_updated"] == "2026-10-01 13:00:00"  # not written


@pytest.mark.parametrize("after_processing", [False, True])
async def test_drop_next_closes_the_connection_with_or_without_the_write(
    client: SimClient, state: SimulatorState, after_processing: bool
) -> None:
    state.faults.drop_next(1, after_processing=after_processing)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(client, "POST", "/orders", json=order_doc())
    assert len(state.orders(STORE)) == (4 if after_processing else 3)
    assert state.requests[-1].status == 0


async def test_slow_next_delays_the_answer_past_a_short_client_timeout(
    client: SimClient, state: SimulatorState
) -> None:
    state.faults.slow_next(1, 0.5)
    with anyio.fail_after(5), pytest.raises(TimeoutError):
        await call(client, "GET", "/orders/500001", timeout=aiohttp.ClientTimeout(total=0.05))
    assert (await _raw(client, "GET", "/orders/500001"))[0] == 200


async def test_latency_is_added_to_every_answer(client: SimClient, state: SimulatorState) -> None:
    state.faults.latency = 0.05
    started = time.perf_counter()
    assert (await _raw(client, "GET", "/test"))[0] == 200
    assert time.perf_counter() - started >= 0.05


async def test_huge_body_next_answers_valid_json_of_the_requested_size(
    client: SimClient, state: SimulatorState
) -> None:
    state.faults.huge_body_next(1, 300_000)
    status, _, body = await _raw(client, "GET", "/orders")
    assert (status, len(body)) == (200, 300_033)
    assert msgspec.json.decode(body)["status"] == "success"


async def test_change_after_read_serves_the_read_then_edits_the_order_like_another_writer(
    client: SimClient, state: SimulatorState, clock: FakeClock
) -> None:
    before = dict(state.orders(STORE)["500001"])
    state.faults.change_after_read("500001", times=2)
    clock.advance(30)
    for n in (1, 2):
        _, body = await call(client, "GET", "/orders/500001")
        assert body["order"]["order_metadata"] == (
            before["order_metadata"] if n == 1 else _meta(n - 1, before)
        )
        assert state.orders(STORE)["500001"]["order_metadata"] == _meta(n, before)
    assert state.orders(STORE)["500001"]["date_updated"] == "2026-01-01 00:00:30"
    await call(client, "GET", "/orders/500001")
    assert state.orders(STORE)["500001"]["order_metadata"]["external_edit"] == 2  # disarmed after 2


def _meta(n: int, before: dict[str, Any]) -> dict[str, Any]:
    return dict(before["order_metadata"]) | {"external_edit": n}


async def test_change_after_read_with_a_mutation_and_no_limit_edits_every_time(
    client: SimClient, state: SimulatorState
) -> None:
    def bump(doc: dict[str, Any]) -> None:
        doc["tax_total"] = doc["tax_total"] + 1

    state.faults.change_after_read("500002", times=None, mutate=bump)
    for _ in range(3):
        await call(client, "GET", "/orders/500002")
    assert state.orders(STORE)["500002"]["tax_total"] == 3.0
    state.faults.change_after_read("500002", times=0)
    await call(client, "GET", "/orders/500002")
    assert state.orders(STORE)["500002"]["tax_total"] == 3.0


async def test_conflict_next_put_answers_409_once_and_writes_nothing(
    client: SimClient, state: SimulatorState
) -> None:
    state.faults.conflict_next_put()
    doc = state.orders(STORE)["500003"] | {"x_note": "mine"}
    status, body = await call(client, "PUT", "/orders/500003", json=doc)
    assert (status, body["message"]) == (409, "Order was modified by another request")
    assert "x_note" not in state.orders(STORE)["500003"]
    status, body = await call(client, "PUT", "/orders/500003", json=doc)
    assert (status, body["order"]["x_note"]) == (200, "mine")
