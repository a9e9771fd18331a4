"""The simulator served on loopback, and both gateway adapters over it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp.test_utils import TestServer

from orderdesk_mcp.adapters.env_credentials import EnvCredentialStore
from orderdesk_mcp.adapters.http_gateway import HttpOrderGateway
from orderdesk_mcp.adapters.memory_rate_limiter import MemoryRateLimiter
from orderdesk_mcp.adapters.simulator import SimulatorState, create_app
from tests.fakes import FakeClock

__all__ = ["API_KEY", "STORE_ID", "http_gateway", "served_simulator"]

STORE_ID = "100001"
API_KEY = "sim-key-for-tests-0123456789"


@asynccontextmanager
async def served_simulator(state: SimulatorState) -> AsyncIterator[str]:
    """Serve ``state`` on a free loopback port; yields the base URL."""
    server = TestServer(create_app(state), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@asynccontextmanager
async def http_gateway(
    base_url: str,
    *,
    api_key: str = API_KEY,
    limiter: MemoryRateLimiter | None = None,
    read_timeout: float = 5.0,
    max_response_bytes: int = 1_000_000,
) -> AsyncIterator[HttpOrderGateway]:
    gateway = HttpOrderGateway(
        base_url=base_url,
        credentials=EnvCredentialStore(store_id=STORE_ID, api_key=api_key),
        limiter=limiter or MemoryRateLimiter(clock=FakeClock()),
        read_timeout=read_timeout,
        max_response_bytes=max_response_bytes,
    )
    async with gateway:
        yield gateway
