"""Serving over HTTP: health, readiness, metrics and their auth rule, the ready line, a taken port, --help."""

from __future__ import annotations

import asyncio
import socket
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import anyio
import msgspec
import pytest
from dependency_injector import providers
from mcp import Client
from starlette.types import ASGIApp, Message

from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.adapters.sqlite_credentials import SqliteCredentialStore
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.tenancy import StoreAccess
from orderdesk_mcp.entrypoints.container import Container
from orderdesk_mcp.entrypoints.serve import StaticTokenAuthenticator, build_http_app, create_server
from tests.conftest import RedisServer
from tests.mcp_harness import make_container
from tests.server_process import clean_env, http_server, run_cli

pytestmark = pytest.mark.anyio

TOKEN = "metrics-test-token-0123456789abcdef"
GET, LIST = "orders_get", "orders_list"  # the tool names on this branch


class Answer(msgspec.Struct):
    status_code: int
    headers: dict[str, str]
    text: str

    def json(self) -> object:
        return msgspec.json.decode(self.text)


class AsgiClient:
    """Calls the ASGI app in this process, the way uvicorn would (one request, whole body)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> Answer:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "server": ("192.0.2.10", 8000), "client": ("127.0.0.1", 40000),
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        }  # fmt: skip
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await self._app(scope, receive, send)
        start = sent[0]
        body = b"".join(m.get("body", b"") for m in sent[1:])
        found = {k.decode(): v.decode() for k, v in start["headers"]}
        return Answer(status_code=start["status"], headers=found, text=body.decode())

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return await self.request("GET", path, headers)

    async def post(self, path: str) -> Answer:
        return await self.request("POST", path)


@asynccontextmanager
async def _asgi(container: Container, *, host: str, token: str | None = None) -> AsyncIterator[AsgiClient]:
    authenticator = StaticTokenAuthenticator(token) if token else None
    yield AsgiClient(build_http_app(create_server(container), container, authenticator, host))


async def test_health_and_readiness_need_no_token_and_name_no_tenant_or_store(tmp_path: Path) -> None:
    container = make_container(tmp_path)
    async with _asgi(container, host="192.0.2.10", token=TOKEN) as http:
        health = await http.get("/healthz")
        ready = await http.get("/readyz")
        refused = await http.post("/mcp")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert "100001" not in health.text + ready.text
    assert "default" not in health.text + ready.text
    assert refused.status_code == 401  # while /mcp itself still needs the token


async def test_metrics_need_the_token_unless_bound_to_loopback(tmp_path: Path) -> None:
    container = make_container(tmp_path)
    async with _asgi(container, host="192.0.2.10", token=TOKEN) as http:
        anonymous = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer not-the-token-000000"})
        allowed = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert (anonymous.status_code, wrong.status_code, allowed.status_code) == (401, 401, 200)
    assert allowed.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE orderdesk_tool_calls_total counter" in allowed.text
    async with _asgi(make_container(tmp_path), host="127.0.0.1", token=TOKEN) as http:
        loopback = await http.get("/metrics")
    assert loopback.status_code == 200


async def test_open_metrics_answer_only_local_host_names(tmp_path: Path) -> None:
    # Regression: on a loopback bind /metrics is open and answered any Host, so a page that rebinds
    # its own name to 127.0.0.2 could read them (the MCP endpoint already answered 421).
    async with _asgi(make_container(tmp_path), host="127.0.0.2") as http:
        answers = [
            (await http.get("/metrics", headers={"Host": name})).status_code
            for name in ("127.0.0.2:8000", "localhost:8000", "127.0.0.1", "[::1]:8000", "evil.example:8000")
        ]
    assert answers == [200, 200, 200, 200, 421]


async def test_service_routes_answer_only_get(tmp_path: Path) -> None:
    async with _asgi(make_container(tmp_path), host="127.0.0.1") as http:
        answer = await http.post("/healthz")
    assert (answer.status_code, answer.json()) == (405, {"error": "method not allowed"})


async def test_readiness_follows_redis_down_and_back(tmp_path: Path, private_redis: RedisServer) -> None:
    container = make_container(tmp_path, cache_url=private_redis.url)
    try:
        async with _asgi(container, host="127.0.0.1") as http:
            before = await http.get("/readyz")
            private_redis.stop()
            down = await http.get("/readyz")
            private_redis.start()
            with anyio.fail_after(10):
                again = await http.get("/readyz")
                while again.status_code != 200:  # the client reconnects on its next command
                    await anyio.sleep(0.05)
                    again = await http.get("/readyz")
    finally:
        client = container.redis_client()
        assert client is not None
        await client.aclose()
    assert (before.status_code, before.json()) == (200, {"status": "ready"})
    assert (down.status_code, down.json()) == (503, {"status": "not ready", "failing": ["redis"]})
    assert again.json() == {"status": "ready"}


class UnreadableCredentials:
    """A credential store whose database cannot be read (a fake behind the port)."""

    async def stores(self, tenant: str) -> tuple[StoreAccess, ...]:
        raise OSError("disk I/O error")

    async def api_key(self, store: StoreRef) -> str:
        raise OSError("disk I/O error")

    async def authenticate(self, token: str) -> str | None:
        return None


async def test_readiness_fails_when_the_credentials_cannot_be_read(tmp_path: Path) -> None:
    container = make_container(tmp_path)
    container.credentials.override(providers.Object(UnreadableCredentials()))
    async with _asgi(container, host="127.0.0.1") as http:
        answer = await http.get("/readyz")
    assert (answer.status_code, answer.json()) == (503, {"status": "not ready", "failing": ["credentials"]})


async def test_readiness_fails_when_the_master_key_opens_no_stored_key(tmp_path: Path) -> None:
    # Regression: a replica started with a wrong master key answered /readyz 200 and then failed
    # every call, so the load balancer kept it in rotation.
    path = tmp_path / "credentials.sqlite3"
    with SqliteCredentialStore(path=path, keyring=Keyring({1: b"\x01" * 32})) as right:
        right.add_tenant("acme")
        right.add_store("acme", "1001", "the-api-key-of-store-1001", alias="main", read_only=False)
        right.add_store("acme", "1002", "the-api-key-of-store-1002", alias="", read_only=False)
    answers = []
    for key in (b"\x02" * 32, b"\x01" * 32):  # a wrong master key, then the right one
        container = make_container(tmp_path)
        wrong_or_right = SqliteCredentialStore(path=path, keyring=Keyring({1: key}))
        container.credentials.override(providers.Object(wrong_or_right))
        with wrong_or_right:
            async with _asgi(container, host="127.0.0.1") as http:
                answer = await http.get("/readyz")
        answers.append((answer.status_code, answer.json()))
    assert answers == [
        (503, {"status": "not ready", "failing": ["credentials"]}),
        (200, {"status": "ready"}),
    ]


def test_a_replica_whose_master_key_opens_no_stored_key_does_not_say_it_is_ready(tmp_path: Path) -> None:
    # Its start-up line said "(ready)" while /readyz answered 503 (found in review).
    path = tmp_path / "credentials.sqlite3"
    with SqliteCredentialStore(path=path, keyring=Keyring({1: b"\x01" * 32})) as right:
        right.add_tenant("acme")
        right.add_store("acme", "1001", "the-api-key-of-store-1001", alias="main", read_only=False)
    wrong = clean_env(tmp_path, ORDERDESK_MASTER_KEY=Keyring.new_key_text())
    with http_server(wrong) as server:
        lines = list(server.lines)
    assert lines[-1] == (
        f"orderdesk-mcp: MCP over streamable HTTP at {server.base_url}/mcp "
        "(listening, not ready: credentials; see /readyz)"
    )


async def test_metrics_count_calls_upstream_requests_and_cache_after_a_few_calls(tmp_path: Path) -> None:
    with http_server(clean_env(tmp_path)) as server:
        with anyio.fail_after(30):
            async with Client(server.mcp_url) as client:
                listed = await client.call_tool(LIST, {"limit": 2})
                assert listed.structured_content is not None
                first = listed.structured_content["orders"][0]["id"]
                for _ in range(2):
                    assert not (await client.call_tool(GET, {"order_id": first})).is_error
                assert (await client.call_tool(GET, {"order_id": "999999999"})).is_error
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{server.base_url}/readyz") as answer:
                    ready = await answer.json()
                async with http.get(f"{server.base_url}/metrics") as answer:
                    metrics = await answer.text()
    assert ready == {"status": "ready"}
    lines = set(metrics.splitlines())
    expected = {
        f'orderdesk_tool_calls_total{{outcome="ok",tool="{GET}"}} 2.0',
        f'orderdesk_tool_calls_total{{outcome="OrderNotFound",tool="{GET}"}} 1.0',
        f'orderdesk_tool_calls_total{{outcome="ok",tool="{LIST}"}} 1.0',
        f'orderdesk_tool_call_duration_seconds_count{{tool="{GET}"}} 3.0',
        # the page and the store's folders; both gets of a listed order are hits (the page filled the cache)
        'orderdesk_upstream_requests_total{method="GET",status="200"} 2.0',
        'orderdesk_upstream_requests_total{method="GET",status="404"} 1.0',
        'orderdesk_cache_lookups_total{kind="order",result="hit"} 2.0',
        'orderdesk_cache_lookups_total{kind="order",result="miss"} 1.0',
        'orderdesk_cache_lookups_total{kind="list",result="miss"} 1.0',
        "orderdesk_upstream_retries_total 0.0",
        "orderdesk_upstream_rate_limited_total 0.0",
        "orderdesk_single_flight_joins_total 0.0",
    }
    assert expected <= lines, sorted(expected - lines)
    for name in ("rate_limit_wait_seconds_total", "write_lock_waits_total", "write_lock_wait_seconds_total"):
        assert any(line.startswith(f"orderdesk_{name} ") for line in lines), name


def test_the_ready_line_comes_once_the_port_answers(tmp_path: Path) -> None:
    with http_server(clean_env(tmp_path)) as server:
        # The line was read, so the socket already listens: the very first request is answered.
        with urllib.request.urlopen(f"{server.base_url}/healthz", timeout=5) as answer:  # noqa: S310
            status = answer.status
        lines = list(server.lines)
    assert status == 200
    assert lines[-1] == f"orderdesk-mcp: MCP over streamable HTTP at {server.base_url}/mcp (ready)"
    assert lines[0].startswith("orderdesk-mcp: credentials: the built-in simulator")


def test_a_taken_port_is_one_line_naming_it_and_how_to_choose_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = run_cli(clean_env(tmp_path), "serve", "--transport", "http", "--port", str(port))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        f"orderdesk-mcp: configuration error: port {port} on 127.0.0.1 is already in use (is another "
        f"server running?); choose another with --port {port + 1} or PORT={port + 1} make run\n"
    )


def test_serve_help_shows_every_options_help_default_and_variable(tmp_path: Path) -> None:
    proc = run_cli(clean_env(tmp_path), "serve", "--help", check=True)
    text = " ".join(proc.stdout.split())
    for option, default, variable in (
        ("--transport", "default: stdio", "env: ORDERDESK_TRANSPORT"),
        ("--host", "default: 127.0.0.1", "env: ORDERDESK_HOST"),
        ("--port", "default: 8000", "env: ORDERDESK_PORT"),
        ("--tenant", "default: the only tenant", "env: ORDERDESK_TENANT"),
    ):
        assert option in text
        assert f"({default}; {variable})" in text, option


def test_version_comes_from_the_package_metadata(tmp_path: Path) -> None:
    from importlib.metadata import version

    proc = run_cli(clean_env(tmp_path), "--version", check=True)
    assert proc.stdout == f"orderdesk-mcp {version('orderdesk-mcp')}\n"


async def test_connections_to_the_bound_port_get_tcp_nodelay() -> None:
    from orderdesk_mcp.entrypoints.serve import _bind

    accepted: list[int] = []
    sock = _bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    loop = asyncio.get_running_loop()

    class _Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            raw = transport.get_extra_info("socket")
            accepted.append(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await loop.create_server(_Probe, sock=sock)  # what uvicorn does with the socket
    try:
        with anyio.fail_after(5):
            stream = await anyio.connect_tcp("127.0.0.1", port)
            while not accepted:
                await anyio.sleep(0.01)
            await stream.aclose()
    finally:
        server.close()
        await server.wait_closed()
    assert accepted == [1]


def test_a_port_variable_that_is_no_number_is_one_line_naming_it(tmp_path: Path) -> None:
    # It was argparse's usage text and "argument --port: invalid int value: 'abc'" (found in review).
    proc = run_cli(clean_env(tmp_path, ORDERDESK_PORT="abc"), "serve")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert (
        proc.stderr
        == "orderdesk-mcp: configuration error: ORDERDESK_PORT must be a number from 0 to 65535, got 'abc'\n"
    )


def test_a_wrong_transport_variable_is_one_line_naming_it(tmp_path: Path) -> None:
    proc = run_cli(clean_env(tmp_path, ORDERDESK_TRANSPORT="sse"), "serve")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert (
        proc.stderr
        == "orderdesk-mcp: configuration error: ORDERDESK_TRANSPORT must be stdio or http, got 'sse'\n"
    )
