"""Peak RSS of a fresh process that caches 100,000 orders in the memory cache."""

from __future__ import annotations

import resource
import subprocess
import sys

import anyio

from adapters.memory_cache import MemoryOrderCache
from adapters.simulator._seed import sample_orders
from adapters.system_clock import SystemClock
from domain.cache_keys import order_key
from domain.cached_orders import order_to_cache
from domain.order import Order, StoreRef

__all__ = ["measure_rss", "rss_child"]

COUNT = 100_000


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _fill(bounded: bool) -> tuple[float, int]:
    store = StoreRef(tenant="bench", store_id="1")
    cache = (
        MemoryOrderCache(clock=SystemClock())
        if bounded
        else MemoryOrderCache(clock=SystemClock(), max_entries=COUNT * 2, max_bytes=1 << 40)
    )
    template = sample_orders(1)[0]
    for n in range(COUNT):
        doc = dict(template) | {"id": str(600_000 + n), "email": f"shopper{n}@example.com"}
        await cache.set(order_key(store, doc["id"]), order_to_cache(Order.from_document(doc)), ttl=3600)
    return _peak_mib(), cache.entry_count


def rss_child(mode: str) -> None:
    peak, entries = anyio.run(_fill, mode == "bounded")
    sys.stdout.write(f"{peak:.1f} {entries}\n")


def measure_rss() -> dict[str, dict[str, float]]:
    results = {}
    for mode in ("unbounded", "bounded"):
        out = subprocess.run(
            [sys.executable, "-m", "bench", "--rss-child", mode], capture_output=True, text=True, check=True
        ).stdout.split()
        results[mode] = {"peak_rss_mib": float(out[0]), "entries": float(out[1])}
    return results
