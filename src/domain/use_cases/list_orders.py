"""ListOrders: one page of a store's orders, read through the cache.

Pages are keyed by the store's generation and by every filter and paging argument, so two
searches never share an entry and any write (which bumps the generation) retires every
cached page of the store at once. A page fetched before a write is stored under the old
generation, which nobody reads any more.

A folder name (``status``) is resolved against the store's folders first (any case), so an
unknown name is an error naming the store's folders instead of an empty page, and "new" and
"New" share one cache entry.

A page fetched upstream also fills the per-order cache for the orders it returned
(:func:`~orderdesk_mcp.domain.use_cases.get_order.fill_from_page`), so a get right after a
list is a hit.

:meth:`ListOrders.shaped` also caches what the caller makes of a fresh page (a tool's result),
next to the page and under the same generation: repeating a list then reads that one small
entry instead of decoding fifty full documents and summarising them again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from orderdesk_mcp.domain.cache_keys import generation_key, list_key
from orderdesk_mcp.domain.cache_stats import CacheStats
from orderdesk_mcp.domain.cached_orders import page_from_cache, page_to_cache
from orderdesk_mcp.domain.commands import ListOrdersCommand
from orderdesk_mcp.domain.context import record_cache
from orderdesk_mcp.domain.pagination import OrderPage
from orderdesk_mcp.domain.single_flight import SingleFlight
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.domain.use_cases.get_order import fill_from_page
from orderdesk_mcp.domain.use_cases.list_folders import ListFolders
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.gateway import OrderGateway

__all__ = ["ListOrders", "Shaping"]


# What ListOrders.shaped asks of its caller: (variant, shape), read when needed.
Shaping = Callable[[], Awaitable[tuple[str, Callable[[OrderPage], dict[str, Any]]]]]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class ListOrders:
    def __init__(
        self,
        *,
        gateway: OrderGateway,
        cache: OrderCache,
        ttl: float,
        stats: CacheStats,
        flights: SingleFlight[OrderPage] | None = None,
        folders: ListFolders | None = None,
        invalidations: Invalidations | None = None,
    ) -> None:
        self._gateway = gateway
        self._cache = cache
        self._ttl = ttl
        self._stats = stats
        self._flights: SingleFlight[OrderPage] = flights if flights is not None else SingleFlight()
        self._folders = folders
        self._invalidations = invalidations

    async def __call__(self, cmd: ListOrdersCommand) -> OrderPage:
        """Return the page.

        Raises:
            UnknownFolder: ``folder_name`` names no folder of the store (checked when folders are known).
            The gateway's upstream errors (never cached).
        """
        cmd = await self._canonical_folder(cmd)
        page, _ = await self._page(cmd, await self._generation(cmd))
        return page

    async def shaped(self, cmd: ListOrdersCommand, shaping: Shaping) -> dict[str, Any]:
        """The page as the caller shapes it, from the cache when it was shaped the same way before.

        ``shaping()`` returns a shape function and its variant: a text naming whatever else the
        shape depends on (the command's view and fields are added here), such as folder names
        and a size budget. It is called after the page is read, so an OrderDesk failure costs
        only the list's requests, and before that only when a stored shape is there to check.
        A shape is stored only when its page has just come from OrderDesk, with the page's TTL
        and generation: it never outlives the page it was made from, and a write retires both.

        Raises:
            The errors of :meth:`__call__`.
        """
        cmd = await self._canonical_folder(cmd)
        generation = await self._generation(cmd)
        if generation < 0:
            page, _ = await self._page(cmd, generation)
            return (await shaping())[1](page)
        identity = f"{cmd.view}|{cmd.fields!r}"
        shape_key = f"{list_key(cmd.store, generation, cmd.query)}:shape:{_digest(identity)}"
        stored = await self._cache.get(shape_key)
        if isinstance(stored, dict) and isinstance(stored.get("result"), dict):
            variant, _ = await shaping()
            if stored.get("variant") == variant:
                record_cache("list", hit=True)
                self._stats.hit(cmd.store, what="list")
                result: dict[str, Any] = stored["result"]
                return result
        page, fresh = await self._page(cmd, generation)
        variant, shape = await shaping()
        shaped = shape(page)
        if fresh:
            await self._cache.set(shape_key, {"variant": variant, "result": shaped}, ttl=self._ttl)
        return shaped

    async def _generation(self, cmd: ListOrdersCommand) -> int:
        """The store's list generation; -1 when no cached page may be trusted."""
        if self._invalidations is not None and self._invalidations.bypassing(cmd.store):
            return -1  # a write's invalidation is still being retried: trust no page
        return await self._cache.get_counter(generation_key(cmd.store))

    async def _page(self, cmd: ListOrdersCommand, generation: int) -> tuple[OrderPage, bool]:
        """The page, and whether it has just come from OrderDesk."""
        if generation < 0:
            # Cache unusable: without the generation a page could outlive a write.
            self._stats.miss(cmd.store, what="list")
            record_cache("list", hit=False)
            return await self._gateway.list_page(cmd.store, cmd.query), True
        key = list_key(cmd.store, generation, cmd.query)
        cached = page_from_cache(await self._cache.get(key))
        record_cache("list", hit=cached is not None)
        if cached is not None:
            self._stats.hit(cmd.store, what="list")
            return cached, False
        self._stats.miss(cmd.store, what="list")
        return await self._flights.run(key, lambda: self._fill(cmd, key, generation)), True

    async def _canonical_folder(self, cmd: ListOrdersCommand) -> ListOrdersCommand:
        name = cmd.query.folder_name
        if name is None or self._folders is None:
            return cmd
        folder = await self._folders.resolve(cmd.store, name)
        query = msgspec.structs.replace(cmd.query, folder_name=folder.name)
        return msgspec.structs.replace(cmd, query=query)

    async def _fill(self, cmd: ListOrdersCommand, key: str, generation: int) -> OrderPage:
        page = await self._gateway.list_page(cmd.store, cmd.query)
        await self._cache.set(key, page_to_cache(page), ttl=self._ttl)
        await fill_from_page(
            self._cache, cmd.store, page, ttl=self._ttl, generation=generation,
            invalidations=self._invalidations,
        )  # fmt: skip
        return page
