"""AddShipment: add tracking to an order, safe to repeat.

A shipment is identified by its tracking number and carrier (``domain.shipment``). Under the
order's write lock the order's shipments are listed first: one already there is returned with
``created: False`` and nothing is sent. OrderDesk's own duplicate answer ("Shipment Not
Added") means the same. A POST whose answer was lost is never re-sent blind: the shipments
are listed again, and only when the shipment is not there is it sent once more. A shipment
without a tracking number (``"n/a"``) is never unique: each call adds one, and the one it added
is the new untracked shipment of that carrier, one whose id the first listing did not have.
"""

from __future__ import annotations

from orderdesk_mcp.domain.errors import OrderDeskError, OutcomeUnknown, UpstreamRejected
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.reach_commands import AddShipmentCommand
from orderdesk_mcp.domain.reach_errors import DuplicateShipment
from orderdesk_mcp.domain.reach_results import AddedShipment
from orderdesk_mcp.domain.results import Change
from orderdesk_mcp.domain.shipment import NewShipment, Shipment, find_added, find_shipment
from orderdesk_mcp.domain.use_cases._audit import audit_mutation
from orderdesk_mcp.domain.use_cases._reach_outcome import may_have_written
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.gateway import OrderGateway
from orderdesk_mcp.ports.shipments import ShipmentGateway
from orderdesk_mcp.ports.write_lock import WriteLock

__all__ = ["AddShipment"]

TOOL = "shipments_add"


class AddShipment:
    def __init__(
        self,
        *,
        shipments: ShipmentGateway,
        gateway: OrderGateway,
        lock: WriteLock,
        cache: OrderCache,
        audit: AuditLog,
        clock: Clock,
        invalidations: Invalidations | None = None,
    ) -> None:
        self._shipments = shipments
        self._gateway = gateway
        self._lock = lock
        self._invalidations = invalidations or Invalidations(cache=cache, clock=clock, ttl=0.0)
        self._audit = audit
        self._clock = clock

    async def __call__(self, cmd: AddShipmentCommand) -> AddedShipment:
        """Add the shipment unless the order already has it.

        Raises:
            OrderNotFound; WriteInProgress; OutcomeUnknown when neither the POST nor a re-send
            was confirmed; UpstreamRejected; and the gateways' upstream errors.
        """
        store, order_id, new = cmd.store, cmd.order_id, cmd.shipment
        change = (Change(field="order_shipments", after=new.body()),)
        try:
            async with self._lock.hold(store, f"order:{order_id}"):
                listed = await self._shipments.shipments(store, order_id)
                existing = find_shipment(listed, new)
                if existing is not None:
                    shipment, created = existing, False
                else:
                    shipment, created = await self._add(store, order_id, new, {s.id for s in listed})
            order = await self._gateway.fetch(store, order_id)
        except OrderDeskError as exc:
            await audit_mutation(
                self._audit, self._clock, store=store, tool=TOOL, order_id=order_id, outcome="error",
                changes=change, error=str(exc),
            )  # fmt: skip
            raise
        await audit_mutation(
            self._audit, self._clock, store=store, tool=TOOL, order_id=order_id,
            outcome="ok" if created else "noop", changes=change if created else (),
            resource=f"shipment:{shipment.id}",
        )  # fmt: skip
        return AddedShipment(shipment=shipment, created=created, order_fingerprint=order.fingerprint)

    async def _add(
        self, store: StoreRef, order_id: str, new: NewShipment, known_ids: set[str]
    ) -> tuple[Shipment, bool]:
        """POST ``new``, then find it among the order's shipments (``known_ids``: listed before)."""
        for attempt in (1, 2):
            created, lost = True, False
            try:
                await self._shipments.add_shipment(store, order_id, new)
            except DuplicateShipment:
                created = False  # added by someone else since our listing
            except OrderDeskError as exc:
                if not may_have_written(exc):
                    raise
                if attempt == 2:
                    raise OutcomeUnknown("shipment", "the answer was lost twice") from exc
                lost = True
            finally:
                await self._invalidations.after_write(store, order_id)
            # A duplicate answer means one was already there: any untracked one of the carrier will do.
            listed = await self._shipments.shipments(store, order_id)
            found = find_added(listed, new, known_ids if created else ())
            if found is not None:
                return found, created
            if not lost:
                problem = "called the shipment a duplicate" if not created else "confirmed the shipment"
                raise UpstreamRejected(
                    f"OrderDesk {problem}, but order {order_id} has no shipment with tracking number "
                    f"{new.tracking_number} and carrier {new.carrier_code}"
                )
        raise AssertionError("unreachable")  # pragma: no cover
