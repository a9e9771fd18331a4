"""The simulator served on a loopback port, with injected latency and no rate limit."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

from orderdesk_mcp.adapters.simulator import SimulatorState, create_app, default_state
from orderdesk_mcp.entrypoints.settings import SIMULATOR_API_KEY, SIMULATOR_STORE_ID

__all__ = ["Upstream", "running_simulator"]

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Upstream:
    """A running simulator: its state, URL, how long its handlers worked (not slept), and how
    long it held requests in all (``held_seconds``: its injected latency as actually slept,
    which the event loop's timer overshoots by up to a millisecond, plus its work)."""

    def __init__(self, state: SimulatorState, base_url: str) -> None:
        self.state = state
        self.base_url = base_url
        self.handler_seconds = 0.0
        self.held_seconds = 0.0

    @property
    def request_count(self) -> int:
        return len(self.state.requests)

    def gets_of(self, order_id: str) -> int:
        """Upstream ``GET /orders/{order_id}`` requests served so far."""
        return sum(
            1 for r in self.state.requests if r.method == "GET" and r.path.endswith(f"/orders/{order_id}")
        )


@asynccontextmanager
async def running_simulator(*, latency: float, orders: int) -> AsyncIterator[Upstream]:
    """Serve a simulator seeded with ``orders`` orders on 127.0.0.1 until the block ends."""
    state = default_state(store_id=SIMULATOR_STORE_ID, api_key=SIMULATOR_API_KEY, sample_count=orders)
    state.faults.rate_limit_enabled = False
    state.faults.latency = latency
    app = create_app(state)
    upstream = Upstream(state, "")

    @web.middleware
    async def _timed(request: web.Request, handler: _Handler) -> web.StreamResponse:
        # Runs inside the simulator's own middleware, after its latency sleep: the
        # simulator's processing time, which is not ours either.
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            upstream.handler_seconds += time.perf_counter() - started

    @web.middleware
    async def _held(request: web.Request, handler: _Handler) -> web.StreamResponse:
        # Outermost: from the simulator's first look at the request to its answer, latency included.
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            upstream.held_seconds += time.perf_counter() - started

    app.middlewares.append(_timed)
    app.middlewares.insert(0, _held)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    upstream.base_url = f"http://{host}:{port}"
    try:
        yield upstream
    finally:
        await runner.cleanup()
