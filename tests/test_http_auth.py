"""Bearer authentication middleware: no, wrong, revoked and right tokens; tokens in URLs refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import Context, MCPServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.adapters.sqlite_credentials import SqliteCredentialStore
from orderdesk_mcp.entrypoints.http_auth import BearerAuthMiddleware, current_tenant, tenant_of_request

BASE = "http://127.0.0.1:8000"  # the SDK's DNS-rebinding guard accepts loopback hosts
UNAUTHORIZED = {"error": "unauthorized", "message": "Missing or invalid bearer token"}


async def _whoami(request: Request) -> JSONResponse:
    return JSONResponse(
        {"state": request.state.tenant, "helper": tenant_of_request(request), "var": current_tenant()}
    )


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


async def call(app: Any, *, headers: list[tuple[str, str]] | None = None, query: str = "") -> Reply:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mcp",
        "raw_path": b"/mcp",
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers or []],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Reply(start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteCredentialStore]:
    async with SqliteCredentialStore(path=tmp_path / "c.sqlite3", keyring=Keyring({1: b"k" * 32})) as opened:
        yield opened


def _app(store: SqliteCredentialStore) -> BearerAuthMiddleware:
    return BearerAuthMiddleware(
        Starlette(routes=[Route("/mcp", _whoami, methods=["POST"])]), credentials=store
    )


@pytest.mark.anyio
async def test_the_right_token_reaches_the_app_bound_to_its_tenant(store: SqliteCredentialStore) -> None:
    token = store.add_tenant("acme")
    reply = await call(_app(store), headers=[("Authorization", f"Bearer {token}")])
    assert reply.status == 200
    assert reply.json() == {"state": "acme", "helper": "acme", "var": "acme"}
    assert current_tenant() is None  # reset after the request


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("Authorization", "Bearer not-a-token")],
        [("Authorization", "Bearer ")],
        [("Authorization", "Basic dXNlcjpwYXNz")],
        [("Authorization", "not-a-token")],
    ],
)
async def test_missing_or_wrong_tokens_get_one_uninformative_401(
    store: SqliteCredentialStore, headers: list[tuple[str, str]]
) -> None:
    store.add_tenant("acme")
    reply = await call(_app(store), headers=headers)
    assert reply.status == 401
    assert reply.json() == UNAUTHORIZED
    assert reply.headers["www-authenticate"] == "Bearer"
    assert "acme" not in reply.body.decode()


@pytest.mark.anyio
async def test_a_revoked_token_reads_exactly_like_a_wrong_one(store: SqliteCredentialStore) -> None:
    token = store.add_tenant("acme")
    store.revoke_tenant("acme")
    revoked = await call(_app(store), headers=[("Authorization", f"Bearer {token}")])
    wrong = await call(_app(store), headers=[("Authorization", "Bearer nope")])
    assert (revoked.status, revoked.body, revoked.headers) == (wrong.status, wrong.body, wrong.headers)
    assert revoked.json() == UNAUTHORIZED


@pytest.mark.anyio
async def test_two_authorization_headers_are_refused(store: SqliteCredentialStore) -> None:
    token = store.add_tenant("acme")
    header = ("Authorization", f"Bearer {token}")
    reply = await call(_app(store), headers=[header, header])
    assert (reply.status, reply.json()) == (401, UNAUTHORIZED)


@pytest.mark.anyio
@pytest.mark.parametrize("param", ["token", "access_token", "Access_Token"])
async def test_a_token_in_the_query_string_is_refused_even_with_a_right_header(
    store: SqliteCredentialStore, param: str
) -> None:
    token = store.add_tenant("acme")
    reply = await call(_app(store), headers=[("Authorization", f"Bearer {token}")], query=f"{param}={token}")
    assert reply.status == 401
    assert reply.json() == {
        "error": "unauthorized",
        "message": "Tokens go in the Authorization header as 'Bearer <token>', never in the URL",
    }
    assert reply.headers["www-authenticate"] == 'Bearer error="invalid_request"'
    assert token not in reply.body.decode()


class BrokenAuthenticator:
    async def authenticate(self, token: str) -> str | None:
        raise OSError("database is locked")


@pytest.mark.anyio
async def test_a_failing_credential_store_gives_503_and_logs_no_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = BearerAuthMiddleware(
        Starlette(routes=[Route("/mcp", _whoami, methods=["POST"])]), credentials=BrokenAuthenticator()
    )
    reply = await call(app, headers=[("Authorization", "Bearer secret-token-123")])
    assert reply.status == 503
    assert reply.json() == {
        "error": "unavailable",
        "message": "Authentication is unavailable right now; try again",
    }
    assert "bearer token check failed" in caplog.text
    assert "secret-token-123" not in caplog.text


@pytest.mark.anyio
async def test_lifespan_events_pass_through_untouched(store: SqliteCredentialStore) -> None:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    await BearerAuthMiddleware(inner, credentials=store)({"type": "lifespan"}, _never, _never)
    assert seen == ["lifespan"]


async def _never(*_: Any) -> Any:
    raise AssertionError("not expected")


def test_without_a_request_the_default_tenant_is_served() -> None:
    assert tenant_of_request(None) == "default"
    assert tenant_of_request(object()) == "default"


class TwoTenants:
    async def authenticate(self, token: str) -> str | None:
        return {"token-a": "alpha", "token-b": "beta"}.get(token)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_real_mcp_tool_handler_sees_the_tenant_of_each_request(
    mode: Literal["legacy", "auto"],
) -> None:
    server = MCPServer("whoami")

    @server.tool(name="whoami")
    async def whoami(ctx: Context) -> str:
        return tenant_of_request(ctx.request_context.request)

    app = server.streamable_http_app()
    wrapped = BearerAuthMiddleware(app, credentials=TwoTenants())
    transport = httpx2.ASGITransport(app=wrapped)
    seen = []
    with anyio.fail_after(5):
        async with (
            app.router.lifespan_context(app),
            httpx2.AsyncClient(
                transport=transport, base_url=BASE, headers={"Authorization": "Bearer token-a"}
            ) as http,
            Client(streamable_http_client(f"{BASE}/mcp", http_client=http), mode=mode) as client,
        ):
            seen.append((await client.call_tool("whoami", {})).structured_content)
            http.headers["Authorization"] = "Bearer token-b"  # same MCP session, another tenant's token
            seen.append((await client.call_tool("whoami", {})).structured_content)
    assert seen == [{"result": "alpha"}, {"result": "beta"}]
