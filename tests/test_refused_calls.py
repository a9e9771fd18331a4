"""Calls refused before our dispatch runs still reach the agent as one clear line and the operator's
logs and metrics.

A call whose arguments failed the SDK's schema check (``orders_list {"limit": "ten"}``) was neither
logged nor counted in ``orderdesk_tool_calls_total``; and a write tool called on a read-only server
answered the SDK's bare ``Unknown tool: orders_update``, which does not say the server is read-only.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from orderdesk_mcp.entrypoints.mcp_server import WRITE_TOOLS
from tests.mcp_harness import error_text, make_container, mcp_client, seeded_state

pytestmark = pytest.mark.anyio


async def test_a_call_refused_by_the_schema_check_is_logged_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    container = make_container(tmp_path)
    with caplog.at_level(logging.INFO, logger="orderdesk_mcp.calls"):
        async with mcp_client(container) as client:
            result = await client.call_tool("orders_list", {"limit": "ten"})
    assert error_text(result) == 'Invalid request: limit must be a whole number from 1 to 100; got "ten".'
    sample = container.telemetry().registry.get_sample_value(
        "orderdesk_tool_calls_total", {"tool": "orders_list", "outcome": "InvalidRequest"}
    )
    assert sample == 1
    (line,) = [r.getMessage() for r in caplog.records if r.name == "orderdesk_mcp.calls"]
    assert line.startswith(
        "tool call tool=orders_list tenant=default store=- outcome=InvalidRequest duration_ms="
    )


async def test_a_write_tool_on_a_read_only_server_says_the_server_is_read_only(tmp_path: Path) -> None:
    state = seeded_state(3)
    async with mcp_client(make_container(tmp_path, state=state, read_only=True)) as client:
        result = await client.call_tool("orders_update", {"order_id": 500001, "changes": {"email": "a@b.co"}})
        unknown = await client.call_tool("orders_frobnicate", {})
    assert error_text(result) == "Refused orders_update: this server runs in read-only mode."
    # any other unknown name keeps the SDK's answer
    assert unknown.is_error
    assert [getattr(block, "text", None) for block in unknown.content] == ["Unknown tool: orders_frobnicate"]


async def test_the_write_tools_are_exactly_those_a_read_only_server_leaves_out(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path / "rw")) as client:
        every = {t.name for t in (await client.list_tools()).tools}
    async with mcp_client(make_container(tmp_path / "ro", read_only=True)) as client:
        kept = {t.name for t in (await client.list_tools()).tools}
    assert every - kept == WRITE_TOOLS
