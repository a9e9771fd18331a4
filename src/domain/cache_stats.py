"""Per-store cache hit and miss counters, read by the benchmark and the operator."""

from __future__ import annotations

import logging

from orderdesk_mcp.domain.cache_keys import store_scope
from orderdesk_mcp.domain.order import StoreRef

__all__ = ["CacheStats"]

_log = logging.getLogger(__name__)


class CacheStats:
    """Counts cache hits and misses per store (``tenant:T:store:S``), in this process only."""

    def __init__(self) -> None:
        self._counts: dict[str, dict[str, int]] = {}

    def _bump(self, store: StoreRef, field: str, what: str) -> None:
        scope = store_scope(store)
        counts = self._counts.get(scope)
        if counts is None:
            counts = self._counts[scope] = {"hits": 0, "misses": 0}
        counts[field] += 1
        _log.debug("cache %s store=%s what=%s", "hit" if field == "hits" else "miss", scope, what)

    def hit(self, store: StoreRef, *, what: str = "order") -> None:
        """Record a read served from the cache (``what``: "order" or "list", for the log line)."""
        self._bump(store, "hits", what)

    def miss(self, store: StoreRef, *, what: str = "order") -> None:
        """Record a read that had to go upstream."""
        self._bump(store, "misses", what)

    def snapshot(self) -> dict[str, dict[str, int]]:
        """A copy of the counters: ``{"tenant:T:store:S": {"hits": n, "misses": m}}``."""
        return {scope: dict(counts) for scope, counts in self._counts.items()}
