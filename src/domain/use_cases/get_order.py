"""GetOrder: one order, exactly as OrderDesk stores it."""

from __future__ import annotations

from domain.commands import GetOrderCommand
from domain.order import Order
from ports.gateway import OrderGateway

__all__ = ["GetOrder"]


class GetOrder:
    def __init__(self, *, gateway: OrderGateway) -> None:
        self._gateway = gateway

    async def __call__(self, cmd: GetOrderCommand) -> Order:
        """Return the order. Raises: OrderNotFound, and the gateway's upstream errors."""
        return await self._gateway.fetch(cmd.store, cmd.order_id)
