"""Regression: concurrent updates of one order through this service never lose each other.

Before the write lock, two MCP clients updating different fields of one order lost about half
of their updates (both re-reads ran before either PUT, and the second PUT carried the first
one's stale document). Here the real ``orderdesk-mcp serve`` command talks over the real HTTP
gateway to the simulator on loopback, with 5 ms upstream latency so the requests interleave:
once as one server with two MCP sessions, once as two stdio processes sharing one Redis.
Every update sets its own ``order_metadata`` key, so a lost update shows as a missing key, and
the simulator's request log shows each update cost exactly one GET and one PUT.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from orderdesk_mcp.adapters.simulator import SimulatorState, default_state
from tests.upstream_harness import API_KEY, STORE_ID, served_simulator

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CLI = str(Path(sys.executable).with_name("orderdesk-mcp"))
ORDER = "500001"
ROUNDS = 20
UPDATE = "orders_update"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path, base_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERDESK_")}
    data_dir.mkdir(parents=True, exist_ok=True)
    env |= {
        "ORDERDESK_DATA_DIR": str(data_dir),
        "ORDERDESK_GATEWAY": "http",
        "ORDERDESK_CREDENTIALS": "env",
        "ORDERDESK_STORE_ID": STORE_ID,
        "ORDERDESK_API_KEY": API_KEY,
        "ORDERDESK_BASE_URL": base_url,
        "ORDERDESK_RATE_BURST": "1000",
        "ORDERDESK_RATE_PER_SECOND": "1000",
    }
    return env | extra


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[SimulatorState, str]]:
    state = default_state(store_id=STORE_ID, api_key=API_KEY, sample_count=3)
    state.faults.rate_limit_enabled = False
    state.faults.latency = 0.005
    async with served_simulator(state) as base_url:
        yield state, base_url


@pytest.fixture
def http_server(tmp_path: Path, upstream: tuple[SimulatorState, str]) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [CLI, "serve", "--transport", "http", "--port", str(port)],
        env=_env(tmp_path / "one", upstream[1]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


async def _updates(client: Client, writer: str) -> list[int]:
    attempts: list[int] = []

    async def one(n: int) -> None:
        result = await client.call_tool(
            UPDATE, {"order_id": ORDER, "changes": {"order_metadata": {f"{writer}-{n}": n}}}
        )
        assert not result.is_error, result.content
        assert result.structured_content is not None
        attempts.append(result.structured_content["attempts"])

    async with anyio.create_task_group() as tasks:
        for n in range(ROUNDS):
            tasks.start_soon(one, n)
    return attempts


def _assert_nothing_lost(state: SimulatorState, writers: list[str]) -> None:
    metadata = state.orders(STORE_ID)[ORDER].get("order_metadata") or {}
    missing = [f"{w}-{n}" for w in writers for n in range(ROUNDS) if f"{w}-{n}" not in metadata]
    assert missing == [], f"{len(missing)} of {len(writers) * ROUNDS} updates were lost"
    on_order = [r.method for r in state.requests if r.path.endswith(f"/orders/{ORDER}")]
    updates = len(writers) * ROUNDS
    assert (on_order.count("GET"), on_order.count("PUT")) == (updates, updates)  # one GET, one PUT each


async def test_two_sessions_of_one_server_updating_one_order_lose_nothing(
    upstream: tuple[SimulatorState, str], http_server: str
) -> None:
    state, _ = upstream
    with anyio.fail_after(60):
        async with Client(http_server) as first, Client(http_server) as second:
            results: dict[str, list[int]] = {}

            async def run(name: str, client: Client) -> None:
                results[name] = await _updates(client, name)

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(run, "a", first)
                tasks.start_soon(run, "b", second)
    assert results["a"] == [1] * ROUNDS
    assert results["b"] == [1] * ROUNDS
    _assert_nothing_lost(state, ["a", "b"])


async def test_two_processes_sharing_redis_updating_one_order_lose_nothing(
    tmp_path: Path, upstream: tuple[SimulatorState, str], redis_url: str, redis_prefix: str
) -> None:
    state, base_url = upstream
    extra = {"ORDERDESK_CACHE_URL": redis_url, "ORDERDESK_CACHE_PREFIX": redis_prefix}
    params = [
        StdioServerParameters(command=CLI, args=["serve"], env=_env(tmp_path / name, base_url, **extra))
        for name in ("p1", "p2")
    ]
    with anyio.fail_after(60):
        async with Client(params[0]) as first, Client(params[1]) as second:

            async def run(name: str, client: Client) -> None:
                await _updates(client, name)

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(run, "p1", first)
                tasks.start_soon(run, "p2", second)
    _assert_nothing_lost(state, ["p1", "p2"])
