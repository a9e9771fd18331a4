"""``python -m bench._noop_server``: an MCP server with one no-op tool over stdio, on the same SDK.

The floor the start-up figure is compared with: whatever this costs, the SDK and Python cost.
"""

from __future__ import annotations

import anyio
from mcp.server.mcpserver import MCPServer
from typing_extensions import TypedDict


class NoopOut(TypedDict):
    ok: bool


def main() -> None:
    server: MCPServer[None] = MCPServer("noop", log_level="WARNING")

    @server.tool(name="noop", description="Does nothing.", structured_output=True)
    async def noop() -> NoopOut:
        return {"ok": True}

    anyio.run(server.run_stdio_async)  # as ``orderdesk-mcp serve`` runs stdio


if __name__ == "__main__":
    main()
