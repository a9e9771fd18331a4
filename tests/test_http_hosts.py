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

from tests.server_process import clean_env, http_server, run_cli

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
    env = clean_env(
        tmp_path, ORDERDESK_ALLOWED_HOSTS="mcp.example.com, Other.Example.org", ORDERDESK_HTTP_TOKEN=TOKEN
    )
    with http_server(env) as server:
        listed = await _status(server.mcp_url, "mcp.example.com", TOKEN)
        listed_with_port = await _status(server.mcp_url, "other.example.org:443", TOKEN)
        loopback = await _status(server.mcp_url, server.base_url.removeprefix("http://"), TOKEN)
        unlisted = await _status(server.mcp_url, "evil.example.net", TOKEN)
        without_token = await _status(server.mcp_url, "mcp.example.com")
    assert (listed, listed_with_port, loopback, unlisted, without_token) == (200, 200, 200, 421, 401)


def test_a_server_published_behind_a_proxy_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    # Regression: bound to loopback with ORDERDESK_ALLOWED_HOSTS, as the README says to run behind
    # a reverse proxy, it served every tool to the public name with no token and no warning.
    proc = run_cli(
        clean_env(tmp_path, ORDERDESK_ALLOWED_HOSTS="mcp.example.com"),
        "serve",
        "--transport",
        "http",
        "--port",
        "0",
    )
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        "orderdesk-mcp: configuration error: refusing to serve without authentication: "
        "ORDERDESK_ALLOWED_HOSTS publishes this server as mcp.example.com; set ORDERDESK_HTTP_TOKEN or add "
        "tenants (orderdesk-mcp tenants add NAME)\n"
    )


async def test_metrics_behind_a_proxy_need_the_token(tmp_path: Path) -> None:
    env = clean_env(tmp_path, ORDERDESK_ALLOWED_HOSTS="mcp.example.com", ORDERDESK_HTTP_TOKEN=TOKEN)
    with http_server(env) as server:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{server.base_url}/metrics", headers={"Host": "mcp.example.com"}) as bare:
                without = bare.status
            headers = {"Host": "mcp.example.com", "Authorization": f"Bearer {TOKEN}"}
            async with session.get(f"{server.base_url}/metrics", headers=headers) as answer:
                with_token = answer.status
    assert (without, with_token) == (401, 200)


async def test_any_loopback_address_answers_loopback_names_only(tmp_path: Path) -> None:
    # Regression: bound to 127.0.0.2 (loopback, so no token needed) the SDK checked no Host at all,
    # and a page rebinding its own name to that address reached the tools.
    with http_server(clean_env(tmp_path), "--host", "127.0.0.2") as server:
        rebound = await _status(server.mcp_url, "evil.example.com")
        own = await _status(server.mcp_url, server.base_url.removeprefix("http://"))
    assert (rebound, own) == (421, 200)


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_a_port_out_of_range_is_one_line_naming_it(tmp_path: Path, port: str) -> None:
    proc = run_cli(clean_env(tmp_path), "serve", "--transport", "http", "--port", port)
    assert (proc.returncode, proc.stderr) == (
        2,
        "orderdesk-mcp: configuration error: the port must be a number from 0 to 65535 (--port or "
        f"ORDERDESK_PORT), got {port}\n",
    )


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


def test_a_bracketed_ipv6_host_is_the_address_it_names(tmp_path: Path) -> None:
    # "--host [::1]" said "cannot listen on '[::1]': the host name does not resolve" (found in review).
    with http_server(clean_env(tmp_path), "--host", "[::1]") as server:
        lines = list(server.lines)
    port = server.base_url.rsplit(":", 1)[1]
    assert lines[-1] == f"orderdesk-mcp: MCP over streamable HTTP at http://[::1]:{port}/mcp (ready)"
