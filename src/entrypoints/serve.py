"""``orderdesk-mcp serve``: the MCP server over stdio or streamable HTTP."""

from __future__ import annotations

import errno
import hashlib
import hmac
import ipaddress
import logging
import os
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING

import anyio
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings

    from orderdesk_mcp.entrypoints.http_app import ServiceRouter

from orderdesk_mcp.adapters.keyring import Keyring, KeyringError
from orderdesk_mcp.entrypoints.container import Container, open_services
from orderdesk_mcp.entrypoints.credential_choice import choose_credentials
from orderdesk_mcp.entrypoints.http_auth import TokenAuthenticator, serving_tenant
from orderdesk_mcp.entrypoints.logging_setup import announce
from orderdesk_mcp.entrypoints.mcp_server import build_server
from orderdesk_mcp.entrypoints.paths import data_dir_from
from orderdesk_mcp.entrypoints.services import AppServices
from orderdesk_mcp.entrypoints.settings import Settings, SettingsError

__all__ = ["PortInUse", "StaticTokenAuthenticator", "build_http_app", "create_server", "serve"]

log = logging.getLogger(__name__)


class PortInUse(SettingsError):
    """The HTTP port is taken; the message names it and how to choose another."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"port {port} on {host} is already in use (is another server running?); choose another with "
            f"--port {port + 1} or PORT={port + 1} make run"
        )


def create_server(container: Container) -> MCPServer[AppServices]:
    """The MCP server wired to ``container``; its lifespan opens the adapters."""
    settings: Settings = container.settings()

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppServices]) -> AsyncIterator[AppServices]:
        async with open_services(container) as services:
            yield services

    return build_server(lifespan, read_only=settings.read_only, request_state_key=request_state_key(settings))


def request_state_key(settings: Settings, env: Mapping[str, str] | None = None) -> bytes | None:
    """The key that seals a 2026-07-28 question's state, the same in every replica of a deployment.

    Derived (HMAC-SHA256, one way) from the secret the replicas already share: the store's API key,
    else the master keys (``ORDERDESK_MASTER_KEY`` or the shared data directory's key file, as
    decoded, so both give one key). None (the simulator, or no key yet) leaves the SDK's
    per-process key. The state only carries the person's
    answer, which an agent could skip with ``confirm: true`` anyway; sealing it keeps it bound to
    its call and fresh.
    """
    label = b"orderdesk-mcp request state v1"
    if settings.api_key:
        return hmac.new(settings.api_key.encode(), label, hashlib.sha256).digest()
    try:  # the master keys as decoded: the same from ORDERDESK_MASTER_KEY or master.key, however written
        keyring = Keyring.load(data_dir_from(settings.data_dir or None), env)
    except KeyringError:
        return None
    return keyring.derived(label)


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


def serve(
    settings: Settings,
    *,
    transport: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    tenant: str | None = None,
) -> None:
    """Run until interrupted.

    Raises:
        SettingsError: an unsafe HTTP set-up, a tenant that cannot be chosen, or the port in use.
    """
    if transport == "http" and not 0 <= port <= 65535:  # getaddrinfo would wrap 70000 to 4464
        raise SettingsError(
            f"the port must be a number from 0 to 65535 (--port or ORDERDESK_PORT), got {port}"
        )
    choice = choose_credentials(
        settings, mode="http" if transport == "http" else "stdio", tenant=tenant, env=os.environ
    )
    container = Container(settings=settings)
    server = create_server(container)
    if transport == "stdio":
        _announce(choice.line, settings)
        with serving_tenant(choice.tenant):  # stdio serves one tenant; no request carries a token
            anyio.run(server.run_stdio_async)
        return
    if host.startswith("[") and host.endswith("]"):  # "[::1]", as URLs write it, is the address ::1
        host = host[1:-1]
    authenticator = _authenticator(container, settings, host)
    sock = _bind(host, port)  # before any line: a taken port is the only thing said
    _announce(choice.line, settings)
    anyio.run(_serve_http, server, container, authenticator, sock, host)


def _announce(credentials_line: str, settings: Settings) -> None:
    announce(credentials_line)
    if settings.read_only:
        announce("orderdesk-mcp: read-only mode: the tools that create, change or delete are disabled")


def _published_names(settings: Settings) -> list[str]:
    """The public names ``ORDERDESK_ALLOWED_HOSTS`` publishes this server under, lower-cased."""
    return [name.strip().lower() for name in settings.allowed_hosts.split(",") if name.strip()]


def _local_only(settings: Settings, host: str) -> bool:
    """Reachable from this machine only: bound to loopback, and no public name forwarded to it."""
    return _is_loopback(host) and not _published_names(settings)


def _authenticator(container: Container, settings: Settings, host: str) -> TokenAuthenticator | None:
    if settings.credentials == "sqlite":
        authenticator: TokenAuthenticator = container.credentials()
        return authenticator
    if settings.http_token:
        return StaticTokenAuthenticator(settings.http_token)
    if _local_only(settings, host):
        return None
    if _is_loopback(host):  # behind a reverse proxy that forwards the public names
        raise SettingsError(
            "refusing to serve without authentication: ORDERDESK_ALLOWED_HOSTS publishes this server as "
            f"{', '.join(_published_names(settings))}; set ORDERDESK_HTTP_TOKEN or add tenants "
            "(orderdesk-mcp tenants add NAME)"
        )
    raise SettingsError(
        f"refusing to serve without authentication on {host}; set ORDERDESK_HTTP_TOKEN or add tenants "
        "(orderdesk-mcp tenants add NAME), or bind to 127.0.0.1"
    )


def _bind(host: str, port: int) -> socket.socket:
    """A bound socket, so a taken port is one clear line before anything starts."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise SettingsError(f"cannot listen on {host!r}: the host name does not resolve") from exc
    # getaddrinfo's protocol (IPPROTO_TCP), not 0: asyncio sets TCP_NODELAY only on connections accepted
    # from a socket that says it is TCP; without it Nagle meets delayed ACK (~40 ms per request).
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(host, port) from None
        raise SettingsError(f"cannot listen on {host} port {port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def build_http_app(
    server: MCPServer[AppServices], container: Container, authenticator: TokenAuthenticator | None, host: str
) -> ServiceRouter:
    """MCP (stateless, behind bearer auth when configured) plus the health, readiness and metrics routes."""
    from orderdesk_mcp.entrypoints.http_app import ServiceRouter, readiness_probes

    settings = container.settings()
    local_only = _local_only(settings, host)
    security = _transport_security(_published_names(settings), host)
    # JSON answers, not SSE streams: nothing is sent to a client mid-call in stateless mode, and
    # sse-starlette closes every open stream at once on SIGTERM, cutting off calls still in flight.
    mcp_app: ASGIApp = server.streamable_http_app(
        host=host, stateless_http=True, json_response=True, transport_security=security
    )
    protect = None if authenticator is None else partial(_protected, authenticator=authenticator)
    return ServiceRouter(
        protect(mcp_app) if protect else mcp_app,
        telemetry=container.telemetry(),
        probes=lambda: readiness_probes(container.credentials(), container.redis_client()),
        protect_metrics=None if local_only else protect,
        local_hosts=_local_names(host) if local_only else None,
    )


