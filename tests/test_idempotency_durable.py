"""One idempotency key makes one order: across a server restart and from two processes at once.

Without Redis the records live in the data directory (SQLite), so both hold with the cache
in memory, which is where the adversarial pass made two orders from one key.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from orderdesk_mcp.adapters.simulator import SimulatorState
from tests.mcp_harness import STORE, make_container, mcp_client
from tests.upstream_harness import API_KEY, STORE_ID, served_simulator

pytestmark = pytest.mark.anyio

CLI = str(Path(sys.executable).with_name("orderdesk-mcp"))
NEW_ORDER: dict[str, Any] = {
    "email": "ada@example.com",
    "shipping": {"first_name": "Ada", "last_name": "Lovelace"},
    "order_items": [{"name": "Mug", "code": "MUG-1", "price": 9.5, "quantity": 1}],
}


def _state(store_id: str, api_key: str) -> SimulatorState:
    state = SimulatorState()
    state.faults.rate_limit_enabled = False
    state.add_store(store_id, api_key)
    return state


async def test_one_idempotency_key_makes_one_order_after_a_server_restart(tmp_path: Path) -> None:
    state = _state(STORE_ID, API_KEY)
    results = []
    async with served_simulator(state) as base_url:  # OrderDesk outlives our server
        for _ in range(2):  # two lifespans on one data directory: a restart
            container = make_container(
                tmp_path,
                gateway="http",
                credentials="env",
                store_id=STORE_ID,
                api_key=API_KEY,
                base_url=base_url,
            )
            async with mcp_client(container) as client:
                results.append(
                    await client.call_tool(
                        "orders_create", {"order": NEW_ORDER, "idempotency_key": "restart-1"}
                    )
                )
    first, second = (r.structured_content for r in results)
    assert first is not None
    assert second is not None
    assert (first["created"], second["created"]) == (True, False)
    assert second["order"]["id"] == first["order"]["id"]
    assert len(state.orders(STORE_ID)) == 1


async def test_on_the_built_in_simulator_a_key_does_not_outlive_its_orders(tmp_path: Path) -> None:
    # The simulator's orders live as long as the process; a key kept across a restart replayed an
    # order the new simulator never had ("orders_get" then said it was not found).
    results = []
    for _ in range(2):  # two lifespans on one data directory, each with its own simulator
        async with mcp_client(make_container(tmp_path, state=_state(STORE, "simulator-api-key"))) as client:
            created = await client.call_tool(
                "orders_create", {"order": NEW_ORDER, "idempotency_key": "sim-1"}
            )
            assert created.structured_content is not None, created.content
            got = await client.call_tool(
                "orders_get", {"order_id": created.structured_content["order"]["id"]}
            )
            results.append((created.structured_content["created"], got.is_error))
    assert results == [(True, False), (True, False)]


async def test_one_idempotency_key_makes_one_order_from_two_processes_at_once(tmp_path: Path) -> None:
    state = _state(STORE_ID, API_KEY)
    state.faults.slow_next(2, 0.5)  # the first create is still in flight when the second arrives
    async with served_simulator(state) as base_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERDESK_")}
        env |= {
            "ORDERDESK_DATA_DIR": str(tmp_path),
            "ORDERDESK_BASE_URL": base_url,
            "ORDERDESK_STORE_ID": STORE_ID,
            "ORDERDESK_API_KEY": API_KEY,
        }
        created: list[dict[str, Any]] = []

        async def create_in_own_process() -> None:
            params = StdioServerParameters(command=CLI, args=["serve"], env=env)
            async with Client(params) as client:
                result = await client.call_tool(
                    "orders_create", {"order": NEW_ORDER, "idempotency_key": "two-processes"}
                )
            assert result.structured_content is not None, result.content
            created.append(result.structured_content)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(create_in_own_process)
                tg.start_soon(create_in_own_process)
    assert sorted(r["created"] for r in created) == [False, True]
    assert created[0]["order"]["id"] == created[1]["order"]["id"]
    assert len(state.orders(STORE_ID)) == 1
    assert sum(1 for r in state.requests if r.method == "POST") == 1
