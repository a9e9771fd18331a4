"""The object the MCP lifespan yields: ready use cases plus what dispatch needs."""

from __future__ import annotations

import msgspec

from orderdesk_mcp.domain.cache_stats import CacheStats
from orderdesk_mcp.domain.use_cases.create_order import CreateOrder
from orderdesk_mcp.domain.use_cases.delete_order import DeleteOrder
from orderdesk_mcp.domain.use_cases.get_order import GetOrder
from orderdesk_mcp.domain.use_cases.list_folders import ListFolders
from orderdesk_mcp.domain.use_cases.list_orders import ListOrders
from orderdesk_mcp.domain.use_cases.update_order import UpdateOrder
from orderdesk_mcp.entrypoints.call_telemetry import CallTelemetry
from orderdesk_mcp.entrypoints.reach_services import ReachServices
from orderdesk_mcp.entrypoints.settings import Settings
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.credentials import CredentialStore

__all__ = ["AppServices"]


class AppServices(msgspec.Struct, frozen=True, kw_only=True):
    settings: Settings
    clock: Clock
    credentials: CredentialStore
    stats: CacheStats
    get_order: GetOrder
    list_orders: ListOrders
    list_folders: ListFolders
    create_order: CreateOrder
    update_order: UpdateOrder
    delete_order: DeleteOrder
    reach: ReachServices  # orders_move, orders_add_note, shipments_*, inventory_*
    telemetry: CallTelemetry
