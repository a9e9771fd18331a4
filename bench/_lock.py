"""The write lock: lost updates between two processes on one Redis, and what the lock costs.

- Two ``orderdesk-mcp serve`` processes (stdio, HTTP gateway to the benchmark's simulator,
  ``ORDERDESK_CACHE_URL`` on one Redis) each send 20 concurrent updates of one order, every
  update setting its own ``order_metadata`` key: all 40 keys must be there afterwards.
- The p50 the lock adds to an update without contention: ``RedisWriteLock.hold`` entered and
  left on a free resource (Redis on loopback), against the in-process lock for reference. Its
  release runs after the block, off the call's path, and lands before the next sample.

Redis is a private ``redis-server`` on a free loopback port (no persistence), stopped at the end.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

from bench._stats import summary
from bench._upstream import Upstream, child_env
from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock
from orderdesk_mcp.adapters.redis_cache import redis_client_from_url
from orderdesk_mcp.adapters.redis_write_lock import RedisWriteLock
from orderdesk_mcp.adapters.system_clock import SystemClock
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.entrypoints.settings import SIMULATOR_STORE_ID
from orderdesk_mcp.ports.write_lock import WriteLock

__all__ = ["LOCK_OVERHEAD_MAX_MS", "measure_lock", "redis_server"]

LOCK_OVERHEAD_MAX_MS = 0.5
UPDATES_PER_PROCESS = 20
CLI = str(Path(sys.executable).with_name("orderdesk-mcp"))


@contextmanager
def redis_server() -> Iterator[str]:
    """A private redis-server on a free loopback port; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed; the lock figures need it")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _hold_seconds(lock: WriteLock, runs: int) -> list[float]:
    """What the lock adds to a write's answer: its block entered and left, ``runs`` times.

    The Redis lock's release runs after the block, off the call's path (one round trip the
    agent does not wait for). In an update it lands while the server writes the answer; here,
    before the next sample starts (untimed), so no sample pays for the one before it.
    """
    store = StoreRef(tenant="bench", store_id=SIMULATOR_STORE_ID)
    samples = []
    for n in range(runs):
        started = time.perf_counter()
        async with lock.hold(store, f"order:{n % 50}"):
            pass
        samples.append(time.perf_counter() - started)
        if isinstance(lock, RedisWriteLock):
            await lock.releases_landed()
    return samples


async def _overhead(redis_url: str, runs: int) -> dict[str, Any]:
    client = redis_client_from_url(redis_url)
    try:
        async with RedisWriteLock(client=client, clock=SystemClock(), prefix="bench-lock:") as shared:
            await _hold_seconds(shared, 20)  # warm the connection and the scripts
            redis_samples = await _hold_seconds(shared, runs)
        round_trips = []  # for scale: the lock waits for one EVAL (acquire; the release runs after)
        for _ in range(runs):
            started = time.perf_counter()
            await client.get("bench-lock:probe")
            round_trips.append(time.perf_counter() - started)
    finally:
        await client.aclose()
    memory_samples = await _hold_seconds(MemoryWriteLock(clock=SystemClock()), runs)
    return {
        "redis": summary(redis_samples),
        "memory": summary(memory_samples),
        "redis_round_trip": summary(round_trips),
    }


def _env(base_url: str, redis_url: str, data_dir: Path) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return child_env(
        base_url,
        data_dir,
        ORDERDESK_CACHE_URL=redis_url,
        ORDERDESK_CACHE_PREFIX="bench-two-processes:",
        ORDERDESK_RATE_BURST="1000000",
        ORDERDESK_RATE_PER_SECOND="1000000",
        ORDERDESK_CALL_TIMEOUT="120",
        ORDERDESK_LOG_LEVEL="WARNING",  # 40 per-call INFO lines would bury the report
    )


async def _two_processes(upstream: Upstream, order_id: str, redis_url: str, data_dir: Path) -> dict[str, Any]:
    params = [
        StdioServerParameters(
            command=CLI, args=["serve"], env=_env(upstream.base_url, redis_url, data_dir / p)
        )
        for p in ("p1", "p2")
    ]
    errors: list[str] = []
    before = len(upstream.state.requests)

    async def updates(client: Client, name: str) -> None:
        async def one(n: int) -> None:
            changes = {"order_metadata": {f"lock-{name}-{n}": n}}
            result = await client.call_tool("orders_update", {"order_id": order_id, "changes": changes})
            if result.is_error:
                errors.append(" ".join(getattr(b, "text", "") for b in result.content))

        async with anyio.create_task_group() as tasks:
            for n in range(UPDATES_PER_PROCESS):
                tasks.start_soon(one, n)

    started = time.perf_counter()
    async with Client(params[0]) as first, Client(params[1]) as second, anyio.create_task_group() as tasks:
        tasks.start_soon(updates, first, "p1")
        tasks.start_soon(updates, second, "p2")
    elapsed = time.perf_counter() - started
    metadata = upstream.state.orders(SIMULATOR_STORE_ID)[order_id].get("order_metadata") or {}
    expected = [f"lock-{p}-{n}" for p in ("p1", "p2") for n in range(UPDATES_PER_PROCESS)]
    on_order = [r.method for r in upstream.state.requests[before:] if r.path.endswith(f"/orders/{order_id}")]
    return {
        "updates": len(expected),
        "keys_present": sum(1 for key in expected if key in metadata),
        "errors": errors[:3],
        "error_count": len(errors),
        "gets": on_order.count("GET"),
        "puts": on_order.count("PUT"),
        "seconds": elapsed,
    }


async def measure_lock(upstream: Upstream, order_id: str, data_dir: Path, *, runs: int) -> dict[str, Any]:
    """Both lock figures, on a private Redis."""
    with redis_server() as redis_url:
        overhead = await _overhead(redis_url, runs)
        together = await _two_processes(upstream, order_id, redis_url, data_dir)
    return {"overhead": overhead, "two_processes": together}
