"""The cache port: a small key/value store of JSON-compatible values with TTLs.

Adapters must never fail a call because the cache failed: an unreachable backend reads as
a miss and logs a warning. Keys are built by ``domain.cache_keys`` and are tenant- and
store-scoped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

__all__ = ["OrderCache"]


class OrderCache(Protocol):
    async def get(self, key: str) -> Any | None:
        """Return the value stored at ``key`` (JSON-compatible builtins), or None on a miss."""
        ...

    async def set(self, key: str, value: Any, *, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds."""
        ...

    async def add(self, key: str, value: Any, *, ttl: float) -> bool:
        """Store ``value`` only if ``key`` is absent; True when this call stored it."""
        ...

    async def delete(self, *keys: str) -> None:
        """Remove the keys (absent keys are fine)."""
        ...

    async def incr(self, key: str) -> int:
        """Atomically add one to the counter at ``key`` (absent counts as 0) and return it.

        When the backend is unreachable, return -1: callers treat that as "unknown
        generation" and skip the cache.
        """
        ...

    async def get_counter(self, key: str) -> int:
        """Return the counter at ``key`` (0 when absent; -1 when the backend is unreachable)."""
        ...

    async def get_counters(self, keys: Sequence[str]) -> list[int]:
        """The counters at ``keys`` in one round trip (0 when absent; all -1 when unreachable)."""
        ...

    async def set_many(self, values: Mapping[str, Any], *, ttl: float) -> None:
        """Store every value for ``ttl`` seconds, in one round trip."""
        ...

    async def invalidate(self, *, counters: Sequence[str], keys: Sequence[str]) -> list[int] | None:
        """Add one to each counter and remove ``keys``, atomically and in one round trip.

        Returns the counters' new values, or None when the backend failed (then any part of
        it may or may not have happened, and the caller retries it).
        """
        ...
