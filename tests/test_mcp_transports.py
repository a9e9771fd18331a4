"""The installed ``orderdesk-mcp serve`` command, spoken to by the real MCP client over stdio and HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.context import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitResult

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CLI = str(Path(sys.executable).with_name("orderdesk-mcp"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERDESK_")}
    env["ORDERDESK_DATA_DIR"] = str(tmp_path)
    env.update(extra)
    return env


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [CLI, "serve", "--transport", "http", "--port", str(port)],
        env=_clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        assert b"MCP over streamable HTTP at http://127.0.0.1:" in err
        assert b"orderdesk-mcp: credentials: the built-in simulator (store 100001" in err


async def test_stdio_server_lists_and_reads_sample_orders(tmp_path: Path) -> None:
    params = StdioServerParameters(command=CLI, args=["serve"], env=_clean_env(tmp_path))
    with anyio.fail_after(30):
        async with Client(params) as client:
            listed = await client.call_tool("orders_list", {"limit": 5, "view": "full"})
            assert listed.structured_content is not None
            first = listed.structured_content["orders"][0]
            got = await client.call_tool("orders_get", {"order_id": first["id"]})
    assert got.structured_content is not None
    assert got.structured_content["order"] == first


async def test_streamable_http_server_lists_and_reads_sample_orders(http_server: str) -> None:
    with anyio.fail_after(30):
        async with Client(http_server) as client:
            listed = await client.call_tool("orders_list", {"limit": 3})
            assert listed.structured_content is not None
            assert listed.structured_content["total_count"] == 25
            first = listed.structured_content["orders"][0]
            got = await client.call_tool("orders_get", {"order_id": first["id"]})
    assert got.structured_content is not None
    assert got.structured_content["order"]["id"] == first["id"]


async def test_a_delete_over_stateless_http_asks_the_person_through_the_call_result(http_server: str) -> None:
    # 2026-07-28 carries the question in the call's result and the answer in the next call, with
    # the request state round-tripping through the client: no session on the server is needed.
    asked: list[str] = []

    async def accept(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    with anyio.fail_after(30):
        async with Client(http_server, elicitation_callback=accept) as client:
            deleted = await client.call_tool("orders_delete", {"order_id": "500001"})
            gone = await client.call_tool("orders_get", {"order_id": "500001"})
    assert deleted.structured_content == {"deleted": True, "order_id": "500001"}
    assert asked == ["Delete order 500001 permanently?"]
    assert gone.is_error


def test_a_bad_setting_stops_start_up_with_one_line_naming_the_variable(tmp_path: Path) -> None:
    proc = subprocess.run(
        [CLI, "serve"],
        env=_clean_env(tmp_path, ORDERDESK_BASE_URL="not a url"),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr.decode() == (
        "orderdesk-mcp: configuration error: ORDERDESK_BASE_URL must be a http:// or https:// URL, "
        "got 'not a url'\n"
    )
