"""CreateOrder: validate, then create exactly once.

- Everything OrderDesk would refuse is named before any request is sent.
- Without a ``source_id`` one is generated (``odmcp-`` and 16 hex digits: a hash of the
  idempotency key, or random without one), so an unconfirmed create can always be looked up
  by ``source_id`` instead of being resent blindly. After :class:`OutcomeUnknown` the order is
  searched by ``source_id`` (and must look like the one sent); only when it is not there is
  the create sent once more.
- An ``idempotency_key`` is claimed in the idempotency records (``add``: SQLite in the data
  directory, shared by the processes of one machine, or Redis, shared by every replica) with a
  ``pending`` record holding the body's hash. A repeat returns the first result
  (``created: False``); the same key with another body is refused; a concurrent repeat polls
  until the first finishes (at most ``wait_for_peer`` seconds). A create whose outcome stayed
  unknown, or whose claimer vanished (a ``pending`` record older than ``lease``), leaves the
  key ``uncertain``: the next call with it reconciles by ``source_id`` before creating.
- The ``done`` record keeps only the created order's id for its 24 hours, so no order data (card
  data included) is stored; a replay reads the order from OrderDesk (one GET) and returns it as
  it is now, with its fingerprint. A record of the earlier form, with the order in it, replays that.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
from typing import Any

import anyio

from orderdesk_mcp.domain.cache_keys import idempotency_key
from orderdesk_mcp.domain.cached_orders import order_from_cache
from orderdesk_mcp.domain.commands import CreateOrderCommand
from orderdesk_mcp.domain.errors import (
    IdempotencyMismatch,
    IdempotencyUnavailable,
    IdempotentOrderGone,
    IdempotentOrderUnreadable,
    InvalidRequest,
    OrderDeskError,
    OrderNotFound,
    OutcomeUnknown,
    UpstreamUnavailable,
)
from orderdesk_mcp.domain.merge import diff
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.order_rules import check_new_order, looks_like_sent
from orderdesk_mcp.domain.pagination import OrderQuery
from orderdesk_mcp.domain.results import CreatedOrder
from orderdesk_mcp.domain.use_cases._audit import audit_mutation
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.gateway import OrderGateway
from orderdesk_mcp.ports.idempotency import IdempotencyRecords

__all__ = ["CreateOrder", "generated_source_id"]

TOOL = "orders_create"
_POLL = 0.05


def _body_hash(order: dict[str, Any]) -> str:
    canonical = json.dumps(order, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def generated_source_id(idempotency_key: str | None) -> str:
    """The ``source_id`` given to an order sent without one."""
    seed = (
        hashlib.sha256(idempotency_key.encode()).hexdigest()[:16] if idempotency_key else secrets.token_hex(8)
    )
    return f"odmcp-{seed}"


def _may_have_written(exc: BaseException) -> bool:
    if isinstance(exc, OutcomeUnknown):
        return True
    if isinstance(exc, UpstreamUnavailable):
        return exc.maybe_sent
    return not isinstance(exc, OrderDeskError)  # cancelled or crashed mid-request: assume it may have


class CreateOrder:
    """The ``orders_create`` use case (see the module docstring)."""

    def __init__(
        self,
        *,
        gateway: OrderGateway,
        cache: OrderCache,
        records: IdempotencyRecords,
        audit: AuditLog,
        clock: Clock,
        idempotency_ttl: float = 86_400.0,
        wait_for_peer: float = 10.0,
        lease: float = 120.0,
        invalidations: Invalidations | None = None,
    ) -> None:
        self._gateway = gateway
        self._invalidations = invalidations or Invalidations(cache=cache, clock=clock, ttl=0.0)
        self._records = records
        self._audit = audit
        self._clock = clock
        self._ttl = idempotency_ttl
        self._wait = wait_for_peer
        self._lease = lease

    async def __call__(self, cmd: CreateOrderCommand) -> CreatedOrder:
        """Create the order, or replay the first result of the same idempotency key.

        Raises:
            InvalidRequest: naming every missing or wrong field.
            IdempotencyMismatch: the key was used for a different order.
            IdempotencyUnavailable: the key's record cannot be read, or its create is still running.
            OutcomeUnknown: OrderDesk did not confirm, and the order could not be found by source_id.
            UpstreamRejected: and the gateway's other upstream errors.
        """
        problems = check_new_order(cmd.order)
        doc = dict(cmd.order)
        if not doc.get("source_id"):
            doc["source_id"] = generated_source_id(cmd.idempotency_key)
        order_id: str | None = None
        try:
            if problems:
                raise InvalidRequest(problems)
            if cmd.idempotency_key is None:
                result = CreatedOrder(order=await self._create(cmd.store, doc), created=True)
            else:
                result = await self._create_once(cmd.store, doc, cmd.idempotency_key, _body_hash(cmd.order))
            order_id = result.order.id
        except OutcomeUnknown as unknown:
            named = OutcomeUnknown(unknown.operation, unknown.reason, source_id=str(doc["source_id"]))
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=None, outcome="error",
                changes=diff({}, doc), error=str(named),
            )  # fmt: skip
            raise named from unknown
        except (IdempotentOrderGone, IdempotentOrderUnreadable) as exc:  # a replay: nothing was sent
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=exc.order_id, outcome="error",
                error=str(exc),
            )  # fmt: skip
            raise
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=order_id, outcome="error",
                changes=diff({}, doc), error=str(exc),
            )  # fmt: skip
            raise
        await audit_mutation(
            self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=order_id,
            outcome="ok" if result.created else "replayed", changes=diff({}, doc) if result.created else (),
        )  # fmt: skip
        return result

    async def _create_once(self, store: StoreRef, doc: dict[str, Any], key: str, body: str) -> CreatedOrder:
        record_key = idempotency_key(store, key)
        takeover_key = f"{record_key}:takeover"
        waited, misses = 0.0, 0
        while True:
            try:
                claimed = await self._records.add(record_key, self._pending(body), ttl=self._ttl)
                record = None if claimed else await self._records.get(record_key)
            except IdempotencyUnavailable as exc:
                raise IdempotencyUnavailable(key, exc.reason) from exc
            if claimed:
                return await self._run(store, doc, record_key, body, reconcile_first=False)
            if record is None and misses == 0:
                misses += 1  # expired between add and get: claim again, once
                continue
            if not isinstance(record, dict):
                raise IdempotencyUnavailable(key, "its record cannot be read right now")
            if record.get("body") != body:
                raise IdempotencyMismatch(key)
            state, since = record.get("state"), record.get("since")
            if state == "done":
                return CreatedOrder(order=await self._replayed(store, key, record), created=False)
            abandoned = state == "pending" and isinstance(since, int | float)
            abandoned = abandoned and self._clock.time() - float(since or 0) > self._lease
            if (state == "uncertain" or abandoned) and await self._claim(key, takeover_key):
                try:
                    try:
                        await self._records.set(record_key, self._pending(body), ttl=self._ttl)
                    except IdempotencyUnavailable as exc:
                        raise IdempotencyUnavailable(key, exc.reason) from exc
                    return await self._run(store, doc, record_key, body, reconcile_first=True)
                finally:
                    with anyio.CancelScope(shield=True):
                        await self._forget(takeover_key)
            if waited >= self._wait:
                raise IdempotencyUnavailable(key, "a create with this key is still in progress")
            await self._clock.sleep(_POLL)
            waited += _POLL

    async def _claim(self, key: str, takeover_key: str) -> bool:
        try:
            return await self._records.add(takeover_key, 1, ttl=self._lease)
        except IdempotencyUnavailable as exc:
            raise IdempotencyUnavailable(key, exc.reason) from exc

    async def _forget(self, record_key: str) -> None:
        """Best effort: a record that cannot be removed expires (takeover) or is reconciled later."""
        with contextlib.suppress(IdempotencyUnavailable):
            await self._records.delete(record_key)

    async def _remember(self, record_key: str, value: dict[str, Any]) -> None:
        """Best effort after the create: an unwritten ``done`` leaves the record ``pending`` or
        ``uncertain``, which the next call with the key reconciles by ``source_id``."""
        with contextlib.suppress(IdempotencyUnavailable):
            await self._records.set(record_key, value, ttl=self._ttl)

    def _pending(self, body: str) -> dict[str, Any]:
        return {"state": "pending", "body": body, "since": self._clock.time()}

    async def _run(
        self, store: StoreRef, doc: dict[str, Any], record_key: str, body: str, *, reconcile_first: bool
    ) -> CreatedOrder:
        """Create (or, after an uncertain earlier try, find) the order under a claimed key."""
        try:
            found = await self._find(store, doc) if reconcile_first else None
            order = found or await self._create(store, doc)
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                if reconcile_first or _may_have_written(exc):
                    await self._remember(record_key, {"state": "uncertain", "body": body})
                else:
                    await self._forget(record_key)  # nothing was created: free the key
            raise
        await self._remember(record_key, {"state": "done", "body": body, "order_id": order.id})
        return CreatedOrder(order=order, created=found is None)

    async def _replayed(self, store: StoreRef, key: str, record: dict[str, Any]) -> Order:
        """The order a done key created, as OrderDesk holds it now (its record keeps only the id)."""
        order_id = record.get("order_id")
        if isinstance(order_id, str) and order_id:
            try:
                return await self._gateway.fetch(store, order_id)
            except OrderNotFound:
                raise IdempotentOrderGone(key, order_id) from None
            except OrderDeskError as exc:  # the order exists: say so, or the agent may create it again
                raise IdempotentOrderUnreadable(key, order_id, str(exc)) from exc
        replayed = order_from_cache(record.get("order"))  # a record of the earlier form
        if replayed is None:
            raise IdempotencyUnavailable(key, "its record is damaged")
        return replayed

    async def _create(self, store: StoreRef, doc: dict[str, Any]) -> Order:
        created: Order | None = None
        try:
            try:
                created = await self._gateway.create(store, doc)
            except OutcomeUnknown as unknown:
                try:
                    found = await self._find(store, doc)
                except OrderDeskError as exc:
                    raise unknown from exc  # still unknown: the order may exist, say so
                created = found or await self._gateway.create(store, doc)
            return created
        finally:
            with anyio.CancelScope(shield=True):
                # the store's list pages are stale either way; the new order's answer fills its entry,
                # so the read an agent makes right after a create is a hit
                await self._invalidations.after_write(store, created.id if created else None, created)

    async def _find(self, store: StoreRef, doc: dict[str, Any]) -> Order | None:
        """The order we sent, looked up by its ``source_id``; None when it is not there."""
        page = await self._gateway.list_page(store, OrderQuery(source_id=str(doc["source_id"]), limit=20))
        for order in page.orders:
            if order.view.source_id == doc["source_id"] and looks_like_sent(doc, order.doc):
                return order
        return None
