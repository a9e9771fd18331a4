"""``orderdesk-mcp serve``: the MCP server over stdio or streamable HTTP."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp

from orderdesk_mcp.entrypoints.container import Container, open_services
from orderdesk_mcp.entrypoints.mcp_server import build_server
from orderdesk_mcp.entrypoints.services import AppServices
from orderdesk_mcp.entrypoints.settings import SIMULATOR_STORE_ID, Settings, SettingsError

__all__ = ["create_server", "serve"]

log = logging.getLogger(__name__)


def create_server(container: Container) -> MCPServer[AppServices]:
    """The MCP server wired to ``container``; its lifespan opens the adapters."""
    settings: Settings = container.settings()

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppServices]) -> AsyncIterator[AppServices]:
        async with open_services(container) as services:
            yield services

    return build_server(lifespan, read_only=settings.read_only)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class StaticTokenAuthenticator:
    """Single-tenant bearer check for ``ORDERDESK_HTTP_TOKEN`` (constant-time compare)."""

    def __init__(self, token: str, tenant: str = "default") -> None:
        self._token = token.encode()
        self._tenant = tenant

    async def authenticate(self, token: str) -> str | None:
        return self._tenant if hmac.compare_digest(token.encode(), self._token) else None


def _announce(settings: Settings) -> None:
    if settings.gateway == "simulator":
        sys.stderr.write(
            f"orderdesk-mcp: no OrderDesk credentials set; serving the built-in simulator "
            f"(store {SIMULATOR_STORE_ID}, {settings.simulator_orders} sample orders)\n"
        )
    if settings.read_only:
        sys.stderr.write(
            "orderdesk-mcp: read-only mode: orders_create, orders_update and orders_delete are disabled\n"
        )


def serve(settings: Settings, *, transport: str, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run until interrupted. Raises: SettingsError for an unsafe HTTP set-up."""
    container = Container(settings=settings)
    server = create_server(container)
    _announce(settings)
    if transport == "stdio":
        anyio.run(server.run_stdio_async)
        return
    anyio.run(_serve_http, server, container, settings, host, port)


async def _serve_http(
    server: MCPServer[AppServices], container: Container, settings: Settings, host: str, port: int
) -> None:
    import uvicorn

    from orderdesk_mcp.entrypoints.http_auth import BearerAuthMiddleware

    app = server.streamable_http_app(host=host)
    asgi: ASGIApp
    if settings.credentials == "sqlite":
        asgi = BearerAuthMiddleware(app, credentials=container.credentials())
    elif settings.http_token:
        asgi = BearerAuthMiddleware(app, credentials=StaticTokenAuthenticator(settings.http_token))
    elif _is_loopback(host):
        asgi = app
    else:
        raise SettingsError(
            f"refusing to serve without authentication on {host}; set ORDERDESK_HTTP_TOKEN or add tenants "
            "(orderdesk-mcp tenants add NAME), or bind to 127.0.0.1"
        )
    sys.stderr.write(f"orderdesk-mcp: MCP over streamable HTTP at http://{host}:{port}/mcp\n")
    config = uvicorn.Config(asgi, host=host, port=port, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve()
