"""The invalidation step every mutation runs before it returns, and what happens when it fails.

A write bumps the store's list generation and the order's write counter and drops the
order's entry, atomically and in one round trip (``OrderCache.invalidate``). Bumping the
generation retires every cached list page of the store; bumping the order's counter makes
any read that overlapped the write throw its fill away (``GetOrder``, ``fill_from_page``).

:class:`Invalidations` adds two things for the use cases that own a write:

- **The write's answer fills the cache.** The saved order (the PUT's answer) is stored right
  after the invalidation, so the read an agent makes just after a write is a hit. The entry
  is kept only if the order's counter still holds the value our invalidation gave it, so a
  write that slipped in between (a delete, say) never leaves our copy behind.
- **A failed invalidation is retried in the background** (every ``retry_every`` seconds)
  until it succeeds or ``ttl`` seconds have passed, when every entry it was meant to remove
  has expired anyway. Meanwhile this process bypasses the cache for that order and for the
  store's list pages. Other processes sharing the cache can still serve the old entry until
  the invalidation lands or the entry expires: at most ``ttl`` seconds.
"""

from __future__ import annotations

import logging
from types import TracebackType

import anyio
import anyio.abc

from orderdesk_mcp.domain.cache_keys import generation_key, order_key, order_version_key
from orderdesk_mcp.domain.cached_orders import order_to_cache
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock

__all__ = ["Invalidations", "invalidate_order"]

_log = logging.getLogger(__name__)


def _plan(store: StoreRef, order_id: str | None) -> tuple[list[str], list[str]]:
    if order_id is None:
        return [generation_key(store)], []
    return [generation_key(store), order_version_key(store, order_id)], [order_key(store, order_id)]


async def invalidate_order(cache: OrderCache, store: StoreRef, order_id: str | None) -> bool:
    """Drop the order's entry and retire every cached list page of the store, in one round trip.

    Returns False when the cache backend failed (the invalidation may not have happened).
    """
    counters, keys = _plan(store, order_id)
    return await cache.invalidate(counters=counters, keys=keys) is not None


class Invalidations:
    """Invalidation with a write fill and a memory of failures (see the module docstring).

    An async context manager: the lifespan enters it, which starts nothing until an
    invalidation fails; leaving it stops any retry still running.
    """

    def __init__(self, *, cache: OrderCache, clock: Clock, ttl: float, retry_every: float = 0.5) -> None:
        self._cache = cache
        self._clock = clock
        self._ttl = ttl
        self._retry_every = retry_every
        self._pending: dict[tuple[StoreRef, str | None], float] = {}
        self._tasks: anyio.abc.TaskGroup | None = None
        self._retrying = False

    async def __aenter__(self) -> Invalidations:
        self._tasks = anyio.create_task_group()
        await self._tasks.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        tasks, self._tasks = self._tasks, None
        if tasks is not None:
            tasks.cancel_scope.cancel()
            await tasks.__aexit__(None, None, None)  # the caller's own error is not ours to wrap

    @property
    def pending(self) -> int:
        """Invalidations that failed and are still being retried."""
        self._expire()
        return len(self._pending)

    def bypassing(self, store: StoreRef, order_id: str | None = None) -> bool:
        """Whether this process must not trust the cache for the order (None: the store's lists)."""
        if not self._pending:
            return False
        self._expire()
        if order_id is None:
            return any(s == store for s, _ in self._pending)
        return (store, order_id) in self._pending or (store, None) in self._pending

    async def after_write(self, store: StoreRef, order_id: str | None, saved: Order | None = None) -> None:
        """Invalidate what the write made stale, then fill the order's entry from ``saved``."""
        counters, keys = _plan(store, order_id)
        with anyio.CancelScope(shield=True):  # each cache op is itself time-bounded
            bumped = await self._cache.invalidate(counters=counters, keys=keys)
            if bumped is None:
                self._remember(store, order_id)
                return
            if saved is None or order_id is None or self._ttl <= 0:
                return
            key = order_key(store, order_id)
            await self._cache.set(key, order_to_cache(saved), ttl=self._ttl)
            if await self._cache.get_counter(order_version_key(store, order_id)) != bumped[-1]:
                await self._cache.delete(key)  # another write landed since ours: keep nothing

    def _remember(self, store: StoreRef, order_id: str | None) -> None:
        self._pending[(store, order_id)] = self._clock.monotonic() + self._ttl
        _log.warning(
            "cache invalidation of %s in store %s failed; retrying in the background for up to %.0f s, "
            "reading it upstream meanwhile",
            f"order {order_id}" if order_id else "the order lists",
            store.store_id,
            self._ttl,
        )
        if self._tasks is not None and not self._retrying:
            self._retrying = True
            self._tasks.start_soon(self._retry)

    def _expire(self) -> None:
        now = self._clock.monotonic()
        for target, until in list(self._pending.items()):
            if until <= now:
                del self._pending[target]

    async def _retry(self) -> None:
        try:
            while self._pending:
                await self._clock.sleep(self._retry_every)
                self._expire()
                for store, order_id in list(self._pending):
                    if await invalidate_order(self._cache, store, order_id):
                        self._pending.pop((store, order_id), None)
        finally:
            self._retrying = False
