"""The simulator's HTTP API over loopback: auth, documented envelopes, list filters, writes, rate limit."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from orderdesk_mcp.adapters.simulator import SimulatorState, default_state
from tests.factories import order_doc, order_docs
from tests.fakes import FakeClock
from tests.sim_client import AUTH, KEY, STORE, SimClient, call, served

pytestmark = pytest.mark.anyio

TOOK = re.compile(r"Execution took \d+\.\d{4} seconds")


def _seeded_docs() -> list[dict[str, Any]]:
    docs = order_docs(12, seed=11)
    for n, doc in enumerate(docs):
        doc |= {
            "folder_id": 1 + n % 4,
            "date_added": f"2026-03-{1 + n:02d} 10:00:00",
            "date_updated": f"2026-04-{12 - n:02d} 08:30:00",
            "order_total": float((n * 7) % 13),
            "email": "repeat@example.com" if n % 5 == 0 else doc["email"],
        }
    return docs


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> SimulatorState:
    sim = SimulatorState(clock=clock)
    sim.add_store(STORE, KEY)
    sim.seed(STORE, _seeded_docs())
    return sim


@pytest.fixture
async def client(state: SimulatorState) -> AsyncIterator[SimClient]:
    async with served(state) as test_client:
        yield test_client


def _ids(body: dict[str, Any]) -> list[str]:
    return [o["id"] for o in body["orders"]]


@pytest.mark.parametrize(
    "headers",
    [{}, {"ORDERDESK-STORE-ID": STORE}, {"ORDERDESK-STORE-ID": STORE, "ORDERDESK-API-KEY": "wrong"},
     {"ORDERDESK-STORE-ID": "999", "ORDERDESK-API-KEY": KEY}],
)  # fmt: skip
async def test_bad_or_missing_credentials_are_a_401_that_never_echoes_the_key(
    client: SimClient, state: SimulatorState, headers: dict[str, str]
) -> None:
    async with client.get("/orders/500001", headers=headers) as response:
        raw = await response.read()
        assert response.status == 401
    assert raw.count(b"wrong") == raw.count(KEY.encode()) == 0
    body = await call(client, "GET", "/test", headers=headers)
    assert body[1]["status"] == "error"
    assert body[1]["message"] == "Invalid store ID or API key"
    assert [r.status for r in state.requests] == [401, 401]


async def test_test_endpoint_reports_the_clocks_utc_time_with_or_without_content_type(
    client: SimClient,
) -> None:
    for headers in (AUTH, AUTH | {"Content-Type": "application/json"}):
        status, body = await call(client, "GET", "/api/v2/test", headers=headers)
        assert status == 200
        assert body["status"] == "success"
        assert body["message"] == "Connection Successful"
        assert body["current_date_time"] == "2026-01-01 00:00:00"
        assert body["execution_time"].endswith(" seconds")


async def test_store_lists_folders_by_string_id_and_no_secrets(client: SimClient) -> None:
    status, body = await call(client, "GET", "/store")
    assert status == 200
    assert body["store"]["id"] == STORE
    assert body["store"]["folders"] == {"1": "New", "2": "Prepared", "3": "Closed", "4": "Canceled"}
    assert "api_key" not in str(body)
    assert KEY not in str(body)


async def test_get_order_uses_the_documented_envelope(client: SimClient, state: SimulatorState) -> None:
    status, body = await call(client, "GET", "/orders/500003")
    assert status == 200
    assert set(body) == {"status", "message", "order"}
    assert TOOK.fullmatch(body["message"])
    assert body["order"] == state.orders(STORE)["500003"]


async def test_an_unknown_order_is_a_404_with_orderdesks_message(client: SimClient) -> None:
    for method in ("GET", "DELETE"):
        status, body = await call(client, method, "/orders/999999")
        assert (status, body["status"], body["message"]) == (404, "error", "Order not found")
    status, body = await call(client, "PUT", "/orders/999999", json=order_doc())
    assert (status, body["message"]) == (404, "Order not found")


async def test_list_defaults_to_newest_first_with_the_documented_envelope(client: SimClient) -> None:
    status, body = await call(client, "GET", "/orders")
    assert status == 200
    assert {k: v for k, v in body.items() if k != "orders"} == {
        "status": "success", "message": body["message"], "total_records": 12, "records_returned": 12,
        "offset": 0, "limit": 50,
    }  # fmt: skip
    assert TOOK.fullmatch(body["message"])
    assert _ids(body) == [str(i) for i in range(500012, 500000, -1)]


def _expected(state: SimulatorState, keep: Any) -> list[str]:
    docs = sorted(state.orders(STORE).values(), key=lambda d: d["date_added"], reverse=True)
    return [d["id"] for d in docs if keep(d)]


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"folder_id": "2"}, lambda d: d["folder_id"] == 2),
        ({"folder_id": "2,3"}, lambda d: d["folder_id"] in (2, 3)),
        ({"folder_name": "Closed"}, lambda d: d["folder_id"] == 3),
        ({"folder_name": "closed"}, lambda d: False),
        ({"email": "repeat@example.com"}, lambda d: d["email"] == "repeat@example.com"),
        ({"source_name": "Shopify"}, lambda d: d["source_name"] == "Shopify"),
        ({"search_start_date": "2026-03-10"}, lambda d: d["date_added"] >= "2026-03-10"),
        ({"search_end_date": "2026-03-03"}, lambda d: d["date_added"] < "2026-03-04"),
        ({"search_start_date": "2026-03-02 10:00:00", "search_end_date": "2026-03-04 09:59:59"},
         lambda d: d["id"] in ("500002", "500003")),
        ({"modified_start_date": "2026-04-10"}, lambda d: d["date_updated"] >= "2026-04-10"),
        ({"modified_end_date": "2026-04-02 08:30:00"}, lambda d: d["date_updated"] <= "2026-04-02 08:30:00"),
        ({"folder_id": "1", "email": "repeat@example.com"}, lambda d: d["id"] == "500001"),
    ],
)  # fmt: skip
async def test_each_list_filter_keeps_exactly_the_matching_orders(
    client: SimClient, state: SimulatorState, params: dict[str, str], keep: Any
) -> None:
    status, body = await call(client, "GET", "/orders", params=params)
    assert status == 200
    assert _ids(body) == _expected(state, keep)
    assert body["total_records"] == body["records_returned"] == len(_ids(body))


async def test_source_id_finds_the_one_order(client: SimClient, state: SimulatorState) -> None:
    source_id = state.orders(STORE)["500007"]["source_id"]
    _, body = await call(client, "GET", "/orders", params={"source_id": source_id})
    assert _ids(body) == ["500007"]


@pytest.mark.parametrize(
    ("order_by", "key"),
    [
        ("date_added", lambda d: d["date_added"]),
        ("date_updated", lambda d: d["date_updated"]),
        ("id", lambda d: int(d["id"])),
        ("source_id", lambda d: d["source_id"]),
        ("email", lambda d: d["email"]),
        ("order_total", lambda d: d["order_total"]),
        ("shipping_last_name", lambda d: d["shipping"]["last_name"]),
    ],
)
@pytest.mark.parametrize("direction", ["asc", "DESC"])
async def test_order_by_sorts_on_the_field_in_either_direction(
    client: SimClient, state: SimulatorState, order_by: str, key: Any, direction: str
) -> None:
    _, body = await call(client, "GET", "/orders", params={"order_by": order_by, "order": direction})
    values = [key(state.orders(STORE)[i]) for i in _ids(body)]
    assert values == sorted(values, reverse=direction == "DESC")
    assert len(values) == 12


async def test_paging_walks_the_list_and_past_the_end_is_an_empty_success(client: SimClient) -> None:
    seen: list[str] = []
    for offset in (0, 5, 10):
        _, body = await call(client, "GET", "/orders", params={"limit": "5", "offset": str(offset)})
        assert (body["limit"], body["offset"], body["total_records"]) == (5, offset, 12)
        seen += _ids(body)
    assert len(seen) == len(set(seen)) == 12
    status, body = await call(client, "GET", "/orders", params={"offset": "40"})
    assert (status, body["status"], body["orders"], body["records_returned"]) == (200, "success", [], 0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "501"}, "limit must be between 1 and 500"),
        ({"limit": "0"}, "limit must be between 1 and 500"),
        ({"limit": "ten"}, "limit must be a whole number of 0 or more"),
        ({"offset": "-1"}, "offset must be a whole number of 0 or more"),
        ({"order_by": "price"}, "order_by must be one of: date_added, date_updated, id, source_id, email, "
                                "order_total, shipping_last_name"),
        ({"order": "up"}, "order must be asc or desc"),
        ({"folder_id": "1,x"}, "folder_id must be a folder id or a comma-separated list of folder ids"),
        ({"search_start_date": "2026-03-01T00:00:00Z"},
         "search_start_date must be a UTC date as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"),
        ({"modified_end_date": "2026-02-30"},
         "modified_end_date must be a UTC date as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"),
    ],
)  # fmt: skip
async def test_bad_list_parameters_are_a_422_naming_the_parameter(
    client: SimClient, params: dict[str, str], message: str
) -> None:
    status, body = await call(client, "GET", "/orders", params=params)
    assert (status, body["status"], body["message"]) == (422, "error", message)


def test_default_state_is_a_ready_store_with_the_same_samples_every_time() -> None:
    first, second = default_state(sample_count=5), default_state(sample_count=5)
    assert first.orders("100001") == second.orders("100001")
    assert list(first.orders("100001")) == ["500001", "500002", "500003", "500004", "500005"]
    assert first.authenticate("100001", "sim-key")
