"""ResilientInventoryGateway: inventory through the store's bucket, retries and deadline.

A PUT (``replace_item``) is sent exactly once here, whatever the failure: re-sending the same
item after a 429, a 5xx or a lost connection could overwrite a change that landed meanwhile
(a sale between our read and the retry), and only the caller can read the item again and
re-apply its own change (:class:`~orderdesk_mcp.domain.use_cases.write_rounds.WriteRounds`,
as for orders). Reads and listings keep their retries.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from orderdesk_mcp.domain.inventory import InventoryItem, InventoryPage, InventoryQuery
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.use_cases.resilience import Resilience
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.inventory import InventoryGateway
from orderdesk_mcp.ports.rate_limiter import RateLimiter

__all__ = ["ResilientInventoryGateway"]


class ResilientInventoryGateway:
    def __init__(
        self,
        *,
        inner: InventoryGateway,
        limiter: RateLimiter,
        clock: Clock,
        policy: RetryPolicy,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._inner = inner
        self._resilience = Resilience(limiter=limiter, clock=clock, policy=policy, jitter=jitter)

    @property
    def resilience(self) -> Resilience:
        """The bucket, retries and deadline this gateway runs its calls through (for ``prepaid``)."""
        return self._resilience

    async def inventory_page(self, store: StoreRef, query: InventoryQuery) -> InventoryPage:
        return await self._resilience.run(
            store, lambda: self._inner.inventory_page(store, query), idempotent=True
        )

    async def fetch_item(self, store: StoreRef, item_id: str) -> InventoryItem:
        return await self._resilience.run(
            store, lambda: self._inner.fetch_item(store, item_id), idempotent=True
        )

    async def replace_item(self, store: StoreRef, item_id: str, doc: Mapping[str, Any]) -> None:
        """Send the PUT once; any failure goes back to the caller (see the module docstring)."""
        await self._resilience.run(
            store, lambda: self._inner.replace_item(store, item_id, doc), idempotent=True, attempts=1
        )
