"""The MCP server over the real HTTP gateway against the simulator served on loopback.

Covers what only shows end to end: the API key never leaks (a canary key is planted), every
call's correlation id reaches both the logs and OrderDesk, and a call past its deadline is
stopped with a message that says so.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from orderdesk_mcp.adapters.simulator import SimulatorState, create_app, default_state
from orderdesk_mcp.entrypoints.logging_setup import install_call_context_records
from tests.mcp_harness import STORE, error_text, make_container, mcp_client

pytestmark = pytest.mark.anyio

CANARY = "canary-KEY-7f3a9c1e5b2d8f4a6c0e9b7d5f3a1c8e2b4d6f"


@pytest.fixture
async def served() -> AsyncIterator[tuple[SimulatorState, str]]:
    state = default_state(store_id=STORE, api_key=CANARY, sample_count=5)
    server = TestServer(create_app(state), host="127.0.0.1")
    await server.start_server()
    try:
        yield state, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_a_canary_api_key_appears_in_no_log_line_error_or_result(
    tmp_path: Path, served: tuple[SimulatorState, str], caplog: pytest.LogCaptureFixture
) -> None:
    state, base_url = served
    order_id = next(iter(state.orders(STORE)))
    texts: list[str] = []
    caplog.set_level(logging.DEBUG)
    good = make_container(
        tmp_path, gateway="http", credentials="env", store_id=STORE, api_key=CANARY, base_url=base_url
    )
    async with mcp_client(good) as client:
        calls: list[tuple[str, dict[str, Any]]] = [
            ("orders_get", {"order_id": order_id}),
            ("orders_get", {"order_id": "999999"}),
            ("orders_list", {"limit": 5}),
            ("orders_update", {"order_id": order_id, "changes": {"email": "c@example.com"}}),
        ]
        for name, args in calls:
            result = await client.call_tool(name, args)
            texts.append(str(result.content) + str(result.structured_content))
    wrong = make_container(
        tmp_path, gateway="http", credentials="env", store_id=STORE, api_key=CANARY[::-1], base_url=base_url
    )
    async with mcp_client(wrong) as client:
        refused = await client.call_tool("orders_get", {"order_id": order_id})
    assert error_text(refused) == (
        f"OrderDesk refused the credentials for store {STORE}; "
        "check the store id and API key (Store Settings → API in OrderDesk)."
    )
    texts.append(str(refused.content))
    texts += [record.getMessage() for record in caplog.records]
    audit = (tmp_path / "audit.jsonl").read_text()
    assert all(CANARY not in text and CANARY[::-1] not in text for text in [*texts, audit])


async def test_each_call_has_a_correlation_id_in_its_logs_and_upstream(
    tmp_path: Path, served: tuple[SimulatorState, str], caplog: pytest.LogCaptureFixture
) -> None:
    state, base_url = served
    container = make_container(
        tmp_path, gateway="http", credentials="env", store_id=STORE, api_key=CANARY, base_url=base_url
    )
    caplog.set_level(logging.INFO)
    install_call_context_records()
    async with mcp_client(container) as client:
        result = await client.call_tool("orders_get", {"order_id": "999999"})
    assert result.is_error
    upstream_ids = {r.correlation_id for r in state.requests if r.path.endswith("/999999")}
    assert len(upstream_ids) == 1
    (correlation_id,) = upstream_ids
    assert correlation_id
    ours = [r for r in caplog.records if getattr(r, "correlation_id", None) == correlation_id]
    assert any("orders_get failed: OrderNotFound" in r.getMessage() for r in ours)


async def test_a_call_past_its_deadline_is_stopped_and_says_so(
    tmp_path: Path, served: tuple[SimulatorState, str]
) -> None:
    state, base_url = served
    order_id = next(iter(state.orders(STORE)))
    container = make_container(
        tmp_path,
        gateway="http",
        credentials="env",
        store_id=STORE,
        api_key=CANARY,
        base_url=base_url,
        call_timeout=0.3,
    )
    state.faults.slow_next(1, 5.0)
    async with mcp_client(container) as client:
        result = await client.call_tool("orders_get", {"order_id": order_id})
        after = await client.call_tool("orders_get", {"order_id": order_id})
    assert error_text(result) == (
        "The call did not finish within its 0.3 s deadline and was stopped; OrderDesk may be slow, try again."
    )
    assert not after.is_error
