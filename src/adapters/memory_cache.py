"""The in-process cache: an LRU bounded by entry count and by bytes, with TTLs.

Values are stored msgspec-JSON-encoded, so a caller can never mutate cached state through a
returned object and each entry's size is known exactly. Expiry uses the clock port's
monotonic time, so tests drive it with a fake clock.

Counters (``incr``/``get_counter``) live apart from the LRU and are never evicted: there is
one per store (the list generation), and losing one would let retired list pages come back.
Idempotency claims made with ``add`` are ordinary entries: they expire with their TTL and,
under pressure, are evicted least-recently-used first like any other entry.

This adapter is also the cache fake for tests: it passes the same contract suite as Redis.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import msgspec

from orderdesk_mcp.adapters._lifespan import NoOpLifespan
from orderdesk_mcp.ports.clock import Clock

__all__ = ["ENTRY_OVERHEAD_BYTES", "MemoryOrderCache"]

# A rough per-entry cost of the key object, the tuple and the dict slot, so many tiny
# entries still count against ``max_bytes``.
ENTRY_OVERHEAD_BYTES = 128

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class _Entry(NamedTuple):
    blob: bytes
    expires_at: float
    size: int


class MemoryOrderCache(NoOpLifespan):
    """An :class:`~orderdesk_mcp.ports.cache.OrderCache` in this process's memory.

    A ``ttl`` of zero or less stores nothing (``set`` then just removes the key).
    """

    def __init__(self, *, clock: Clock, max_entries: int = 10_000, max_bytes: int = 64 * 1024 * 1024) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be positive")
        self._clock = clock
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._counters: dict[str, int] = {}

    @property
    def entry_count(self) -> int:
        """Entries held now (expired ones included until they are touched or evicted)."""
        return len(self._entries)

    @property
    def bytes_used(self) -> int:
        """Bytes the entries account for: key, encoded value and a fixed overhead each."""
        return self._bytes

    async def get(self, key: str) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self._clock.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return _decode(entry.blob)

    async def set(self, key: str, value: Any, *, ttl: float) -> None:
        """Store ``value``; a value larger than ``max_bytes`` on its own is not cached.

        Raises:
            TypeError: ``value`` is not JSON-compatible (a caller bug, not a cache failure).
        """
        self._store(key, _encode(value), ttl)

    async def add(self, key: str, value: Any, *, ttl: float) -> bool:
        """Store ``value`` only if ``key`` holds no live entry; True when this call stored it.

        Raises:
            TypeError: ``value`` is not JSON-compatible.
        """
        blob = _encode(value)
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at > self._clock.monotonic():
            return False
        return self._store(key, blob, ttl)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._drop(key)
            self._counters.pop(key, None)

    async def incr(self, key: str) -> int:
        value = self._counters.get(key, 0) + 1
        self._counters[key] = value
        return value

    async def get_counter(self, key: str) -> int:
        return self._counters.get(key, 0)

    async def get_counters(self, keys: Sequence[str]) -> list[int]:
        return [self._counters.get(key, 0) for key in keys]

    async def set_many(self, values: Mapping[str, Any], *, ttl: float) -> None:
        """Store every value (see :meth:`set`). Raises: TypeError for a non-JSON value."""
        for key, value in values.items():
            self._store(key, _encode(value), ttl)

    async def invalidate(self, *, counters: Sequence[str], keys: Sequence[str]) -> list[int] | None:
        bumped = [await self.incr(key) for key in counters]
        for key in keys:
            self._drop(key)
        return bumped

    def _store(self, key: str, blob: bytes, ttl: float) -> bool:
        self._drop(key)
        size = len(key) + len(blob) + ENTRY_OVERHEAD_BYTES
        if size > self._max_bytes or ttl <= 0:
            return False
        self._entries[key] = _Entry(blob, self._clock.monotonic() + ttl, size)
        self._bytes += size
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size
        return True

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size
