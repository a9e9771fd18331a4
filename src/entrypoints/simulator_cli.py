"""``orderdesk-mcp simulator``: the OrderDesk simulator as a standalone HTTP server."""

from __future__ import annotations

import sys

from aiohttp import web

from orderdesk_mcp.adapters.simulator import create_app, default_state
from orderdesk_mcp.entrypoints.settings import SIMULATOR_API_KEY, SIMULATOR_STORE_ID

__all__ = ["run_simulator"]


def run_simulator(*, host: str, port: int, orders: int, latency: float) -> None:
    """Serve until interrupted; says on stderr how to point the MCP server at it."""
    state = default_state(store_id=SIMULATOR_STORE_ID, api_key=SIMULATOR_API_KEY, sample_count=orders)
    state.faults.latency = latency
    base = f"http://{host}:{port}"
    sys.stderr.write(
        f"OrderDesk simulator at {base} (store {SIMULATOR_STORE_ID}, {orders} sample orders).\n"
        f"Point the MCP server at it with:\n"
        f"  ORDERDESK_BASE_URL={base} ORDERDESK_STORE_ID={SIMULATOR_STORE_ID} "
        f"ORDERDESK_API_KEY={SIMULATOR_API_KEY}\n"
    )
    web.run_app(create_app(state), host=host, port=port, print=None, access_log=None)
