"""FakeOrderCache: a dict-backed :class:`~orderdesk_mcp.ports.cache.OrderCache` that records deletions.

Values are copied through JSON on the way in and out, as a real backend would, so a test can
never pass because a caller kept a reference to cached state. TTLs run on the clock port.
``round_trips`` counts backend round trips; ``down = True`` makes every operation fail the way
an unreachable Redis does (misses, dropped writes, -1 counters, ``invalidate`` -> None).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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
        self.round_trips = 0
        self.down = False  # while True every operation fails as an unreachable backend would

    def _trip(self) -> bool:
        """Count one round trip; False when the backend is down."""
        self.round_trips += 1
        return not self.down

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
        if not self._trip():
            return None
        blob = self._live(key)
        return None if blob is None else json.loads(blob)

    async def set(self, key: str, value: Any, *, ttl: float) -> None:
        if not self._trip():
            return
        self.entries[key] = (json.dumps(value), self._clock.monotonic() + ttl)

    async def add(self, key: str, value: Any, *, ttl: float) -> bool:
        if not self._trip() or self._live(key) is not None:
            return False
        self.entries[key] = (json.dumps(value), self._clock.monotonic() + ttl)
        return True

    async def delete(self, *keys: str) -> None:
        if not self._trip():
            return
        for key in keys:
            self.deleted.append(key)
            self.entries.pop(key, None)
            self.counters.pop(key, None)

    async def incr(self, key: str) -> int:
        if not self._trip():
            return -1
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    async def get_counter(self, key: str) -> int:
        if not self._trip():
            return -1
        return self.counters.get(key, 0)

    async def get_counters(self, keys: Sequence[str]) -> list[int]:
        if not self._trip():
            return [-1] * len(keys)
        return [self.counters.get(key, 0) for key in keys]

    async def set_many(self, values: Mapping[str, Any], *, ttl: float) -> None:
        if not self._trip():
            return
        for key, value in values.items():
            self.entries[key] = (json.dumps(value), self._clock.monotonic() + ttl)

    async def invalidate(self, *, counters: Sequence[str], keys: Sequence[str]) -> list[int] | None:
        if not self._trip():
            return None
        bumped = []
        for key in counters:
            self.counters[key] = self.counters.get(key, 0) + 1
            bumped.append(self.counters[key])
        for key in keys:
            self.deleted.append(key)
            self.entries.pop(key, None)
        return bumped


_cache: OrderCache = FakeOrderCache(FakeClock())
