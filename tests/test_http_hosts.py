"""Serving HTTP behind a reverse proxy: the Host names it answers, and the URL it prints.

On a loopback address the SDK answers only Host headers naming loopback (DNS-rebinding protection),
so a proxy on the same machine forwarding ``Host: mcp.example.com`` got 421 on every MCP request
and there was no setting to allow it: ``ORDERDESK_ALLOWED_HOSTS`` is that setting. Bound to every
interface, the ready line printed ``http://0.0.0.0:PORT/mcp``, a URL no client can use.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.server_process import clean_env, http_server

pytestmark = pytest.mark.anyio

TOKEN = "hosts-test-token-0123456789abcdefgh"
CLIENT = {"name": "t", "version": "1"}
INITIALIZE = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": CLIENT},
}  # fmt: skip


async def _status(url: str, host: str, token: str | None = None) -> int:
    headers = {"Host": host, "Accept": "application/json, text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=INITIALIZE, headers=headers) as answer,
    ):
        return answer.status


async def test_a_listed_host_is_answered_behind_a_proxy_on_loopback_and_others_are_not(
    tmp_path: Path,
) -> None:
    env = clean_env(tmp_path, ORDERDESK_ALLOWED_HOSTS="mcp.example.com, Other.Example.org")
    with http_server(env) as server:
        listed = await _status(server.mcp_url, "mcp.example.com")
        listed_with_port = await _status(server.mcp_url, "other.example.org:443")
        loopback = await _status(server.mcp_url, server.base_url.removeprefix("http://"))
        unlisted = await _status(server.mcp_url, "evil.example.net")
    assert (listed, listed_with_port, loopback, unlisted) == (200, 200, 200, 421)


async def test_without_the_setting_loopback_answers_loopback_names_only(tmp_path: Path) -> None:
    with http_server(clean_env(tmp_path)) as server:
        assert await _status(server.mcp_url, "mcp.example.com") == 421


def test_bound_to_every_interface_the_ready_line_gives_a_usable_url(tmp_path: Path) -> None:
    with http_server(clean_env(tmp_path, ORDERDESK_HTTP_TOKEN=TOKEN), "--host", "0.0.0.0") as server:
        lines = list(server.lines)
    port = server.base_url.rsplit(":", 1)[1]
    assert lines[-2:] == [
        f"orderdesk-mcp: listening on every interface (0.0.0.0 port {port}); from another machine, use this "
        "machine's address",
        f"orderdesk-mcp: MCP over streamable HTTP at http://127.0.0.1:{port}/mcp (ready)",
    ]


async def test_with_the_setting_a_wildcard_bind_still_answers_the_url_it_prints(tmp_path: Path) -> None:
    env = clean_env(tmp_path, ORDERDESK_HTTP_TOKEN=TOKEN, ORDERDESK_ALLOWED_HOSTS="mcp.example.com")
    with http_server(env, "--host", "0.0.0.0") as server:
        printed = server.base_url.removeprefix("http://")  # 127.0.0.1:PORT
        got = [
            await _status(server.mcp_url, host, TOKEN)
            for host in (printed, "mcp.example.com", "evil.example")
        ]
    assert got == [200, 200, 421]
