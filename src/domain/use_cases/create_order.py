"""CreateOrder: validate, then create exactly once.

- Everything OrderDesk would refuse is named before any request is sent.
- Without a ``source_id`` one is generated (``odmcp-…``), so an interrupted create can
  always be reconciled by looking the order up by ``source_id`` instead of resending blindly.
- An ``idempotency_key`` is claimed in the cache backend (24 h, shared through Redis): a
  repeat returns the first result (``created: False``); the same key with another body is
  refused; a concurrent repeat waits for the first to finish.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from domain.cache_keys import idempotency_key
from domain.cached_orders import order_from_cache, order_to_cache
from domain.commands import CreateOrderCommand
from domain.errors import (
    IdempotencyMismatch,
    IdempotencyUnavailable,
    InvalidRequest,
    OrderDeskError,
    OutcomeUnknown,
)
from domain.order import Order, StoreRef
from domain.order_rules import check_new_order
from domain.pagination import OrderQuery
from domain.results import CreatedOrder
from domain.use_cases._audit import audit_mutation
from domain.use_cases.cache_invalidation import invalidate_order
from ports.audit import AuditLog
from ports.cache import OrderCache
from ports.clock import Clock
from ports.gateway import OrderGateway

__all__ = ["CreateOrder"]

TOOL = "orders.create"
_POLL = 0.05


def _body_hash(order: dict[str, Any]) -> str:
    canonical = json.dumps(order, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class CreateOrder:
    def __init__(
        self,
        *,
        gateway: OrderGateway,
        cache: OrderCache,
        audit: AuditLog,
        clock: Clock,
        idempotency_ttl: float = 86_400.0,
        wait_for_peer: float = 10.0,
    ) -> None:
        self._gateway = gateway
        self._cache = cache
        self._audit = audit
        self._clock = clock
        self._ttl = idempotency_ttl
        self._wait = wait_for_peer

    async def __call__(self, cmd: CreateOrderCommand) -> CreatedOrder:
        """Create the order, or replay the first result of the same idempotency key.

        Raises:
            InvalidRequest: naming every missing or wrong field.
            IdempotencyMismatch: the key was used for a different order.
            IdempotencyUnavailable: the key's record cannot be read, or its create is still running.
            OutcomeUnknown: OrderDesk did not confirm and the order could not be found by source_id.
            UpstreamRejected, and the gateway's other upstream errors.
        """
        order_id: str | None = None
        try:
            problems = check_new_order(cmd.order)
            if problems:
                raise InvalidRequest(problems)
            if cmd.idempotency_key is None:
                result = CreatedOrder(order=await self._create(cmd.store, cmd.order, None), created=True)
            else:
                result = await self._create_once(cmd, cmd.idempotency_key)
            order_id = result.order.id
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=order_id,
                outcome="ok" if result.created else "replayed",
            )  # fmt: skip
            return result
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=order_id, outcome="error",
                error=str(exc),
            )  # fmt: skip
            raise

    async def _create_once(self, cmd: CreateOrderCommand, key: str) -> CreatedOrder:
        record_key = idempotency_key(cmd.store, key)
        body = _body_hash(cmd.order)
        if await self._cache.add(record_key, {"state": "pending", "body": body}, ttl=self._ttl):
            try:
                order = await self._create(cmd.store, cmd.order, key)
            except BaseException:
                await self._cache.delete(record_key)  # nothing was created: free the key
                raise
            done = {"state": "done", "body": body, "order": order_to_cache(order)}
            await self._cache.set(record_key, done, ttl=self._ttl)
            return CreatedOrder(order=order, created=True)
        waited = 0.0
        while True:
            record = await self._cache.get(record_key)
            if not isinstance(record, dict):
                raise IdempotencyUnavailable(key, "its record cannot be read right now")
            if record.get("body") != body:
                raise IdempotencyMismatch(key)
            if record.get("state") == "done":
                replayed = order_from_cache(record.get("order"))
                if replayed is None:
                    raise IdempotencyUnavailable(key, "its record is damaged")
                return CreatedOrder(order=replayed, created=False)
            if waited >= self._wait:
                raise IdempotencyUnavailable(key, "a create with this key is still in progress")
            await self._clock.sleep(_POLL)
            waited += _POLL

    async def _create(self, store: StoreRef, order: dict[str, Any], key: str | None) -> Order:
        doc = dict(order)
        if not doc.get("source_id"):
            seed = hashlib.sha256(key.encode()).hexdigest()[:16] if key else secrets.token_hex(8)
            doc["source_id"] = f"odmcp-{seed}"
        try:
            created = await self._gateway.create(store, doc)
        except OutcomeUnknown:
            created = await self._reconcile(store, doc)
        await invalidate_order(self._cache, store, created.id)
        return created

    async def _reconcile(self, store: StoreRef, doc: dict[str, Any]) -> Order:
        """After an unconfirmed create: find it by source_id, else send it once more."""
        found = await self._gateway.list_page(store, OrderQuery(source_id=str(doc["source_id"]), limit=5))
        for order in found.orders:
            if order.view.source_id == doc["source_id"]:
                return order
        return await self._gateway.create(store, doc)
