"""ResilientOrderActions: folder moves and history notes through the bucket, retries and deadline.

Neither is re-sent after a failure that may have reached OrderDesk (``idempotent=False``): a
second move would run the folder's rules again, a second note would be a second note.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.reach_results import MoveReport
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.use_cases.resilience import Resilience
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.order_actions import OrderActions
from orderdesk_mcp.ports.rate_limiter import RateLimiter

__all__ = ["ResilientOrderActions"]


class ResilientOrderActions:
    def __init__(
        self,
        *,
        inner: OrderActions,
        limiter: RateLimiter,
        clock: Clock,
        policy: RetryPolicy,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._inner = inner
        self._resilience = Resilience(limiter=limiter, clock=clock, policy=policy, jitter=jitter)

    async def move_orders(
        self, store: StoreRef, order_ids: Sequence[str], folder_id: int
    ) -> tuple[MoveReport, ...]:
        return await self._resilience.run(
            store, lambda: self._inner.move_orders(store, order_ids, folder_id), idempotent=False
        )

    async def add_history_note(self, store: StoreRef, order_id: str, note: str) -> Order:
        return await self._resilience.run(
            store, lambda: self._inner.add_history_note(store, order_id, note), idempotent=False
        )
