"""AddOrderNote: append a note to an order's history (``POST /orders/{id}/order-history``).

The history is append-only, so a note needs no full PUT and cannot clobber anything; but a
repeat is a second note. An ``idempotency_key`` is claimed in the idempotency records before
anything is sent; a repeat of the key returns the first result without a second note, the
same key with another note is refused, and a note whose answer was lost (or whose claimer
vanished for longer than ``lease``) leaves the key ``uncertain``: a repeat then refuses,
saying to check the history, rather than risk a duplicate. A lost answer is never re-sent.
The ``done`` record keeps the result for 24 hours without the note's text (a repeat of the key
carries the same note, checked by its hash, so the replay shows the caller's own note): no note
text, card numbers included, is stored.

The note is posted under the order's write lock, like every other write of an order: it changes
the document (its history), and an update's cache fill is safe only if no write of the same
order lands between that update's PUT and its fill.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import suppress
from typing import Any

import anyio
import msgspec

from orderdesk_mcp.domain.cache_keys import idempotency_key
from orderdesk_mcp.domain.errors import IdempotencyUnavailable, OrderDeskError
from orderdesk_mcp.domain.order import Order
from orderdesk_mcp.domain.reach_commands import AddNoteCommand
from orderdesk_mcp.domain.reach_errors import NoteKeyReused
from orderdesk_mcp.domain.reach_results import AddedNote
from orderdesk_mcp.domain.results import Change
from orderdesk_mcp.domain.use_cases._audit import audit_mutation
from orderdesk_mcp.domain.use_cases._order_lock import hold_order
from orderdesk_mcp.domain.use_cases._reach_outcome import may_have_written
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.idempotency import IdempotencyRecords
from orderdesk_mcp.ports.order_actions import OrderActions
from orderdesk_mcp.ports.write_lock import WriteLock

__all__ = ["AddOrderNote", "note_body_hash"]

TOOL = "orders_add_note"
_log = logging.getLogger(__name__)


def _unavailable(key: str, reason: str) -> IdempotencyUnavailable:
    return IdempotencyUnavailable(key, reason, unsent="no note was added")


def note_body_hash(cmd: AddNoteCommand) -> str:
    return hashlib.sha256(f"{cmd.order_id}\n{cmd.note}".encode()).hexdigest()


class AddOrderNote:
    def __init__(
        self,
        *,
        actions: OrderActions,
        records: IdempotencyRecords,
        cache: OrderCache,
        audit: AuditLog,
        clock: Clock,
        invalidations: Invalidations | None = None,
        lock: WriteLock | None = None,
        idempotency_ttl: float = 86_400.0,
        lease: float = 120.0,
    ) -> None:
        self._actions = actions
        self._lock = lock
        self._records = records
        self._invalidations = invalidations or Invalidations(cache=cache, clock=clock, ttl=0.0)
        self._audit = audit
        self._clock = clock
        self._ttl = idempotency_ttl
        self._lease = lease

    async def __call__(self, cmd: AddNoteCommand) -> AddedNote:
        """Add the note, or replay the first result of the same idempotency key.

        Raises:
            NoteKeyReused: the key was used for another note or order.
            IdempotencyUnavailable: the key's note is in flight, unconfirmed, or unreadable.
            WriteInProgress: another write of the order held its lock past the call's deadline.
            OrderNotFound, UpstreamRejected and the gateway's other upstream errors.
        """
        change = (Change(field="order_history", after=cmd.note),)
        # The order's lock first, then the key's claim: a call stopped while it waits for the lock
        # has claimed nothing, so its key is not left "unconfirmed" for a note never sent.
        held = hold_order(self._lock, cmd.store, cmd.order_id)
        try:
            async with held:
                if cmd.idempotency_key is None:
                    result, replayed = await self._add(cmd), False
                else:
                    result, replayed = await self._once(cmd, cmd.idempotency_key)
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id, outcome="error",
                changes=change, error=str(exc),
            )  # fmt: skip
            raise
        await audit_mutation(
            self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=cmd.order_id,
            outcome="replayed" if replayed else "ok", changes=() if replayed else change,
        )  # fmt: skip
        return result

    async def _once(self, cmd: AddNoteCommand, key: str) -> tuple[AddedNote, bool]:
        record_key = idempotency_key(cmd.store, f"{TOOL}:{key}")
        body = note_body_hash(cmd)
        pending = {"state": "pending", "body": body, "since": self._clock.time()}
        try:
            claimed = await self._records.add(record_key, pending, ttl=self._ttl)
            record = None if claimed else await self._records.get(record_key)
        except IdempotencyUnavailable as exc:  # it names the record's internal key: name the caller's
            raise _unavailable(key, exc.reason) from exc
        if not claimed:
            if not isinstance(record, dict):
                raise _unavailable(key, "its record cannot be read right now")
            if record.get("body") != body:
                raise NoteKeyReused(key)
            if record.get("state") == "done":
                kept = record.get("result")
                try:
                    # The note is this call's own: the same text, as its hash matched the record's.
                    return msgspec.convert((kept if isinstance(kept, dict) else {}) | {"note": cmd.note},
                                           AddedNote), True  # fmt: skip
                except msgspec.ValidationError:
                    raise _unavailable(key, "its record is damaged") from None
            since = record.get("since")
            abandoned = isinstance(since, int | float) and self._clock.time() - float(since) > self._lease
            reason = (
                "an earlier try was not confirmed by OrderDesk; read the order's history before adding "
                "it again with a new key"
                if record.get("state") == "uncertain" or abandoned  # its claimer vanished mid-call
                else "a note with this key is still being added"
            )
            raise _unavailable(key, reason)
        try:
            result = await self._add(cmd)
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                # Unrecorded, the claim stays pending: a repeat of the key is refused until the
                # lease passes, then told to check the history. The note's own error goes on.
                with suppress(IdempotencyUnavailable):
                    if may_have_written(exc):
                        uncertain = {"state": "uncertain", "body": body}
                        await self._records.set(record_key, uncertain, ttl=self._ttl)
                    else:
                        await self._records.delete(record_key)  # nothing was written: free the key
            raise
        kept = {k: v for k, v in msgspec.to_builtins(result).items() if k != "note"}  # no note text stored
        done: dict[str, Any] = {"state": "done", "body": body, "result": kept}
        try:
            await self._records.set(record_key, done, ttl=self._ttl)
        except IdempotencyUnavailable:
            # The note is in the history: say so. A repeat of the key is refused, not replayed.
            _log.warning("the idempotency record of the note added to order %s was not saved", cmd.order_id)
        return result, False

    async def _add(self, cmd: AddNoteCommand) -> AddedNote:
        """Post the note (the caller holds the order's lock) and invalidate what it made stale."""
        try:
            order = await self._actions.add_history_note(cmd.store, cmd.order_id, cmd.note)
        finally:
            with anyio.CancelScope(shield=True):
                await self._invalidations.after_write(cmd.store, cmd.order_id)
        history = order.doc.get("order_history")
        # the fingerprint orders_get would show: OrderDesk's GET carries no order_history
        plain = Order.from_document({k: v for k, v in order.doc.items() if k != "order_history"})
        return AddedNote(
            order_id=cmd.order_id,
            note=cmd.note,
            history_count=len(history) if isinstance(history, list) else 0,
            fingerprint=plain.fingerprint,
        )
