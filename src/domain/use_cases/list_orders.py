"""ListOrders: one page of a store's orders."""

from __future__ import annotations

from domain.commands import ListOrdersCommand
from domain.pagination import OrderPage
from ports.gateway import OrderGateway

__all__ = ["ListOrders"]


class ListOrders:
    def __init__(self, *, gateway: OrderGateway) -> None:
        self._gateway = gateway

    async def __call__(self, cmd: ListOrdersCommand) -> OrderPage:
        """Return the page. Raises: the gateway's upstream errors."""
        return await self._gateway.list_page(cmd.store, cmd.query)
