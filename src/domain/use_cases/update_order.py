"""UpdateOrder: fetch the full order, merge the caller's changes, PUT the whole document.

OrderDesk has no version field and its PUT is last-write-wins, so conflicts are detected
here: the order is read again just before the PUT and its fingerprint compared; on a
change (or an upstream 409) the update re-fetches, re-merges and retries with jittered
backoff, and finally gives up naming the fields that kept changing. After the PUT the
returned order must carry the merged values.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from domain.cache_keys import order_key
from domain.cached_orders import order_from_cache
from domain.commands import UpdateOrderCommand
from domain.conflict_policy import ConflictPolicy
from domain.errors import (
    ConcurrentModification,
    OrderDeskError,
    StaleFingerprint,
    UpdateConflict,
    UpstreamRejected,
)
from domain.merge import diff, merge, validate_changes, value_at
from domain.order import Order
from domain.results import Change, UpdatedOrder
from domain.use_cases._audit import audit_mutation
from domain.use_cases.cache_invalidation import invalidate_order
from ports.audit import AuditLog
from ports.cache import OrderCache
from ports.clock import Clock
from ports.gateway import OrderGateway

__all__ = ["UpdateOrder"]

TOOL = "orders.update"


class UpdateOrder:
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
        """Apply ``cmd.changes``.

        Raises:
            MergeRejected, InvalidRequest: the changes name keys or values that cannot be written.
            StaleFingerprint: ``expected_fingerprint`` no longer matches.
            UpdateConflict: the order kept changing for every attempt.
            OrderNotFound, and the gateway's upstream errors.
        """
        attempts = 0
        wrote = False
        try:
            validate_changes(cmd.changes)
            kept_changing: set[str] = set()
            for attempts in range(1, self._policy.attempts + 1):
                current = await self._gateway.fetch(cmd.store, cmd.order_id)
                if attempts == 1 and cmd.expected_fingerprint not in (None, current.fingerprint):
                    raise StaleFingerprint(cmd.order_id, await self._changed_since(cmd, current))
                proposed = merge(current.doc, cmd.changes)
                changes = diff(current.doc, proposed, keys=set(cmd.changes))
                if not changes or cmd.dry_run:
                    return await self._done(
                        cmd, current, changes, attempts, "dry_run" if cmd.dry_run else "noop"
                    )
                latest = await self._gateway.fetch(cmd.store, cmd.order_id)
                if latest.fingerprint != current.fingerprint:
                    kept_changing |= {c.field for c in diff(current.doc, latest.doc)}
                    await self._back_off(attempts)
                    continue
                try:
                    wrote = True
                    saved = await self._gateway.replace(cmd.store, cmd.order_id, proposed)
                except ConcurrentModification:
                    kept_changing.add("(unknown: OrderDesk reported a conflict)")
                    await self._back_off(attempts)
                    continue
                lost = [c.field for c in changes if value_at(saved.doc, c.field) != c.after]
                if lost:
                    raise UpstreamRejected(f"the saved order does not carry the new {', '.join(lost)}")
                return await self._done(cmd, saved, changes, attempts, "ok")
            raise UpdateConflict(cmd.order_id, attempts, kept_changing)
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id,
                outcome="error", attempts=max(attempts, 1), error=str(exc),
            )  # fmt: skip
            raise
        finally:
            if wrote:
                await invalidate_order(self._cache, cmd.store, cmd.order_id)

    async def _back_off(self, attempt: int) -> None:
        if attempt < self._policy.attempts:
            await self._clock.sleep(self._policy.delay(attempt, jitter=self._jitter()))

    async def _changed_since(self, cmd: UpdateOrderCommand, current: Order) -> list[str]:
        """Fields changed since the read the caller's fingerprint came from, when we still hold it."""
        seen = order_from_cache(await self._cache.get(order_key(cmd.store, cmd.order_id)))
        if seen is None or seen.fingerprint != cmd.expected_fingerprint:
            return []
        return [c.field for c in diff(seen.doc, current.doc)]

    async def _done(
        self, cmd: UpdateOrderCommand, order: Order, changes: list[Change], attempts: int, outcome: str
    ) -> UpdatedOrder:
        await audit_mutation(
            self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id,
            outcome="ok" if outcome == "ok" else ("dry_run" if outcome == "dry_run" else "noop"),
            attempts=attempts, changes=changes,
        )  # fmt: skip
        return UpdatedOrder(
            order=order,
            changed_fields=tuple(c.field for c in changes),
            attempts=attempts,
            diff=tuple(changes),
            dry_run=cmd.dry_run,
        )