_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def _url_host(host: str) -> str:
    """``host`` as a URL and a ``Host`` header write it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def _local_names(host: str) -> frozenset[str]:
    """The Host names a server reachable from this machine only answers: loopback and its address."""
    return frozenset([*_LOOPBACK_HOSTS, _url_host(host)])


def _transport_security(names: list[str], host: str) -> TransportSecuritySettings | None:
    """The SDK's DNS-rebinding check with ``ORDERDESK_ALLOWED_HOSTS`` added; None keeps its default.

    On a loopback address the SDK answers only Host headers naming loopback (421 otherwise),
    which shuts out a reverse proxy on the same machine that forwards the public name. The
    names listed are answered too, on any port, and browsers' Origin from them (http and https);
    so are loopback and the bound address, whatever the bind. Set, the check applies to every
    bind (the SDK checks nothing on other addresses). On a loopback address the SDK does not
    know (127.0.0.2, ...) it would check nothing either, and no token is needed there: the
    check is on for every loopback bind.
    """
    if not names and not _is_loopback(host):
        return None
    from mcp.server.transport_security import TransportSecuritySettings

    # Loopback names always (the URL the ready line prints), and the bound address itself.
    bound = [] if host in ("0.0.0.0", "::") else [_url_host(host)]
    hosts = list(dict.fromkeys([*_LOOPBACK_HOSTS, *bound, *names]))
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[form for name in hosts for form in (name, f"{name}:*")],
        allowed_origins=[f"{scheme}://{form}" for name in hosts for scheme in ("http", "https")
                         for form in (name, f"{name}:*")],
    )  # fmt: skip


def _protected(app: ASGIApp, *, authenticator: TokenAuthenticator) -> ASGIApp:
    from orderdesk_mcp.entrypoints.http_auth import BearerAuthMiddleware

    return BearerAuthMiddleware(app, credentials=authenticator)


def _shown_address(host: str, port: int) -> tuple[str, str | None]:
    """The host part of the URL to print, and a line to print before it: a wildcard address is
    where we listen, not an address a client can use, so this machine's loopback is shown."""
    if host in ("0.0.0.0", "::"):
        note = (
            f"orderdesk-mcp: listening on every interface ({host} port {port}); "
            "from another machine, use this machine's address"
        )
        return ("127.0.0.1" if host == "0.0.0.0" else "[::1]"), note
    return _url_host(host), None


async def _serve_http(
    server: MCPServer[AppServices],
    container: Container,
    authenticator: TokenAuthenticator | None,
    sock: socket.socket,
    host: str,
) -> None:
    import uvicorn

    port = int(sock.getsockname()[1])
    app = build_http_app(server, container, authenticator, host)
    shown, note = _shown_address(host, port)

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:  # the lifespan is up and the socket listens: now it is true
                if note:
                    announce(note)
                # What /readyz would answer now: a replica whose master key opens no stored key
                # listens, but is not ready, and its first line must not say otherwise.
                failing = await app.failing()
                state = f"listening, not ready: {', '.join(failing)}; see /readyz" if failing else "ready"
                announce(f"orderdesk-mcp: MCP over streamable HTTP at http://{shown}:{port}/mcp ({state})")

    # log_config=None: uvicorn's records go through our handler (text or JSON), not its own.
    config = uvicorn.Config(app, log_level="warning", log_config=None, lifespan="on", access_log=False)
    await _Server(config).serve(sockets=[sock])
