"""Builds :class:`ReachServices` for the container: the resilient gateways and the use cases.

One function rather than a dozen providers keeps the container's edit to two providers; the
upstream adapter (simulator or HTTP) implements every port, and each resilient wrapper runs
its calls through the store's bucket, retries and deadline. The use cases write through the
audited ports around them (``audited_ports``): an ``attempt`` record before each write sent
through the resilient port (one for that layer's retries of it, as for orders), its outcome after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.use_cases.add_order_note import AddOrderNote
from orderdesk_mcp.domain.use_cases.add_shipment import AddShipment
from orderdesk_mcp.domain.use_cases.adjust_stock import AdjustStock
from orderdesk_mcp.domain.use_cases.audited_ports import (
    AuditedOrderActions,
    AuditedShipmentGateway,
)
from orderdesk_mcp.domain.use_cases.audited_write import AuditedWrite
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.domain.use_cases.delete_shipment import DeleteShipment
from orderdesk_mcp.domain.use_cases.get_inventory_item import GetInventoryItem, ListInventory
from orderdesk_mcp.domain.use_cases.list_folders import ListFolders
from orderdesk_mcp.domain.use_cases.list_shipments import ListShipments
from orderdesk_mcp.domain.use_cases.move_orders import MoveOrders
from orderdesk_mcp.domain.use_cases.resilient_inventory import ResilientInventoryGateway
from orderdesk_mcp.domain.use_cases.resilient_order_actions import ResilientOrderActions
from orderdesk_mcp.domain.use_cases.resilient_shipments import ResilientShipmentGateway
from orderdesk_mcp.domain.use_cases.update_inventory_item import UpdateInventoryItem
from orderdesk_mcp.entrypoints.reach_services import ReachServices
from orderdesk_mcp.entrypoints.settings import Settings
from orderdesk_mcp.ports.audit import AuditLog
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.gateway import OrderGateway
from orderdesk_mcp.ports.idempotency import IdempotencyRecords
from orderdesk_mcp.ports.rate_limiter import RateLimiter
from orderdesk_mcp.ports.write_lock import WriteLock

if TYPE_CHECKING:  # the container imports the gateway the settings select, and only that one
    from orderdesk_mcp.adapters.http_gateway import HttpOrderGateway
    from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway

__all__ = ["reach_services"]


def reach_services(
    *,
    settings: Settings,
    upstream: SimulatedOrderGateway | HttpOrderGateway,
    gateway: OrderGateway,
    folders: ListFolders,
    lock: WriteLock,
    cache: OrderCache,
    records: IdempotencyRecords,
    audit: AuditLog,
    limiter: RateLimiter,
    clock: Clock,
    jitter: Callable[[], float],
    invalidations: Invalidations | None = None,
) -> ReachServices:
    """Every use case of the family; ``upstream`` implements each of its ports."""
    policy = RetryPolicy()
    actions = ResilientOrderActions(
        inner=upstream, limiter=limiter, clock=clock, policy=policy, jitter=jitter
    )
    shipments = ResilientShipmentGateway(
        inner=upstream, limiter=limiter, clock=clock, policy=policy, jitter=jitter
    )
    inventory = ResilientInventoryGateway(
        inner=upstream, limiter=limiter, clock=clock, policy=policy, jitter=jitter
    )
    # What the write use cases go through: an audit "attempt" record before every upstream write
    # and its outcome after it (reads pass straight through to the resilient ports).
    audited_actions = AuditedOrderActions(inner=actions, audit=audit, clock=clock)
    audited_shipments = AuditedShipmentGateway(inner=shipments, audit=audit, clock=clock)
    audited_write = AuditedWrite(audit=audit, clock=clock)  # inventory PUTs: attempts appended while reading
    ttl = settings.cache_ttl
    return ReachServices(
        move_orders=MoveOrders(
            gateway=gateway,
            actions=audited_actions,
            folders=folders,
            lock=lock,
            cache=cache,
            audit=audit,
            clock=clock,
            invalidations=invalidations,
        ),
        add_order_note=AddOrderNote(
            actions=audited_actions,
            records=records,
            cache=cache,
            audit=audit,
            clock=clock,
            invalidations=invalidations,
            lock=lock,
        ),
        list_shipments=ListShipments(shipments=shipments),
        add_shipment=AddShipment(
            shipments=audited_shipments,
            gateway=gateway,
            lock=lock,
            cache=cache,
            audit=audit,
            clock=clock,
            invalidations=invalidations,
        ),
        delete_shipment=DeleteShipment(
            shipments=audited_shipments,
            cache=cache,
            audit=audit,
            clock=clock,
            invalidations=invalidations,
            lock=lock,
        ),
        list_inventory=ListInventory(inventory=inventory, cache=cache, ttl=ttl, invalidations=invalidations),
        get_inventory_item=GetInventoryItem(
            inventory=inventory, cache=cache, ttl=ttl, invalidations=invalidations
        ),
        # Inventory writes take their read's and PUT's tokens from the gateway's bucket before the
        # read, and re-read and re-apply after a failed PUT (the order path's ConflictPolicy).
        update_inventory_item=UpdateInventoryItem(
            inventory=inventory,
            audited=audited_write,
            lock=lock,
            cache=cache,
            audit=audit,
            clock=clock,
            invalidations=invalidations,
            policy=ConflictPolicy(),
            resilience=inventory.resilience,
            jitter=jitter,
        ),
        adjust_stock=AdjustStock(
            inventory=inventory,
            audited=audited_write,
            lock=lock,
            cache=cache,
            audit=audit,
            clock=clock,
            invalidations=invalidations,
            policy=ConflictPolicy(),
            resilience=inventory.resilience,
            jitter=jitter,
        ),
    )
