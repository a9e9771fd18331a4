"""The real server over stdio (a child process), for the stdio latency figures."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from bench._transports import Served
from bench._upstream import child_env
from orderdesk_mcp.domain.cache_stats import CacheStats

__all__ = ["STDIO_OVERHEAD_MAX_MS", "serve_stdio", "stdio_session"]

# Uncached orders_get over stdio: p50 beyond the upstream's latency (and its own work) plus the
# no-op floor over the same pipe.
STDIO_OVERHEAD_MAX_MS = 2.0


@asynccontextmanager
async def stdio_session(params: StdioServerParameters, log_path: Path) -> AsyncIterator[Client]:
    """A client of the server ``params`` spawns; its stderr (its log, a line per tool call, as
    ``orderdesk-mcp serve`` writes) goes to ``log_path``, as MCP clients keep it."""
    with log_path.open("w") as log:
        async with Client(stdio_client(params, errlog=log)) as client:
            yield client


@asynccontextmanager
async def serve_stdio(*, base_url: str, data_dir: Path) -> AsyncIterator[Served]:
    """One stdio session to a fresh child server (its cache counters stay in the child)."""
    env = child_env(base_url, data_dir, ORDERDESK_RATE_BURST="1000000", ORDERDESK_RATE_PER_SECOND="1000000")
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "bench._stdio_server"], env=env, cwd=os.getcwd()
    )
    async with stdio_session(params, data_dir / "stdio-server.log") as shared:

        @asynccontextmanager
        async def reuse() -> AsyncIterator[Client]:
            yield shared

        def connect() -> AbstractAsyncContextManager[Client]:
            return reuse()

        yield Served("stdio", connect, CacheStats())
