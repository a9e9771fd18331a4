"""The per-call block every tool body runs in (``dispatch.tool_call``), end to end through the SDK.

A probe tool registered beside the real ones runs its body inside ``tool_call`` and ends it in
each way a body can: normally, with a domain error, past its deadline, or with a crash. The
agent's text, the telemetry outcome and the call context afterwards are what is checked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import anyio
import pytest
from mcp import Client
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer

from orderdesk_mcp.domain.context import current_call
from orderdesk_mcp.domain.errors import DeadlineExceeded, OrderNotFound
from orderdesk_mcp.entrypoints.container import Container, open_services
from orderdesk_mcp.entrypoints.dispatch import request_of, tool_call
from orderdesk_mcp.entrypoints.mcp_server import build_server
from orderdesk_mcp.entrypoints.services import AppServices
from tests.mcp_harness import STORE, error_text, make_container

pytestmark = pytest.mark.anyio

PROBE = "probe"
seen_after: list[object] = []


def _register_probe(mcp: MCPServer[AppServices]) -> None:
    @mcp.tool(name=PROBE, description="Ends its body as told.")
    async def probe(ending: str, ctx: Context[AppServices]) -> str:
        try:
            async with tool_call(ctx.request_context, PROBE, allowed={"ending"}, store=None) as ref:
                if ending == "not_found":
                    raise OrderNotFound("42", ref.store_id)
                if ending == "deadline":
                    await anyio.sleep_forever()
                if ending == "crash":
                    raise RuntimeError("a bug")
                if ending == "timeout_error":
                    raise TimeoutError
            return f"ok {ref.store_id}"
        finally:
            seen_after.append(current_call())

    del probe


@asynccontextmanager
async def _client(container: Container) -> AsyncIterator[Client]:
    @asynccontextmanager
    async def lifespan(_: MCPServer[AppServices]) -> AsyncIterator[AppServices]:
        async with open_services(container) as services:
            yield services

    server = build_server(lifespan, read_only=False, extra=_register_probe)
    async with Client(server) as client:
        yield client


def _outcomes(container: Container) -> dict[str, float]:
    registry = container.telemetry().registry
    names = ("ok", "OrderNotFound", "DeadlineExceeded", "internal_error")
    return {
        outcome: registry.get_sample_value("orderdesk_tool_calls_total", {"tool": PROBE, "outcome": outcome})
        or 0.0
        for outcome in names
    }


async def test_each_ending_of_a_body_reaches_the_agent_and_the_telemetry_as_itself(tmp_path: Path) -> None:
    container = make_container(tmp_path, call_timeout=0.05)
    seen_after.clear()
    async with _client(container) as client:
        ok = await client.call_tool(PROBE, {"ending": "none"})
        not_found = await client.call_tool(PROBE, {"ending": "not_found"})
        deadline = await client.call_tool(PROBE, {"ending": "deadline"})
        timeout_error = await client.call_tool(PROBE, {"ending": "timeout_error"})
        crash = await client.call_tool(PROBE, {"ending": "crash"})
    assert not ok.is_error
    assert [getattr(block, "text", "") for block in ok.content] == [f"ok {STORE}"]
    assert error_text(not_found) == f"Order 42 was not found in store {STORE}."
    assert error_text(deadline) == error_text(timeout_error) == str(DeadlineExceeded(0.05))
    assert crash.is_error
    assert [getattr(block, "text", "") for block in crash.content] == [f"Error executing tool {PROBE}"]
    assert _outcomes(container) == {"ok": 1, "OrderNotFound": 1, "DeadlineExceeded": 2, "internal_error": 1}
    assert seen_after == [None] * 5  # the call context never outlives its block


async def test_an_unknown_argument_is_refused_before_the_body_and_no_call_context_is_left(
    tmp_path: Path,
) -> None:
    container = make_container(tmp_path)
    seen_after.clear()
    async with _client(container) as client:
        result = await client.call_tool(PROBE, {"ending": "none", "extra": 1})
    assert error_text(result) == "Invalid request: unknown argument 'extra'; this tool takes: ending."
    assert _outcomes(container)["ok"] == 0
    assert seen_after == [None]


def test_request_of_gives_the_request_context_the_property_gives() -> None:
    request: ServerRequestContext[AppServices, Any] = ServerRequestContext(
        session=cast(Any, None),
        lifespan_context=cast(AppServices, None),
        protocol_version="",
        method="tools/call",
    )
    ctx: Context[AppServices] = Context(request_context=request)
    assert request_of(ctx) is request is ctx.request_context
    with pytest.raises(ValueError, match="Context is not available outside of a request"):
        request_of(Context())
