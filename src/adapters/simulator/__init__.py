"""The OrderDesk simulator: an in-memory fake of OrderDesk's REST API v2 (orders).

It is the test double for the HTTP client (served on loopback), the built-in backend when no
credentials are configured (in process, through ``SimulatedOrderGateway``), and the upstream
of the benchmark and the abuse suite (through its fault switches).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orderdesk_mcp.adapters.simulator._faults import Faults
from orderdesk_mcp.adapters.simulator._inventory import sample_items
from orderdesk_mcp.adapters.simulator._listing import MAX_LIMIT
from orderdesk_mcp.adapters.simulator._rules import SimError
from orderdesk_mcp.adapters.simulator._state import (
    DEFAULT_FOLDERS,
    FIRST_ORDER_ID,
    RequestRecord,
    SimulatorState,
)
from orderdesk_mcp.ports.clock import Clock

if TYPE_CHECKING:
    from orderdesk_mcp.adapters.simulator._app import create_app

__all__ = [
    "DEFAULT_FOLDERS",
    "FIRST_ORDER_ID",
    "MAX_LIMIT",
    "Faults",
    "RequestRecord",
    "SimError",
    "SimulatorState",
    "create_app",
    "default_state",
]


def default_state(
    *, store_id: str = "100001", api_key: str = "sim-key", sample_count: int = 25, clock: Clock | None = None
) -> SimulatorState:
    """A simulator with one store holding ``sample_count`` deterministic sample orders."""
    state = SimulatorState(clock=clock)
    state.add_store(store_id, api_key)
    state.seed_samples(store_id, sample_count)
    state.seed_inventory(store_id, sample_items())
    return state


def __getattr__(name: str) -> Any:
    # The HTTP app pulls in aiohttp's server; the in-process gateway never needs it, so it is
    # imported on first use only (start-up time).
    if name == "create_app":
        from orderdesk_mcp.adapters.simulator._app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
