"""Result sizes an agent reads, and a cached default ``orders_list`` over stdio against the floor.

Characters are those of each result's text block (compact JSON of its structured content).
The stdio server is a child process (``python -m bench._sizes BASE_URL DATA_DIR``) built like
the others, with the benchmark's no-op tool, talking to the simulator over loopback HTTP.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import msgspec
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult

from bench._stats import summary
from bench._stdio import stdio_session
from bench._transports import NOOP, _server, _settings
from bench._upstream import Upstream
from orderdesk_mcp.entrypoints.container import Container
from orderdesk_mcp.entrypoints.logging_setup import setup_logging

__all__ = ["measure_sizes"]

_ROOT = str(Path(__file__).resolve().parent.parent)  # where ``python -m bench._sizes`` resolves


def _text(result: CallToolResult, what: str) -> str:
    if result.is_error:
        raise RuntimeError(f"{what} failed during the benchmark: {result.content}")
    return "".join(getattr(block, "text", "") for block in result.content)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def _timed(client: Client, tool: str, args: dict[str, Any], times: int) -> list[float]:
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        result = await client.call_tool(tool, args)
        seconds.append(time.perf_counter() - started)
        _text(result, tool)
    return seconds


async def measure_sizes(upstream: Upstream, order_id: str, data_dir: Path, calls: int) -> dict[str, Any]:
    """Characters of a default list, the full view of the same page, and a get; stdio p50s of the
    floor and of a cached default list."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "bench._sizes", upstream.base_url, str(data_dir / "stdio")],
        cwd=_ROOT,
    )
    # The full view of the same 50 orders, uncut: measured in-process with no budget to speak of.
    unbudgeted = msgspec.structs.replace(_settings(upstream.base_url, data_dir), max_result_chars=10**9)
    async with Client(_server(Container(settings=unbudgeted)), raise_exceptions=True) as client:
        full = _text(await client.call_tool("orders_list", {"view": "full", "limit": 50}), "full orders_list")
    async with stdio_session(params, data_dir / "sizes-server.log") as client:
        default = _text(await client.call_tool("orders_list", {}), "default orders_list")
        got = _text(await client.call_tool("orders_get", {"order_id": order_id}), "orders_get")
        await _timed(client, NOOP, {}, 20)
        # Taking turns, call by call, so drift in the machine's speed falls on both alike.
        floor_seconds: list[float] = []
        list_seconds: list[float] = []
        for _ in range(calls):
            floor_seconds += await _timed(client, NOOP, {}, 1)
            list_seconds += await _timed(client, "orders_list", {}, 1)
            await _timed(client, NOOP, {}, 1)  # not counted: takes the list's tail (bench._latency)
        floor, cached = summary(floor_seconds), summary(list_seconds)
    order_chars = len(_compact(upstream.state.orders("100001")[order_id]))
    listed = json.loads(default)
    return {
        "default_list_chars": len(default),
        "default_list_orders": len(listed["orders"]),
        "default_list_truncated": listed["truncated"],
        "full_list_chars": len(full),
        "get_chars": len(got),
        "order_compact_chars": order_chars,
        "stdio_floor_p50_ms": floor["p50_ms"],
        "stdio_cached_default_list_p50_ms": cached["p50_ms"],
        "stdio_cached_default_list_ratio": cached["p50_ms"] / floor["p50_ms"],
        "n": calls,
    }


def _child(base_url: str, data_dir: str) -> None:
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    settings = _settings(base_url, Path(data_dir))
    setup_logging(settings)  # as ``orderdesk-mcp serve`` does
    server = _server(Container(settings=settings))
    anyio.run(server.run_stdio_async)


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
