"""Logs an operator can use (issue 14): one line per tool call, a warning per retry, wait or upstream
error, all with the correlation id, JSON on request, and never a secret or personal data."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Literal

import anyio
import pytest
from mcp import Client

from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.entrypoints.logging_setup import configure_logging
from tests.server_process import clean_env, http_server
from tests.upstream_harness import STORE_ID, served_simulator

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CANARY_KEY = "CANARY-orderdesk-key-7f3a9c"
CARD = "4111111111111111"
EMAIL = "canary.shopper@example.com"
GET, LIST, CREATE, UPDATE = "orders_get", "orders_list", "orders_create", "orders_update"
NEW_ORDER = {
    "email": EMAIL,
    "shipping": {"first_name": "Ada", "last_name": "Canary", "address1": "1 Way", "city": "London"},
    "order_items": [{"name": "Difference engine", "price": 10, "quantity": 1, "code": "DE-1"}],
    "order_notes": [{"content": f"card {CARD}, call me at {EMAIL}"}],
}


async def _full_run(
    tmp_path: Path, state: SimulatorState, mode: Literal["auto", "legacy"] = "auto", **env: str
) -> list[str]:
    async with served_simulator(state) as upstream:
        full_env = clean_env(
            tmp_path,
            ORDERDESK_BASE_URL=upstream,
            ORDERDESK_STORE_ID=STORE_ID,
            ORDERDESK_API_KEY=CANARY_KEY,
            **env,
        )
        with http_server(full_env) as server:
            with anyio.fail_after(60):
                async with Client(server.mcp_url, mode=mode) as client:
                    created = await client.call_tool(CREATE, {"order": NEW_ORDER})
                    assert created.structured_content is not None, created.content
                    order_id = created.structured_content["order"]["id"]
                    state.faults.rate_limit_next(1, retry_after=1)
                    state.faults.fail_next(1, status=503)
                    state.faults.drop_next(2)  # aiohttp silently re-sends a GET once; the second drop shows
                    assert not (await client.call_tool(LIST, {"email": EMAIL})).is_error
                    assert not (await client.call_tool(GET, {"order_id": order_id})).is_error
                    change = {"email": f"new.{EMAIL}", "shipping": {"address2": CARD}}
                    updated = await client.call_tool(UPDATE, {"order_id": order_id, "changes": change})
                    assert not updated.is_error
                    assert (await client.call_tool(GET, {"order_id": "999999999"})).is_error
                    assert (await client.call_tool(CREATE, {"order": {"email": EMAIL}})).is_error
            return server.stop()


# "auto": 2026-07-28; "legacy": a handshake-era client. Such clients were answered over SSE, whose
# library logged every chunk of every answer at DEBUG (whole orders, e-mail and card included);
# answers are JSON now, so test_debug_is_for_our_loggers_only is what guards the log levels.
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_json_logs_have_one_line_per_call_warnings_with_the_correlation_id_and_no_secrets(
    tmp_path: Path, mode: Literal["auto", "legacy"]
) -> None:
    state = SimulatorState()
    state.add_store(STORE_ID, CANARY_KEY)
    lines = await _full_run(tmp_path, state, mode, ORDERDESK_LOG_FORMAT="json", ORDERDESK_LOG_LEVEL="DEBUG")
    text = "\n".join(lines)
    for secret in (CANARY_KEY, CARD, EMAIL, "4111 1111", "canary.shopper", "Difference engine"):
        assert secret not in text, secret
    records: list[dict[str, Any]] = [json.loads(line) for line in lines]  # every line, start-up too
    startup = [r["message"] for r in records if r["logger"] == "orderdesk_mcp.startup"]
    assert startup[0].startswith("orderdesk-mcp: credentials: environment variables, because")
    assert startup[1].endswith("/mcp (ready)")
    calls = [r for r in records if r["logger"] == "orderdesk_mcp.calls"]
    assert [(c["tool"], c["outcome"]) for c in calls] == [
        (CREATE, "ok"),
        (LIST, "ok"),
        (GET, "ok"),
        (UPDATE, "ok"),
        (GET, "OrderNotFound"),
        (CREATE, "InvalidRequest"),
    ]
    for call in calls:
        assert call["level"] == "INFO"
        assert call["tenant"] == "default"
        assert len(call["correlation_id"]) == 16
        assert set(call) >= {"store", "duration_ms", "upstream_requests", "cache", "attempts"}
    listing = calls[1]
    assert (listing["store"], listing["cache"]) == (STORE_ID, "miss")
    # GET /orders: 429, 503, lost, lost (aiohttp's own silent re-send), 200; and GET /store once for
    # the folder names of the summary view
    assert (listing["upstream_requests"], listing["retries"]) == (6, 3)
    warnings = [r for r in records if r["level"] == "WARNING"]
    assert all(w["correlation_id"] == listing["correlation_id"] for w in warnings[:6])
    assert {w["tool"] for w in warnings[:6]} == {LIST}
    said = [w["message"] for w in warnings]
    assert "OrderDesk answered 429 to GET /orders" in said
    waited = f"429 (rate limited) from OrderDesk for store {STORE_ID}; waiting 1.00 s before attempt 2 of 4"
    assert waited in said
    assert "OrderDesk answered 503 to GET /orders" in said
    assert any(m.startswith("UpstreamUnavailable from OrderDesk for store") for m in said)
    assert "GET /orders failed: ServerDisconnectedError" in said


async def test_text_logs_carry_the_same_call_line(tmp_path: Path) -> None:
    state = SimulatorState()
    state.add_store(STORE_ID, CANARY_KEY)
    lines = await _full_run(tmp_path, state)
    text = "\n".join(lines)
    for secret in (CANARY_KEY, CARD, EMAIL):
        assert secret not in text, secret
    calls = [line for line in lines if " INFO orderdesk_mcp.calls [" in line]
    assert len(calls) == 6
    assert f"tool call tool={GET} tenant=default store={STORE_ID} outcome=ok duration_ms=" in calls[2]
    # the list page filled the per-order cache, so the get after it sends nothing upstream
    assert "upstream_requests=0 cache=hit attempts=0 retries=0" in calls[2]


def test_debug_is_for_our_loggers_only() -> None:
    # Regression: DEBUG set the root logger to DEBUG, and the SSE library logged every chunk of every
    # answer there. Libraries stay at INFO, the SDK at WARNING; our loggers get DEBUG.
    ours = logging.getLogger("orderdesk_mcp")
    before = ours.level
    try:
        configure_logging(level="DEBUG")
        assert logging.getLogger("orderdesk_mcp.calls").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("sse_starlette.sse").isEnabledFor(logging.DEBUG)
        assert logging.getLogger("sse_starlette.sse").isEnabledFor(logging.INFO)
        assert not logging.getLogger("mcp.server.streamable_http").isEnabledFor(logging.INFO)
    finally:
        ours.setLevel(before)
