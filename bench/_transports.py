"""The real server, wired to the simulator through the HTTP gateway, on two transports.

Each transport gets its own container (so its own cache and HTTP session) and the
benchmark-only ``bench.noop`` tool, the floor every figure is compared with.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Literal

import anyio
import uvicorn
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from typing_extensions import TypedDict

from orderdesk_mcp.domain.cache_stats import CacheStats
from orderdesk_mcp.entrypoints.container import Container, open_services
from orderdesk_mcp.entrypoints.mcp_server import build_server
from orderdesk_mcp.entrypoints.services import AppServices
from orderdesk_mcp.entrypoints.settings import SIMULATOR_API_KEY, SIMULATOR_STORE_ID, Settings

__all__ = ["NOOP", "Served", "TransportName", "serve_transport"]

NOOP = "bench.noop"
TransportName = Literal["in-process", "streamable-http", "stdio"]  # stdio: bench._stdio
ClientFactory = Callable[[], AbstractAsyncContextManager[Client]]


class NoopOut(TypedDict):
    ok: bool


def _register_noop(mcp: MCPServer[AppServices]) -> None:
    @mcp.tool(
        name=NOOP,
        description="Does nothing (benchmark floor).",
        structured_output=True,
        annotations=ToolAnnotations(read_only_hint=True),
    )
    async def noop() -> NoopOut:
        return {"ok": True}


class Served:
    """A running server: how to open a client to it, and its cache counters."""

    def __init__(self, name: TransportName, connect: ClientFactory, stats: CacheStats) -> None:
        self.name = name
        self.connect = connect
        self.stats = stats

    def hits_and_misses(self) -> tuple[int, int]:
        counts = self.stats.snapshot().values()
        return sum(c["hits"] for c in counts), sum(c["misses"] for c in counts)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _settings(base_url: str, data_dir: Path) -> Settings:
    return Settings(
        gateway="http",
        credentials="env",
        store_id=SIMULATOR_STORE_ID,
        api_key=SIMULATOR_API_KEY,
        base_url=base_url,
        rate_burst=1_000_000,
        rate_per_second=1_000_000.0,
        data_dir=str(data_dir),
    )


def _server(container: Container) -> MCPServer[AppServices]:  # also the stdio children's
    @asynccontextmanager
    async def lifespan(_: MCPServer[AppServices]) -> AsyncIterator[AppServices]:
        async with open_services(container) as services:
            yield services

    return build_server(lifespan, read_only=False, extra=_register_noop)


@asynccontextmanager
async def serve_transport(name: TransportName, *, base_url: str, data_dir: Path) -> AsyncIterator[Served]:
    """Run a fresh server for ``name`` until the block ends."""
    container = Container(settings=_settings(base_url, data_dir))
    server = _server(container)
    if name == "in-process":
        # One in-process session (the lifespan runs per in-memory connection, so
        # "concurrent clients" share this one session's connection).
        async with Client(server, raise_exceptions=True) as shared:

            @asynccontextmanager
            async def reuse() -> AsyncIterator[Client]:
                yield shared

            yield Served(name, reuse, container.stats())
        return
    port = _free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    app = server.streamable_http_app(host="127.0.0.1")
    # Bind by host and port, as ``serve`` does: handing uvicorn a pre-bound socket instead
    # costs ~40 ms per request on a reused connection (Nagle meets delayed ACK).
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", access_log=False
    )
    uv = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(uv.serve)
        with anyio.fail_after(10):
            while not uv.started:  # noqa: ASYNC110 - uvicorn offers no start event to wait on
                await anyio.sleep(0.01)

        def connect() -> AbstractAsyncContextManager[Client]:
            return Client(url)

        try:
            yield Served(name, connect, container.stats())
        finally:
            uv.should_exit = True
