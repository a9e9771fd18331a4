"""Shared fixtures: the anyio backend, the seeded simulator, and a real Redis server; and the one
skip of the live cases.

The Redis fixture uses ``REDIS_URL`` when set, otherwise starts its own ``redis-server`` on a
free loopback port (no persistence) for the session. A missing ``redis-server`` fails the
run: Redis-backed adapters are never silently skipped. Tests never flush a database; each
test gets its own key prefix instead, so pointing ``REDIS_URL`` at a shared server is safe.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
import redis.asyncio
from hypothesis import Phase, settings

from orderdesk_mcp.adapters.redis_cache import redis_client_from_url
from orderdesk_mcp.adapters.simulator import SimulatorState
from tests.live.config import live_skip_reason
from tests.mcp_harness import seeded_state


def pytest_runtest_setup(item: pytest.Item) -> None:
    """The one skip: every case marked ``live`` stops here when the live run is not configured."""
    if item.get_closest_marker("live") is not None and (reason := live_skip_reason()) is not None:
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """Undo what a CLI run in this process did to the root logger (``configure_logging``).

    Without it, a test that ran ``serve`` or an ``orders`` command left its stderr handler behind,
    and a later test saw INFO lines in output the real CLI never prints.
    """
    root, sdk = logging.getLogger(), logging.getLogger("mcp")
    handlers, level, sdk_level = list(root.handlers), root.level, sdk.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    sdk.setLevel(sdk_level)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sim_state() -> SimulatorState:
    """The simulator most server tests start from: the built-in store with 3 sample orders.

    Tests that need another size call ``tests.mcp_harness.seeded_state(n)`` instead.
    """
    return seeded_state()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"redis-server did not start listening on port {port} within {timeout} s")


class RedisServer:
    """A redis-server process this test session owns (can be stopped and restarted)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed; install it (see README) or set REDIS_URL")
        self._proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            self._proc = None


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real Redis: ``REDIS_URL`` if set, else a private server on a free port."""
    external = os.environ.get("REDIS_URL")
    if external:
        yield external
        return
    server = RedisServer(_free_port())
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A Redis server of this test alone, for tests that kill it mid-way."""
    server = RedisServer(_free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix unique to this test, so tests never see or flush each other's keys."""
    return f"odtest:{uuid.uuid4().hex[:12]}:"


@asynccontextmanager
async def patient_redis(url: str, prefix: str) -> AsyncIterator[redis.asyncio.Redis]:
    """A client straight to Redis that waits 5 s for an answer (a stalled CI machine must not turn a
    slow answer into a tested fallback), deleting this test's keys (``prefix``) when it ends."""
    client = redis_client_from_url(url, timeout=5.0)
    try:
        yield client
        leftovers = [key async for key in client.scan_iter(match=prefix + "*")]
        if leftovers:
            await client.delete(*leftovers)
    finally:
        await client.aclose()


# Hypothesis's "explain" phase trips a CPython 3.11 AST bug when a property fails, which turns a
# readable failure into a pytest INTERNALERROR; every other phase stays on.
settings.register_profile("orderdesk", phases=[p for p in Phase if p is not Phase.explain], deadline=None)
settings.load_profile("orderdesk")
