"""The simulator served on a loopback port, with injected latency and no rate limit."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Middleware

from orderdesk_mcp.adapters.simulator import SimulatorState, create_app, default_state
from orderdesk_mcp.entrypoints.settings import SIMULATOR_API_KEY, SIMULATOR_STORE_ID

__all__ = ["Upstream", "child_env", "running_simulator"]

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


def child_env(base_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of an ``orderdesk-mcp`` child process on this benchmark's simulator.

    This process's environment without any ``ORDERDESK_*`` variable, then the HTTP gateway to
    ``base_url`` with the simulator's credentials, ``data_dir``, and ``settings`` (more variables).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERDESK_")}
    return env | {
        "ORDERDESK_GATEWAY": "http",
        "ORDERDESK_CREDENTIALS": "env",
        "ORDERDESK_STORE_ID": SIMULATOR_STORE_ID,
        "ORDERDESK_API_KEY": SIMULATOR_API_KEY,
        "ORDERDESK_BASE_URL": base_url,
        "ORDERDESK_DATA_DIR": str(data_dir),
        **settings,
    }


@asynccontextmanager
async def running_simulator(*, latency: float, orders: int) -> AsyncIterator[Upstream]:
    """Serve a simulator seeded with ``orders`` orders on 127.0.0.1 until the block ends."""
    state = default_state(store_id=SIMULATOR_STORE_ID, api_key=SIMULATOR_API_KEY, sample_count=orders)
    state.faults.rate_limit_enabled = False
    state.faults.latency = latency
    app = create_app(state)
    upstream = Upstream(state, "")

    def _adding_to(attribute: str) -> Middleware:
        @web.middleware
        async def timed(request: web.Request, handler: _Handler) -> web.StreamResponse:
            started = time.perf_counter()
            try:
                return await handler(request)
            finally:
                setattr(upstream, attribute, getattr(upstream, attribute) + time.perf_counter() - started)

        return timed

    # Innermost, after the simulator's own latency sleep: its processing time, which is not ours either.
    app.middlewares.append(_adding_to("handler_seconds"))
    # Outermost: from the simulator's first look at the request to its answer, latency included.
    app.middlewares.insert(0, _adding_to("held_seconds"))
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
