"""Start-up: spawn to the answer of the first ``tools/list`` over stdio, ours against a no-op server.

Both are spawned the way an MCP client does (``Client(StdioServerParameters(...))``), both run
on the same Python and SDK, and the clock stops when ``tools/list`` has answered (the process
exit is not counted). Ours is configured as in production: the HTTP gateway (pointed at the
benchmark's simulator) and the in-memory cache, so it needs no redis or simulator modules.

Both run from bytecode, as an installed package does: pip and uv compile a package's modules when
they install it, and the SDK's were. A checkout installed editable has none until Python writes
them, and with ``PYTHONDONTWRITEBYTECODE`` set (as on the benchmark VM, and in many container
images) it never does: every start then compiled our ~120 modules again, about 100 ms of a 0.9-1.0 s
start that no installed server pays. :func:`compile_servers` writes the bytecode first
(``__pycache__`` is ignored by git), for our package and the no-op server alike.
"""

from __future__ import annotations

import compileall
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

import bench._noop_server
import orderdesk_mcp
from bench._upstream import child_env

__all__ = ["STARTUP_MAX_RATIO", "compile_servers", "measure_startup"]

STARTUP_MAX_RATIO = 1.15
CLI = str(Path(sys.executable).with_name("orderdesk-mcp"))


async def _once(params: StdioServerParameters) -> tuple[float, int]:
    started = time.perf_counter()
    async with Client(params) as client:
        tools = await client.list_tools()
        elapsed = time.perf_counter() - started
    return elapsed, len(tools.tools)


def compile_servers() -> None:
    """Write the bytecode of our package and of the no-op server, as installing them would."""
    for package_dir in orderdesk_mcp.__path__:
        if not compileall.compile_dir(package_dir, quiet=1):
            raise RuntimeError(f"could not compile {package_dir}")
    if not compileall.compile_file(bench._noop_server.__file__, quiet=1):
        raise RuntimeError(f"could not compile {bench._noop_server.__file__}")


async def measure_startup(*, base_url: str, data_dir: Path, runs: int) -> dict[str, Any]:
    """Median spawn-to-``tools/list`` of each server over ``runs`` alternating spawns, from bytecode."""
    compile_servers()
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
        "bytecode": "compiled first, as an install does",
        "median_ms": medians,
        "tools": tools,
        "ratio": medians["orderdesk-mcp"] / medians["no-op server"],
    }
