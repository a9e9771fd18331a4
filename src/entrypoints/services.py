"""The object the MCP lifespan yields: ready use cases plus what dispatch needs."""

from __future__ import annotations

from dataclasses import dataclass

from domain.cache_stats import CacheStats
from domain.use_cases.create_order import CreateOrder
from domain.use_cases.delete_order import DeleteOrder
from domain.use_cases.get_order import GetOrder
from domain.use_cases.list_orders import ListOrders
from domain.use_cases.update_order import UpdateOrder
from entrypoints.settings import Settings
from ports.clock import Clock
from ports.credentials import CredentialStore

__all__ = ["AppServices"]


@dataclass(frozen=True, slots=True)
class AppServices:
    settings: Settings
    clock: Clock
    credentials: CredentialStore
    stats: CacheStats
    get_order: GetOrder
    list_orders: ListOrders
    create_order: CreateOrder
    update_order: UpdateOrder
    delete_order: DeleteOrder
