"""Bearer-token authentication for the Streamable HTTP transport, and the tenant it binds.

:class:`BearerAuthMiddleware` wraps the MCP Starlette app as pure ASGI. Every HTTP request
needs ``Authorization: Bearer <token>``; the token is checked by the credential store (a
constant-time comparison against stored hashes). A missing, malformed, wrong or revoked token
gets the same 401, so the answer never hints at which tenants exist. A token in the query
string (``?token=`` / ``?access_token=``) is refused even when the header is right: URLs end
up in proxy and server logs. Lifespan events pass through untouched.

How a tool handler learns the tenant (checked against mcp 2.3, legacy and modern protocol
versions, including a token switched mid-session): on success the middleware stores the
tenant in ``scope["state"]["tenant"]``. The streamable HTTP transport builds a Starlette
``Request`` from that scope and hands it to the handler via
``ServerMessageMetadata.request_context``, so ``ctx.request_context.request.state.tenant`` is the
tenant of *this* POST. That is the supported path: :func:`tenant_of_request` reads it. The
middleware also sets a context variable; in mcp 2.3 it reaches handlers only because the
SDK's dispatcher replays each message's sender context (``mcp.shared._context_streams``), a
private detail, so it is a fallback, never the primary source. Binding per request (not per
``mcp-session-id``) means a session id is no capability: each POST is authorised by its own
token. Without a request (stdio, the in-memory client, unauthenticated loopback HTTP) the
default tenant is served.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from orderdesk_mcp.domain.tenancy import DEFAULT_TENANT

__all__ = [
    "BearerAuthMiddleware",
    "TokenAuthenticator",
    "current_tenant",
    "serving_tenant",
    "tenant_of_request",
]

log = logging.getLogger(__name__)

_MAX_TOKEN_CHARS = 512
_URL_TOKEN_PARAMS = frozenset({"token", "access_token", "bearer", "api_key", "apikey"})
_UNAUTHORIZED = {"error": "unauthorized", "message": "Missing or invalid bearer token"}
_TOKEN_IN_URL = {
    "error": "unauthorized",
    "message": "Tokens go in the Authorization header as 'Bearer <token>', never in the URL",
}
_UNAVAILABLE = {"error": "unavailable", "message": "Authentication is unavailable right now; try again"}

_tenant_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("orderdesk_tenant", default=None)


class TokenAuthenticator(Protocol):
    """What the middleware needs of a credential store."""

    async def authenticate(self, token: str) -> str | None: ...


def current_tenant() -> str | None:
    """The tenant of the HTTP request in progress in this task, if the middleware set one."""
    return _tenant_var.get()


@contextmanager
def serving_tenant(tenant: str) -> Iterator[None]:
    """Serve ``tenant`` to every call started inside this block that has no request of its own.

    Over stdio one process serves one tenant (``ORDERDESK_TENANT``/``--tenant``); set it around
    the whole server run, so every task the server starts inherits it.
    """
    reset = _tenant_var.set(tenant)
    try:
        yield
    finally:
        _tenant_var.reset(reset)


def tenant_of_request(request: object | None) -> str:
    """The tenant a tool call is bound to; pass ``ctx.request_context.request``.

    Reads ``request.state.tenant`` (set by :class:`BearerAuthMiddleware`), then the context
    variable, else :data:`~orderdesk_mcp.domain.tenancy.DEFAULT_TENANT`.
    """
    state = getattr(request, "state", None)
    tenant = getattr(state, "tenant", None) if state is not None else None
    if isinstance(tenant, str) and tenant:
        return tenant
    return current_tenant() or DEFAULT_TENANT


def _bearer_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    values = [v for k, v in headers if k.lower() == b"authorization"]
    if len(values) != 1:
        return None
    scheme, _, token = values[0].decode("latin-1").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_CHARS or " " in token:
        return None
    return token


def _token_in_url(query_string: bytes) -> bool:
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return any(key.lower() in _URL_TOKEN_PARAMS for key, _ in pairs)


class BearerAuthMiddleware:
    """Pure-ASGI bearer authentication binding each request to its tenant.

    Args:
        app: the ASGI app to protect (the MCP server's Streamable HTTP app).
        credentials: anything with ``authenticate(token) -> tenant | None`` (a CredentialStore).
    """

    def __init__(self, app: ASGIApp, *, credentials: TokenAuthenticator) -> None:
        self.app = app
        self._credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if _token_in_url(scope.get("query_string", b"")):
            await _refuse(scope, send, 401, _TOKEN_IN_URL, 'Bearer error="invalid_request"')
            return
        token = _bearer_token(scope.get("headers", []))
        try:
            tenant = await self._credentials.authenticate(token) if token is not None else None
        except Exception:
            log.exception("bearer token check failed")  # the token itself is never logged
            await _refuse(scope, send, 503, _UNAVAILABLE, None)
            return
        if tenant is None:
            await _refuse(scope, send, 401, _UNAUTHORIZED, "Bearer")
            return
        state: dict[str, Any] = dict(scope.get("state") or {})
        state["tenant"] = tenant
        reset = _tenant_var.set(tenant)
        try:
            await self.app({**scope, "state": state}, receive, send)
        finally:
            _tenant_var.reset(reset)


async def _refuse(
    scope: Scope, send: Send, status: int, body: Mapping[str, str], challenge: str | None
) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if challenge is not None:
        headers.append((b"www-authenticate", challenge.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
