"""UpdateOrder: fetch the full order, merge the caller's changes, PUT the whole document.

OrderDesk has no version field and its PUT is last-write-wins, so conflicts are detected
here. The merge is done on a fresh read; the order is read again just before the PUT and
the fingerprints compared. On a change (or an upstream 409) the update re-merges onto the
newer document and retries with jittered backoff, and after ``policy.attempts`` gives up
with :class:`UpdateConflict` naming the fields that kept changing. After the PUT the saved
order must carry every merged value. This narrows the race to the gap between the re-read
and the PUT; OrderDesk offers nothing to close it.

``expected_fingerprint`` turns retrying into refusing: if the order is not the one the
caller read (at the first read, or at any later re-read) :class:`StaleFingerprint` is
raised and nothing is written. Which fields changed is known exactly when the order changed
during this call, or when the cache still holds the very document the caller's fingerprint
came from; otherwise the message says so without naming fields (a fingerprint cannot be
reversed into a document).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from orderdesk_mcp.domain.cache_keys import order_key
from orderdesk_mcp.domain.cached_orders import order_from_cache
from orderdesk_mcp.domain.commands import UpdateOrderCommand
from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.errors import (
    ConcurrentModification,
    OrderDeskError,
    StaleFingerprint,
    UpdateConflict,
    UpstreamRejected,
)
from orderdesk_mcp.domain.merge import diff, lost_fields, merge, validate_changes
from orderdesk_mcp.domain.order import Order
from orderdesk_mcp.domain.results import Change, UpdatedOrder
from orderdesk_mcp.domain.use_cases._audit import Outcome, audit_mutation
from orderdesk_mcp.domain.use_cases.cache_invalidation import invalidate_order
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.gateway import OrderGateway

__all__ = ["UpdateOrder"]

TOOL = "orders_update"


class UpdateOrder:
    """The ``orders_update`` use case (see the module docstring for the conflict rules)."""

    def __init__(
        self,
        *,
        gateway: OrderGateway,
        cache: OrderCache,
        audit: AuditLog,
        clock: Clock,
        policy: ConflictPolicy,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._gateway = gateway
        self._cache = cache
        self._audit = audit
        self._clock = clock
        self._policy = policy
        self._jitter = jitter

    async def __call__(self, cmd: UpdateOrderCommand) -> UpdatedOrder:
        """Apply ``cmd.changes`` (or, with ``dry_run``, only compute their diff).

        Raises:
            MergeRejected: the changes name keys an update may not touch.
            InvalidRequest: values of the wrong type or shape, by path.
            StaleFingerprint: ``expected_fingerprint`` does not match the order.
            UpdateConflict: the order kept changing for every attempt; nothing was written.
            UpstreamRejected: OrderDesk refused the PUT, or saved it without a merged value.
            OrderNotFound: and the gateway's other upstream errors.
        """
        attempts, wrote = 0, False
        planned: tuple[Change, ...] = ()
        try:
            validate_changes(cmd.changes, address_keys=False)  # refuse bad input before any request
            current = await self._gateway.fetch(cmd.store, cmd.order_id)
            validate_changes(cmd.changes, current=current.doc)
            if cmd.expected_fingerprint not in (None, current.fingerprint):
                raise StaleFingerprint(cmd.order_id, await self._changed_since_read(cmd, current))
            kept_changing: set[str] = set()
            for attempts in range(1, self._policy.attempts + 1):
                proposed = merge(current.doc, cmd.changes)
                planned = diff(current.doc, proposed, keys=set(cmd.changes))
                if not planned or cmd.dry_run:
                    outcome: Outcome = "dry_run" if cmd.dry_run else "noop"
                    return await self._done(cmd, current, planned, attempts, outcome)
                latest = await self._gateway.fetch(cmd.store, cmd.order_id)
                if latest.fingerprint == current.fingerprint:
                    try:
                        wrote = True
                        saved = await self._gateway.replace(cmd.store, cmd.order_id, proposed)
                    except ConcurrentModification:
                        latest = await self._gateway.fetch(cmd.store, cmd.order_id)
                    else:
                        self._verify(saved, planned)
                        return await self._done(cmd, saved, planned, attempts, "ok")
                moved = {c.field for c in diff(current.doc, latest.doc)}
                if cmd.expected_fingerprint is not None:
                    raise StaleFingerprint(cmd.order_id, moved)
                kept_changing |= moved
                if attempts < self._policy.attempts:
                    await self._clock.sleep(self._policy.delay(attempts, jitter=self._jitter()))
                    current = await self._gateway.fetch(cmd.store, cmd.order_id)
            raise UpdateConflict(cmd.order_id, attempts, kept_changing)
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id,
                outcome="error", attempts=max(attempts, 1), changes=planned, error=str(exc),
            )  # fmt: skip
            raise
        finally:
            if wrote:  # even a failed PUT may have reached OrderDesk
                await invalidate_order(self._cache, cmd.store, cmd.order_id)

    def _verify(self, saved: Order, planned: tuple[Change, ...]) -> None:
        lost = lost_fields(saved.doc, planned)
        if lost:
            raise UpstreamRejected(
                f"the order was saved without the new {', '.join(lost)}; "
                "read it with orders_get to see what OrderDesk kept"
            )

    async def _changed_since_read(self, cmd: UpdateOrderCommand, current: Order) -> list[str]:
        """Fields changed since the read the caller's fingerprint came from, when we still hold it."""
        seen = order_from_cache(await self._cache.get(order_key(cmd.store, cmd.order_id)))
        if seen is None or seen.fingerprint != cmd.expected_fingerprint:
            return []
        return [c.field for c in diff(seen.doc, current.doc)]

    async def _done(
        self,
        cmd: UpdateOrderCommand,
        order: Order,
        planned: tuple[Change, ...],
        attempts: int,
        outcome: Outcome,
    ) -> UpdatedOrder:
        await audit_mutation(
            self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id,
            outcome=outcome, attempts=attempts, changes=planned,
        )  # fmt: skip
        return UpdatedOrder(
            order=order,
            changed_fields=tuple(c.field for c in planned),
            attempts=attempts,
            diff=planned,
            dry_run=cmd.dry_run,
        )
