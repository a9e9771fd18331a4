"""``python -m bench._stdio_server``: ``orderdesk-mcp serve`` over stdio plus the ``bench.noop`` floor.

Configured from the environment exactly as the real command is, logging included (a line per
tool call on stderr at the default level); only the no-op tool is added, so the stdio figures
compare our tools with a floor paid over the same pipe.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from mcp.server.mcpserver import MCPServer

from bench._transports import register_noop
from orderdesk_mcp.entrypoints.container import Container, open_services
from orderdesk_mcp.entrypoints.logging_setup import setup_logging
from orderdesk_mcp.entrypoints.mcp_server import build_server
from orderdesk_mcp.entrypoints.services import AppServices
from orderdesk_mcp.entrypoints.settings import load_settings


def main() -> None:
    settings = load_settings()
    setup_logging(settings)
    container = Container(settings=settings)

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppServices]) -> AsyncIterator[AppServices]:
        async with open_services(container) as services:
            yield services

    server = build_server(lifespan, read_only=False, extra=register_noop)
    anyio.run(server.run_stdio_async)


if __name__ == "__main__":
    main()
