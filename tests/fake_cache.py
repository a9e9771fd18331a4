"""FakeOrderCache: a dict-backed :class:`~orderdesk_mcp.ports.cache.OrderCache` that records deletions.

Values are copied through JSON on the way in and out, as a real backend would, so a test can
never pass because a caller kept a reference to cached state. TTLs run on the clock port.
"""

from __future__ import annotations

import json
from typing import Any

from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from tests.fakes import FakeClock

__all__ = ["FakeOrderCache"]


class FakeOrderCache:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.entries: dict[str, tuple[str, float]] = {}
        self.counters: dict[str, int] = {}
        self.deleted: list[str] = []

    def _live(self, key: str) -> str | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        blob, expires = entry
        if expires <= self._clock.monotonic():
            del self.entries[key]
            return None
        return blob

    async def get(self, key: str) -> Any | None:
        blob = self._live(key)
        return None if blob is None else json.loads(blob)

    async def set(self, key: str, value: Any, *, ttl: float) -> None:
        self.entries[key] = (json.dumps(value), self._clock.monotonic() + ttl)

    async def add(self, key: str, value: Any, *, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl=ttl)
        return True

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self.deleted.append(key)
            self.entries.pop(key, None)

    async def incr(self, key: str) -> int:
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    async def get_counter(self, key: str) -> int:
        return self.counters.get(key, 0)


_cache: OrderCache = FakeOrderCache(FakeClock())
