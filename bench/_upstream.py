"""The simulator served on a loopback port, with injected latency and no rate limit."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from orderdesk_mcp.adapters.simulator import SimulatorState, create_app, default_state
from orderdesk_mcp.entrypoints.settings import SIMULATOR_API_KEY, SIMULATOR_STORE_ID

__all__ = ["Upstream", "child_env", "running_simulator"]

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Upstream:
    """A running simulator: its state, URL, how long its handlers worked (not slept), and how
    long it held requests in all (``held_seconds``: from a request's first bytes reaching the
    simulator to its answer written, so reading the request, the injected latency as actually
    slept (the event loop's timer overshoots it by up to a millisecond), its work, and writing
    the answer)."""

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


class _Arrivals(asyncio.Protocol):
    """The simulator's connection protocol, noting when the first bytes of each request arrive.

    Wraps aiohttp's own handler; the outermost middleware reads the note (``arrived``) when the
    request reaches it and marks the connection busy until the answer is written, so body bytes
    arriving meanwhile are not taken for the next request's."""

    def __init__(self, inner: asyncio.Protocol, arrived: dict[object, float], busy: set[object]) -> None:
        self._inner, self._arrived, self._busy = inner, arrived, busy

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._inner not in self._busy:
            self._arrived.setdefault(self._inner, time.perf_counter())
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._arrived.pop(self._inner, None)
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


@asynccontextmanager
async def running_simulator(*, latency: float, orders: int) -> AsyncIterator[Upstream]:
    """Serve a simulator seeded with ``orders`` orders on 127.0.0.1 until the block ends."""
    state = default_state(store_id=SIMULATOR_STORE_ID, api_key=SIMULATOR_API_KEY, sample_count=orders)
    state.faults.rate_limit_enabled = False
    state.faults.latency = latency
    app = create_app(state)
    upstream = Upstream(state, "")
    arrived: dict[object, float] = {}
    busy: set[object] = set()

    @web.middleware
    async def working(request: web.Request, handler: _Handler) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            upstream.handler_seconds += time.perf_counter() - started

    @web.middleware
    async def holding(request: web.Request, handler: _Handler) -> web.StreamResponse:
        connection = request.protocol
        busy.add(connection)
        started = time.perf_counter()
        came = arrived.pop(connection, started)
        try:
            response = await handler(request)
            # The answer is written here rather than by aiohttp after the middlewares (which then
            # finds it sent), so writing it counts as the simulator's time, not ours.
            await response.prepare(request)
            await response.write_eof()
            return response
        finally:
            upstream.held_seconds += time.perf_counter() - came
            busy.discard(connection)

    # Innermost, after the simulator's own latency sleep: its processing time, which is not ours either.
    app.middlewares.append(working)
    # Outermost: from the request's first bytes reaching the simulator to its answer written.
    app.middlewares.insert(0, holding)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    assert runner.server is not None
    handlers: web.Server = runner.server  # makes aiohttp's handler of each connection
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Arrivals(handlers(), arrived, busy), "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    upstream.base_url = f"http://{host}:{port}"
    try:
        yield upstream
    finally:
        server.close()
        await runner.cleanup()
        await server.wait_closed()
