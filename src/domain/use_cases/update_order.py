"""UpdateOrder: read the order once, merge the caller's changes, PUT the whole document once.

OrderDesk has no version, ETag or If-Match, and its PUT is last-write-wins. What this use
case guarantees, exactly:

- **No change that reached OrderDesk before our read is lost.** The merge base is always a
  fresh upstream read made by this call (never a cached copy), and the PUT carries every
  field of it except the ones the caller names.
- **Writers going through this service never lose each other.** The order's write lock
  (``WriteLock``: in-process, and across every replica through Redis when a cache URL is
  set) is held from the merge-base read to the end of the PUT and its verification, so two
  of our writers never interleave their read and their PUT.
- **A writer outside this service that lands in the one round trip between our read and our
  PUT can still be overwritten:** OrderDesk offers nothing to detect it. Nothing waits in
  that gap: the rate-limit tokens for both requests are taken before the read, and the PUT's
  audit ``attempt`` record is appended (and fsynced) while the read is in flight.

A simple update costs exactly one GET and one PUT. ``expected_fingerprint`` is compared with
the merge-base read; a mismatch raises :class:`StaleFingerprint` and writes nothing. After
the PUT the saved order must carry every merged value. An upstream 409, a save without the
merged values, a 429, a 5xx or a lost connection ends the round; the next round (at most
``policy.attempts`` in all, jittered waits of up to 0.5, 1, 2 and 4 s, never past the call's
deadline) reads the order again inside the same lock and re-merges onto it. A PUT is never
re-sent blind. When its outcome is unknown (timeout or connection lost after sending) and
the re-read already carries the merged values, the update reports success. Which fields
changed is named exactly when the order moved between our own reads, or when the cache
still holds the very document the caller's fingerprint came from.

The saved order fills the cache (``Invalidations.after_write``), inside the lock, so the
read after a write is a hit and no older copy can land on top of it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial

import msgspec

from orderdesk_mcp.domain.cache_keys import order_key
from orderdesk_mcp.domain.cached_orders import order_from_cache
from orderdesk_mcp.domain.commands import UpdateOrderCommand
from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.context import record_attempts
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
from orderdesk_mcp.domain.use_cases.audited_write import AuditedWrite, attempt_ahead
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.domain.use_cases.resilience import Resilience
from orderdesk_mcp.domain.use_cases.write_rounds import WriteRounds, next_round
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.gateway import OrderGateway
from orderdesk_mcp.ports.write_lock import WriteLock

__all__ = ["UpdateOrder"]

TOOL = "orders_update"


class _Run(msgspec.Struct):
    """What one call has done so far (read by the audit and cache steps when it fails)."""

    attempts: int = 0
    planned: tuple[Change, ...] = ()
    wrote: bool = False
    saved: Order | None = None


class _Finished(msgspec.Struct, frozen=True):
    order: Order
    planned: tuple[Change, ...]
    outcome: Outcome


class UpdateOrder:
    """The ``orders_update`` use case (see the module docstring for what is guaranteed)."""

    def __init__(
        self,
        *,
        gateway: OrderGateway,
        cache: OrderCache,
        audit: AuditLog,
        clock: Clock,
        policy: ConflictPolicy,
        lock: WriteLock,
        resilience: Resilience | None = None,
        invalidations: Invalidations | None = None,
        jitter: Callable[[], float] = random.random,
        audited: AuditedWrite | None = None,
    ) -> None:
        """``audited``: the audit log each PUT's ``attempt`` record goes to, appended while the round
        reads (``gateway`` itself then does not audit); None records nothing here."""
        self._gateway = gateway
        self._audited = audited
        self._cache = cache
        self._audit = audit
        self._clock = clock
        self._lock = lock
        self._invalidations = invalidations or Invalidations(cache=cache, clock=clock, ttl=0.0)
        self._writes = WriteRounds(clock=clock, policy=policy, resilience=resilience, jitter=jitter)

    async def __call__(self, cmd: UpdateOrderCommand) -> UpdatedOrder:
        """Apply ``cmd.changes`` (or, with ``dry_run``, only compute their diff).

        Raises:
            MergeRejected: the changes name keys an update may not touch.
            InvalidRequest: values of the wrong type or shape, by path.
            StaleFingerprint: ``expected_fingerprint`` does not match the order.
            WriteInProgress: another writer held the order's lock for the whole deadline.
            UpdateConflict: OrderDesk answered 409 on every attempt.
            UpstreamRejected: OrderDesk refused the PUT, or kept saving it without a merged value.
            OrderNotFound: and the gateway's other upstream errors.
        """
        run = _Run()
        try:
            validate_changes(cmd.changes, address_keys=False)  # refuse bad input before any request
            if cmd.dry_run:
                run.attempts = 1
                finished = await self._dry_run(cmd)
            else:
                async with self._lock.hold(cmd.store, f"order:{cmd.order_id}"):
                    try:
                        finished = await self._rounds(cmd, run)
                    finally:
                        if run.wrote:  # even a failed PUT may have reached OrderDesk
                            await self._invalidations.after_write(cmd.store, cmd.order_id, run.saved)
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id,
                outcome="error", attempts=max(run.attempts, 1), changes=run.planned, error=str(exc),
            )  # fmt: skip
            raise
        finally:
            record_attempts(run.attempts)
        await audit_mutation(
            self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id,
            outcome=finished.outcome, attempts=run.attempts, changes=finished.planned,
        )  # fmt: skip
        return UpdatedOrder(
            order=finished.order,
            changed_fields=tuple(c.field for c in finished.planned),
            attempts=run.attempts,
            diff=finished.planned,
            dry_run=cmd.dry_run,
        )

    async def _dry_run(self, cmd: UpdateOrderCommand) -> _Finished:
        current = await self._gateway.fetch(cmd.store, cmd.order_id)
        validate_changes(cmd.changes, current=current.doc)
        if cmd.expected_fingerprint not in (None, current.fingerprint):
            raise StaleFingerprint(cmd.order_id, await self._changed_since_read(cmd, current))
        planned = diff(current.doc, merge(current.doc, cmd.changes), keys=set(cmd.changes))
        return _Finished(current, planned, "dry_run")

    async def _rounds(self, cmd: UpdateOrderCommand, run: _Run) -> _Finished:
        """Read, merge, PUT, verify; again after a failed round. Runs inside the order's lock."""
        known: Order | None = None  # the order as our last read or our own save left it
        sent: tuple[Change, ...] = ()  # the changes of a PUT that failed or came back short
        kept_changing: set[str] = set()
        failure: OrderDeskError | None = None
        for run.attempts in range(1, self._writes.attempts + 1):
            # The GET's and the PUT's tokens, and the PUT's audit attempt, all before the GET.
            async with (
                self._writes.tokens(cmd.store, 2),
                attempt_ahead(self._audited, cmd.store, TOOL, order_id=cmd.order_id) as pending,
            ):
                current = await self._gateway.fetch(cmd.store, cmd.order_id)
                if sent and not lost_fields(current.doc, sent):
                    return _Finished(current, sent, "ok")  # the earlier PUT landed after all
                moved = {c.field for c in diff(known.doc, current.doc)} if known is not None else set()
                if known is None:
                    validate_changes(cmd.changes, current=current.doc)
                    if cmd.expected_fingerprint not in (None, current.fingerprint):
                        raise StaleFingerprint(cmd.order_id, await self._changed_since_read(cmd, current))
                elif cmd.expected_fingerprint is not None and moved:
                    raise StaleFingerprint(cmd.order_id, moved)
                kept_changing |= moved
                proposed = merge(current.doc, cmd.changes)
                run.planned = diff(current.doc, proposed, keys=set(cmd.changes))
                if not run.planned:
                    return _Finished(current, (), "noop")
                run.wrote = True
                try:
                    saved = await pending.send(
                        partial(self._gateway.replace, cmd.store, cmd.order_id, proposed)
                    )
                except OrderDeskError as exc:
                    if not next_round(exc):
                        raise
                    known, failure = current, exc
                else:
                    lost = lost_fields(saved.doc, run.planned)
                    if not lost:
                        run.saved = saved
                        return _Finished(saved, run.planned, "ok")
                    known, failure = saved, _saved_without(lost)
                sent = run.planned
            if run.attempts < self._writes.attempts and not await self._writes.wait(run.attempts, failure):
                break
        if isinstance(failure, ConcurrentModification):
            raise UpdateConflict(cmd.order_id, run.attempts, kept_changing)
        assert failure is not None  # every round that did not return set it
        raise failure

    async def _changed_since_read(self, cmd: UpdateOrderCommand, current: Order) -> list[str]:
        """Fields changed since the read the caller's fingerprint came from, when we still hold it."""
        seen = order_from_cache(await self._cache.get(order_key(cmd.store, cmd.order_id)))
        if seen is None or seen.fingerprint != cmd.expected_fingerprint:
            return []
        return [c.field for c in diff(seen.doc, current.doc)]


def _saved_without(lost: tuple[str, ...]) -> UpstreamRejected:
    return UpstreamRejected(
        f"the order was saved without the new {', '.join(lost)}; "
        "read it with orders_get to see what OrderDesk kept"
    )
