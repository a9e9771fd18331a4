"""UpdateInventoryItem: fetch -> merge -> PUT of the whole item, under the item's write lock.

OrderDesk's inventory PUT blanks every field it is not sent, so the whole item is sent back:
the caller's changes merged onto a fresh read (``domain.merge.merge``), every other field
byte for byte. Owned fields are refused (``validate_item_changes``); ``expected_fingerprint``
refuses a stale write; ``dry_run`` shows the diff and writes nothing. OrderDesk's answer
carries no item, so the saved item is read back and must carry every change.

The item's write lock is held from the merge-base read to the end of the verifying read, and
the tokens of the read and the PUT are taken before the read, so nothing waits between them.
A PUT that fails with a 429, a 5xx or a lost connection is never re-sent as it was: the next
round (``WriteRounds``, as for orders) reads the item again and re-merges
the changes onto it; when that read already carries them, the earlier PUT landed after all.
With ``expected_fingerprint``, an item that moved between our own reads is refused as stale.
A simple update costs one GET, one PUT and the verifying GET.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial
from typing import Any

import msgspec

from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.context import record_attempts
from orderdesk_mcp.domain.errors import OrderDeskError, UpstreamRejected
from orderdesk_mcp.domain.inventory import InventoryItem, validate_item_changes
from orderdesk_mcp.domain.merge import diff, lost_fields, merge
from orderdesk_mcp.domain.reach_commands import UpdateItemCommand
from orderdesk_mcp.domain.reach_errors import StaleItemFingerprint
from orderdesk_mcp.domain.reach_results import UpdatedItem
from orderdesk_mcp.domain.results import Change
from orderdesk_mcp.domain.use_cases._audit import Outcome, audit_mutation
from orderdesk_mcp.domain.use_cases.audited_write import AuditedWrite, attempt_ahead
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.domain.use_cases.resilience import Resilience
from orderdesk_mcp.domain.use_cases.write_rounds import PutFailed, WriteRounds, next_round
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.inventory import InventoryGateway
from orderdesk_mcp.ports.write_lock import WriteLock

__all__ = ["UpdateInventoryItem"]

TOOL = "inventory_update"


class _Run(msgspec.Struct):
    """What one call has done so far (read by the audit step when it fails)."""

    attempts: int = 0
    planned: tuple[Change, ...] = ()
    known: InventoryItem | None = None  # the merge base of a PUT that failed
    sent: tuple[Change, ...] = ()  # the changes of that PUT


class _Finished(msgspec.Struct, frozen=True):
    item: InventoryItem
    planned: tuple[Change, ...]
    outcome: Outcome


class UpdateInventoryItem:
    def __init__(
        self,
        *,
        inventory: InventoryGateway,
        lock: WriteLock,
        cache: OrderCache,
        audit: AuditLog,
        clock: Clock,
        invalidations: Invalidations | None = None,
        policy: ConflictPolicy | None = None,
        resilience: Resilience | None = None,
        jitter: Callable[[], float] = random.random,
        audited: AuditedWrite | None = None,
    ) -> None:
        """``resilience``: whose bucket the read's and the PUT's tokens are taken from before the
        read (``ResilientInventoryGateway.resilience``); None takes none ahead, as for orders."""
        self._inventory = inventory
        self._audited = audited
        self._lock = lock
        self._audit = audit
        self._clock = clock
        self._invalidations = (
            invalidations if invalidations is not None else Invalidations(cache=cache, clock=clock, ttl=0.0)
        )
        self._writes = WriteRounds(
            clock=clock, policy=policy or ConflictPolicy(), resilience=resilience, jitter=jitter
        )

    async def __call__(self, cmd: UpdateItemCommand) -> UpdatedItem:
        """Apply the changes (or, with ``dry_run``, only compute their diff).

        Raises:
            MergeRejected: owned or unknown keys. InvalidRequest: values of the wrong type.
            StaleItemFingerprint: ``expected_fingerprint`` does not match (nothing written).
            UpstreamRejected: OrderDesk refused the PUT or saved it without a change.
            RateLimited, UpstreamUnavailable: every round's PUT failed.
            InventoryItemNotFound, WriteInProgress, and the gateway's upstream errors.
        """
        run = _Run()
        resource = f"inventory:{cmd.item_id}"
        try:
            validate_item_changes(cmd.changes)  # bad values, before any request
            async with self._lock.hold(cmd.store, resource):
                if cmd.dry_run:
                    run.attempts = 1
                    current = await self._inventory.fetch_item(cmd.store, cmd.item_id)
                    self._plan(cmd, run, current)
                    finished = _Finished(current, run.planned, "dry_run")
                else:
                    finished = await self._writes.run(
                        cmd.store, lambda attempt: self._round(cmd, run, attempt)
                    )
            lost = lost_fields(finished.item.doc, finished.planned) if finished.outcome == "ok" else ()
            if lost:
                raise UpstreamRejected(
                    f"the item was saved without the new {', '.join(lost)}; read it with inventory_get"
                )
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=None, outcome="error",
                attempts=max(run.attempts, 1), changes=run.planned, error=str(exc), resource=resource,
            )  # fmt: skip
            raise
        finally:
            record_attempts(run.attempts)
        await audit_mutation(
            self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=None, outcome=finished.outcome,
            attempts=run.attempts, changes=finished.planned, resource=resource,
        )  # fmt: skip
        return UpdatedItem(
            item=finished.item,
            changed_fields=tuple(c.field for c in finished.planned),
            diff=finished.planned,
            dry_run=cmd.dry_run,
        )

    async def _round(self, cmd: UpdateItemCommand, run: _Run, attempt: int) -> _Finished | PutFailed:
        """Read, merge, PUT, verify by a read (inside the item's lock and prepaid tokens)."""
        run.attempts = attempt
        resource = f"inventory:{cmd.item_id}"
        async with attempt_ahead(self._audited, cmd.store, TOOL, resource=resource) as pending:
            current = await self._inventory.fetch_item(cmd.store, cmd.item_id)
            if run.sent and not lost_fields(current.doc, run.sent):
                return _Finished(current, run.sent, "ok")  # the earlier PUT landed after all
            proposed = self._plan(cmd, run, current)
            if not run.planned:
                return _Finished(current, (), "noop")
            try:
                await pending.send(partial(self._inventory.replace_item, cmd.store, cmd.item_id, proposed))
            except OrderDeskError as exc:
                if not next_round(exc):
                    raise
                run.known, run.sent = current, run.planned
                return PutFailed(exc)
            finally:
                await self._invalidations.after_inventory_write(cmd.store, cmd.item_id)
            return _Finished(await self._inventory.fetch_item(cmd.store, cmd.item_id), run.planned, "ok")

    def _plan(self, cmd: UpdateItemCommand, run: _Run, current: InventoryItem) -> dict[str, Any]:
        """The item to PUT: the changes merged onto ``current`` (their diff in ``run.planned``)."""
        if run.known is None:
            validate_item_changes(cmd.changes, current=current.doc)
            if cmd.expected_fingerprint not in (None, current.fingerprint):
                raise StaleItemFingerprint(cmd.item_id, ())
        elif cmd.expected_fingerprint is not None:
            moved = tuple(c.field for c in diff(run.known.doc, current.doc))
            if moved:  # the fingerprint matched our first read, not this one
                raise StaleItemFingerprint(cmd.item_id, moved)
        proposed = merge(current.doc, cmd.changes)
        run.planned = diff(current.doc, proposed, keys=set(cmd.changes))
        return proposed
