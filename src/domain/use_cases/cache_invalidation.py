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
- **A fill that cannot be kept is removed as reliably** (:meth:`Invalidations.discard`): when a
  write overtook a read's fill, or the check could not be made, the entry is deleted, and a
  delete that fails is remembered and retried like a failed invalidation.
- **A failed invalidation is retried in the background** (every ``retry_every`` seconds)
  until it succeeds or ``ttl`` seconds have passed, when every entry it was meant to remove
  has expired anyway. Meanwhile this process bypasses the cache for that order and for the
  store's list pages. Other processes sharing the cache can still serve the old entry until
  the invalidation lands or the entry expires: at most ``ttl`` seconds.

Inventory writes get the same (``after_inventory_write``, ``bypassing_inventory``), on the
inventory's own keys: the item's entry and counter, and the store's inventory list generation.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anyio

from orderdesk_mcp.domain.background import BackgroundJob
from orderdesk_mcp.domain.cache_keys import generation_key, order_key, order_version_key
from orderdesk_mcp.domain.cached_orders import order_to_cache
from orderdesk_mcp.domain.inventory_cache_keys import (
    inventory_generation_key,
    inventory_item_key,
    inventory_version_key,
)
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock

__all__ = ["Invalidations", "invalidate_order"]

_log = logging.getLogger(__name__)

_ORDER, _INVENTORY = "order", "inventory"
_DESCRIBED = {_ORDER: ("order ", "the order lists"), _INVENTORY: ("inventory item ", "the inventory lists")}
# What a failed invalidation was about: the store, the kind, and the order or item (None: lists only).
_Target = tuple[StoreRef, str, str | None]


def _plan(target: _Target) -> tuple[list[str], list[str]]:
    store, kind, ident = target
    if kind == _INVENTORY:
        if ident is None:
            return [inventory_generation_key(store)], []
        return [inventory_generation_key(store), inventory_version_key(store, ident)], [
            inventory_item_key(store, ident)
        ]
    if ident is None:
        return [generation_key(store)], []
    return [generation_key(store), order_version_key(store, ident)], [order_key(store, ident)]


async def _invalidate(cache: OrderCache, target: _Target) -> list[int] | None:
    counters, keys = _plan(target)
    return await cache.invalidate(counters=counters, keys=keys)


async def invalidate_order(cache: OrderCache, store: StoreRef, order_id: str | None) -> bool:
    """Drop the order's entry and retire every cached list page of the store, in one round trip.

    Returns False when the cache backend failed (the invalidation may not have happened).
    """
    return await _invalidate(cache, (store, _ORDER, order_id)) is not None


class Invalidations(BackgroundJob):
    """Invalidation with a write fill and a memory of failures (see the module docstring).

    An async context manager: the lifespan enters it, which starts nothing until an
    invalidation fails; leaving it stops any retry still running.
    """

    def __init__(self, *, cache: OrderCache, clock: Clock, ttl: float, retry_every: float = 0.5) -> None:
        self._cache = cache
        self._clock = clock
        self._ttl = ttl
        self._retry_every = retry_every
        self._pending: dict[_Target, float] = {}

    @property
    def pending(self) -> int:
        """Invalidations that failed and are still being retried."""
        self._expire()
        return len(self._pending)

    def bypassing(self, store: StoreRef, order_id: str | None = None) -> bool:
        """Whether this process must not trust the cache for the order (None: the store's lists)."""
        return self._bypassing(store, _ORDER, order_id)

    def bypassing_inventory(self, store: StoreRef, item_id: str | None = None) -> bool:
        """Whether this process must not trust the cache for the item (None: the inventory lists)."""
        return self._bypassing(store, _INVENTORY, item_id)

    def _bypassing(self, store: StoreRef, kind: str, ident: str | None) -> bool:
        if not self._pending:
            return False
        self._expire()
        if ident is None:
            return any(s == store and k == kind for s, k, _ in self._pending)
        return (store, kind, ident) in self._pending or (store, kind, None) in self._pending

    async def after_write(self, store: StoreRef, order_id: str | None, saved: Order | None = None) -> None:
        """Invalidate what the write made stale, then fill the order's entry from ``saved``."""
        target = (store, _ORDER, order_id)
        with anyio.CancelScope(shield=True):  # each cache op is itself time-bounded
            bumped = await _invalidate(self._cache, target)
            if bumped is None:
                self._remember(target)
                return
            if saved is None or order_id is None or self._ttl <= 0:
                return
            key = order_key(store, order_id)
            await self._cache.set(key, order_to_cache(saved), ttl=self._ttl)
            if await self._cache.get_counter(order_version_key(store, order_id)) != bumped[-1]:
                await self._discard([target])  # another write landed since ours, or the check failed

    async def discard(self, store: StoreRef, order_ids: Sequence[str]) -> None:
        """Remove the entries of orders whose fill could not be kept: a write overtook it, or the
        check could not be made. Like an invalidation, a removal that fails is remembered, retried
        in the background and the orders read upstream here meanwhile: a plain delete that failed
        would leave a possibly stale entry for its whole TTL."""
        await self._discard([(store, _ORDER, order_id) for order_id in order_ids])

    async def discard_inventory_item(self, store: StoreRef, item_id: str) -> None:
        """:meth:`discard` for an inventory item's entry."""
        await self._discard([(store, _INVENTORY, item_id)])

    async def _discard(self, targets: Sequence[_Target]) -> None:
        keys = [key for target in targets for key in _plan(target)[1]]
        if not keys:
            return
        with anyio.CancelScope(shield=True):  # each cache op is itself time-bounded
            # No counter is bumped: only the entries go, and no list page is retired with them.
            if await self._cache.invalidate(counters=(), keys=keys) is None:
                for target in targets:
                    self._remember(target)

    async def after_inventory_write(self, store: StoreRef, item_id: str) -> None:
        """Invalidate the item and the store's inventory pages; remembered and retried if that fails."""
        target = (store, _INVENTORY, item_id)
        with anyio.CancelScope(shield=True):
            if await _invalidate(self._cache, target) is None:
                self._remember(target)

    def _remember(self, target: _Target) -> None:
        store, kind, ident = target
        self._pending[target] = self._clock.monotonic() + self._ttl
        one, lists = _DESCRIBED[kind]
        _log.warning(
            "cache invalidation of %s in store %s failed; retrying in the background for up to %.0f s, "
            "reading it upstream meanwhile",
            one + ident if ident else lists,
            store.store_id,
            self._ttl,
        )
        self._start_job(self._retry)

    def _expire(self) -> None:
        now = self._clock.monotonic()
        for target, until in list(self._pending.items()):
            if until <= now:
                del self._pending[target]

    async def _retry(self) -> None:
        while self._pending:
            await self._clock.sleep(self._retry_every)
            self._expire()
            for target in list(self._pending):
                if await _invalidate(self._cache, target) is not None:
                    self._pending.pop(target, None)
