"""UpdateInventoryItem: fetch -> merge -> PUT of the whole item, under the item's write lock.

OrderDesk's inventory PUT blanks every field it is not sent, so the whole item is sent back:
the caller's changes merged onto a fresh read (``domain.merge.merge``), every other field
byte for byte. Owned fields are refused (``validate_item_changes``); ``expected_fingerprint``
refuses a stale write; ``dry_run`` shows the diff and writes nothing. OrderDesk's answer
carries no item, so the saved item is read back and must carry every change.
"""

from __future__ import annotations

from orderdesk_mcp.domain.errors import OrderDeskError, UpstreamRejected
from orderdesk_mcp.domain.inventory import InventoryItem, validate_item_changes
from orderdesk_mcp.domain.merge import diff, lost_fields, merge
from orderdesk_mcp.domain.reach_commands import UpdateItemCommand
from orderdesk_mcp.domain.reach_errors import StaleItemFingerprint
from orderdesk_mcp.domain.reach_results import UpdatedItem
from orderdesk_mcp.domain.results import Change
from orderdesk_mcp.domain.use_cases._audit import Outcome, audit_mutation
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.inventory import InventoryGateway
from orderdesk_mcp.ports.write_lock import WriteLock

__all__ = ["UpdateInventoryItem"]

TOOL = "inventory_update"


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
    ) -> None:
        self._inventory = inventory
        self._lock = lock
        self._audit = audit
        self._clock = clock
        self._invalidations = (
            invalidations if invalidations is not None else Invalidations(cache=cache, clock=clock, ttl=0.0)
        )

    async def __call__(self, cmd: UpdateItemCommand) -> UpdatedItem:
        """Apply the changes (or, with ``dry_run``, only compute their diff).

        Raises:
            MergeRejected: owned or unknown keys. InvalidRequest: values of the wrong type.
            StaleItemFingerprint: ``expected_fingerprint`` does not match (nothing written).
            UpstreamRejected: OrderDesk refused the PUT or saved it without a change.
            InventoryItemNotFound, WriteInProgress, and the gateway's upstream errors.
        """
        planned: tuple[Change, ...] = ()
        resource = f"inventory:{cmd.item_id}"
        try:
            validate_item_changes(cmd.changes)  # bad values, before any request
            async with self._lock.hold(cmd.store, resource):
                current = await self._inventory.fetch_item(cmd.store, cmd.item_id)
                validate_item_changes(cmd.changes, current=current.doc)
                if cmd.expected_fingerprint not in (None, current.fingerprint):
                    raise StaleItemFingerprint(cmd.item_id, ())
                proposed = merge(current.doc, cmd.changes)
                planned = diff(current.doc, proposed, keys=set(cmd.changes))
                if not planned or cmd.dry_run:
                    return await self._done(cmd, current, planned, "dry_run" if cmd.dry_run else "noop")
                try:
                    await self._inventory.replace_item(cmd.store, cmd.item_id, proposed)
                finally:
                    await self._invalidations.after_inventory_write(cmd.store, cmd.item_id)
                saved = await self._inventory.fetch_item(cmd.store, cmd.item_id)
            lost = lost_fields(saved.doc, planned)
            if lost:
                raise UpstreamRejected(
                    f"the item was saved without the new {', '.join(lost)}; read it with inventory_get"
                )
            return await self._done(cmd, saved, planned, "ok")
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=None, outcome="error",
                changes=planned, error=str(exc), resource=resource,
            )  # fmt: skip
            raise

    async def _done(
        self, cmd: UpdateItemCommand, item: InventoryItem, planned: tuple[Change, ...], outcome: Outcome
    ) -> UpdatedItem:
        await audit_mutation(
            self._audit, self._clock, store=cmd.store, tool=TOOL, order_id=None, outcome=outcome,
            changes=planned, resource=f"inventory:{cmd.item_id}",
        )  # fmt: skip
        return UpdatedItem(
            item=item, changed_fields=tuple(c.field for c in planned), diff=planned, dry_run=cmd.dry_run
        )
