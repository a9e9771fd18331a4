"""Start-up: spawn to the answer of the first ``tools/list`` over stdio, ours against a no-op server.

Both are spawned the way an MCP client does (``Client(StdioServerParameters(...))``), both run
on the same Python and SDK, and the clock stops when ``tools/list`` has answered (the process
exit is not counted). Ours is configured as in production: the HTTP gateway (pointed at the
benchmark's simulator) and the in-memory cache, so it needs no redis or simulator modules.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

from bench._upstream import child_env

__all__ = ["STARTUP_MAX_RATIO", "measure_startup"]

STARTUP_MAX_RATIO = 1.15
CLI = str(Path(sys.executable).with_name("orderdesk-mcp"))


async def _once(params: StdioServerParameters) -> tuple[float, int]:
    started = time.perf_counter()
    async with Client(params) as client:
        tools = await client.list_tools()
        elapsed = time.perf_counter() - started
    return elapsed, len(tools.tools)


async def measure_startup(*, base_url: str, data_dir: Path, runs: int) -> dict[str, Any]:
    """Median spawn-to-``tools/list`` of each server over ``runs`` alternating spawns."""
    servers = {
        "no-op server": StdioServerParameters(
            command=sys.executable, args=["-m", "bench._noop_server"], env=dict(os.environ), cwd=os.getcwd()
        ),
        "orderdesk-mcp": StdioServerParameters(
            command=CLI, args=["serve"], env=child_env(base_url, data_dir)
        ),
    }
    seconds: dict[str, list[float]] = {name: [] for name in servers}
    tools: dict[str, int] = {}
    for _ in range(runs):  # alternate, so machine load falls on both alike
        for name, params in servers.items():
            elapsed, tools[name] = await _once(params)
            seconds[name].append(elapsed)
    medians = {name: statistics.median(values) * 1000 for name, values in seconds.items()}
    return {
        "runs": runs,
        "median_ms": medians,
        "tools": tools,
        "ratio": medians["orderdesk-mcp"] / medians["no-op server"],
    }
