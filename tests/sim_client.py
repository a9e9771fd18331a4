"""A loopback client for the simulator's HTTP tests: credentials, a served app, JSON calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from orderdesk_mcp.adapters.simulator import SimulatorState, create_app

__all__ = ["AUTH", "KEY", "STORE", "SimClient", "call", "served"]

STORE = "100001"
KEY = "sim-key-0123456789"
AUTH = {"ORDERDESK-STORE-ID": STORE, "ORDERDESK-API-KEY": KEY}
SimClient = TestClient[Any, Any]


@asynccontextmanager
async def served(state: SimulatorState, **app_options: Any) -> AsyncIterator[SimClient]:
    """The simulator on a free loopback port, with a client bound to it."""
    async with TestClient(TestServer(create_app(state, **app_options))) as client:
        yield client


async def call(client: SimClient, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    """(status, decoded JSON body); sends the store's credentials unless ``headers`` is given."""
    headers = kwargs.pop("headers", AUTH)
    async with client.request(method, path, headers=headers, **kwargs) as response:
        return response.status, await response.json()
