"""Peak RSS of a fresh process that caches 100,000 orders in the memory cache.

Each mode runs in its own subprocess (``python -m bench --rss-child MODE``) so one
measurement's heap never inflates another's: ``baseline`` imports everything and caches
nothing, ``unbounded`` keeps all 100,000 orders, ``bounded`` uses the server's default
bounds (``cache_max_entries`` / ``cache_max_bytes``).
"""

from __future__ import annotations

import resource
import subprocess
import sys
from typing import Any

import anyio

from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.adapters.simulator._seed import sample_orders
from orderdesk_mcp.adapters.system_clock import SystemClock
from orderdesk_mcp.domain.cache_keys import order_key
from orderdesk_mcp.domain.cached_orders import order_to_cache
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.entrypoints.settings import Settings

__all__ = ["COUNT", "MODES", "measure_rss", "rss_child"]

COUNT = 100_000
MODES = ("baseline", "unbounded", "bounded")


def _peak_mib() -> float:
    """VmHWM from /proc when there is one, else ru_maxrss (KiB on Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _fill(mode: str) -> tuple[float, int, int]:
    defaults = Settings()
    store = StoreRef(tenant="bench", store_id="100001")
    if mode == "bounded":
        cache = MemoryOrderCache(
            clock=SystemClock(), max_entries=defaults.cache_max_entries, max_bytes=defaults.cache_max_bytes
        )
    else:
        cache = MemoryOrderCache(clock=SystemClock(), max_entries=COUNT * 2, max_bytes=1 << 40)
    templates = sample_orders(50)
    for n in range(0 if mode == "baseline" else COUNT):
        doc = templates[n % len(templates)] | {"id": str(600_000 + n), "email": f"shopper{n}@example.com"}
        await cache.set(order_key(store, doc["id"]), order_to_cache(Order.from_document(doc)), ttl=3600)
    return _peak_mib(), cache.entry_count, cache.bytes_used


def rss_child(mode: str) -> None:
    """Fill the cache for ``mode`` and print ``peak_mib entries bytes`` on stdout."""
    peak, entries, used = anyio.run(_fill, mode)
    sys.stdout.write(f"{peak:.1f} {entries} {used}\n")


def measure_rss() -> dict[str, dict[str, Any]]:
    """Peak RSS (MiB), entries kept and cache bytes accounted, per mode."""
    defaults = Settings()
    results: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        out = subprocess.run(
            [sys.executable, "-m", "bench", "--rss-child", mode],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout.split()
        results[mode] = {"peak_rss_mib": float(out[0]), "entries": int(out[1]), "cache_bytes": int(out[2])}
    results["bounded"]["bounds"] = {
        "max_entries": defaults.cache_max_entries,
        "max_bytes": defaults.cache_max_bytes,
    }
    return results
