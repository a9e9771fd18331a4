"""ResilientShipmentGateway: shipments through the store's bucket, retries and deadline.

Adding a shipment is never re-sent after a failure that may have reached OrderDesk
(``idempotent=False``): ``AddShipment`` reconciles by listing the order's shipments instead.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.shipment import NewShipment, Shipment
from orderdesk_mcp.domain.use_cases.resilience import Resilience
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.rate_limiter import RateLimiter
from orderdesk_mcp.ports.shipments import ShipmentGateway

__all__ = ["ResilientShipmentGateway"]


class ResilientShipmentGateway:
    def __init__(
        self,
        *,
        inner: ShipmentGateway,
        limiter: RateLimiter,
        clock: Clock,
        policy: RetryPolicy,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._inner = inner
        self._resilience = Resilience(limiter=limiter, clock=clock, policy=policy, jitter=jitter)

    async def shipments(self, store: StoreRef, order_id: str) -> tuple[Shipment, ...]:
        return await self._resilience.run(
            store, lambda: self._inner.shipments(store, order_id), idempotent=True
        )

    async def add_shipment(self, store: StoreRef, order_id: str, shipment: NewShipment) -> None:
        await self._resilience.run(
            store, lambda: self._inner.add_shipment(store, order_id, shipment), idempotent=False
        )

    async def delete_shipment(self, store: StoreRef, order_id: str, shipment_id: str) -> None:
        await self._resilience.run(
            store, lambda: self._inner.delete_shipment(store, order_id, shipment_id), idempotent=True
        )
