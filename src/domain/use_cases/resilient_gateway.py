"""ResilientOrderGateway: the order gateway with rate limiting, retries and deadlines.

Each call runs through :class:`~orderdesk_mcp.domain.use_cases.resilience.Resilience`. A
create is never re-sent after a failure that may have reached OrderDesk.

A PUT (``replace``) is sent exactly once here, whatever the failure: re-sending the same
document after a 429, a 5xx or a lost connection could overwrite a change that landed in the
meantime, and only the caller can read the order again and re-merge its own changes onto it.
:class:`~orderdesk_mcp.domain.use_cases.update_order.UpdateOrder` does exactly that, inside
the order's write lock. Reads, lists, deletes and the connection check keep their retries.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage, OrderQuery
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.use_cases.resilience import Resilience
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.gateway import OrderGateway
from orderdesk_mcp.ports.rate_limiter import RateLimiter

__all__ = ["ResilientOrderGateway"]

T = TypeVar("T")


class ResilientOrderGateway:
    def __init__(
        self,
        *,
        inner: OrderGateway,
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

    async def _call(self, store: StoreRef, op: Callable[[], Awaitable[T]], *, idempotent: bool) -> T:
        return await self._resilience.run(store, op, idempotent=idempotent)

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        return await self._call(store, lambda: self._inner.fetch(store, order_id), idempotent=True)

    async def list_page(self, store: StoreRef, query: OrderQuery) -> OrderPage:
        return await self._call(store, lambda: self._inner.list_page(store, query), idempotent=True)

    async def create(self, store: StoreRef, doc: Mapping[str, Any]) -> Order:
        return await self._call(store, lambda: self._inner.create(store, doc), idempotent=False)

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        """Send the PUT once; any failure goes back to the caller (see the module docstring)."""
        return await self._resilience.run(
            store, lambda: self._inner.replace(store, order_id, doc), idempotent=True, attempts=1
        )

    async def delete(self, store: StoreRef, order_id: str) -> None:
        await self._call(store, lambda: self._inner.delete(store, order_id), idempotent=True)

    async def check_connection(self, store: StoreRef) -> None:
        await self._call(store, lambda: self._inner.check_connection(store), idempotent=True)
