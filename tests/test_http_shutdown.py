"""A replica stopped mid-call (SIGTERM, as in a rolling deploy) finishes the calls in flight.

Answered over SSE, a handshake-era client's call was cut off when the process got SIGTERM: the
SSE library closes every open stream at once, so the client read an empty 200 while the write
went on (or was cancelled half-way). Answers are JSON now, and uvicorn's graceful shutdown waits.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import aiohttp
import anyio
import pytest

from orderdesk_mcp.adapters.simulator import SimulatorState
from tests.server_process import clean_env, http_server
from tests.upstream_harness import API_KEY, STORE_ID, served_simulator

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CALL = {
    "jsonrpc": "2.0", "id": 2, "method": "tools/call",
    "params": {"name": "orders_update",
               "arguments": {"order_id": "500001", "changes": {"email": "after.shutdown@example.com"}}},
}  # fmt: skip
HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",  # a handshake-era client, as mcp-remote and most clients are
}


async def test_a_call_in_flight_when_the_server_is_stopped_gets_its_whole_answer(tmp_path: Path) -> None:
    state = SimulatorState()
    state.add_store(STORE_ID, API_KEY)
    state.seed_samples(STORE_ID, 3)
    state.faults.latency = 0.4  # each of the update's GET and PUT
    async with served_simulator(state) as upstream:
        env = clean_env(
            tmp_path, ORDERDESK_BASE_URL=upstream, ORDERDESK_STORE_ID=STORE_ID, ORDERDESK_API_KEY=API_KEY
        )
        with http_server(env) as server, anyio.fail_after(30):
            async with aiohttp.ClientSession() as session:

                async def stop_mid_call() -> None:
                    await anyio.sleep(0.3)  # the GET is in flight
                    server.proc.send_signal(signal.SIGTERM)

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(stop_mid_call)
                    async with session.post(server.mcp_url, json=CALL, headers=HEADERS) as answer:
                        status, kind, body = answer.status, answer.content_type, await answer.text()
    assert status == 200
    messages = [body] if kind == "application/json" else [
        line.removeprefix("data:").strip() for line in body.splitlines() if line.startswith("data:")
    ]  # fmt: skip
    assert messages, f"the answer was cut off: {kind} {body!r}"
    result = json.loads(messages[-1])["result"]
    assert result["isError"] is False
    assert result["structuredContent"]["order"]["email"] == "after.shutdown@example.com"
    assert state.orders(STORE_ID)["500001"]["email"] == "after.shutdown@example.com"
