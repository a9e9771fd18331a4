"""The order-actions port: OrderDesk's order endpoints that are not the order document itself.

``POST /move-orders`` (runs the destination folder's rules) and
``POST /orders/{id}/order-history`` (an append-only note). A separate port rather than two
more methods on ``OrderGateway``: every order fake and racing double would otherwise have to
grow them, and the order use cases never need them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.reach_results import MoveReport

__all__ = ["OrderActions"]


class OrderActions(Protocol):
    """Every method may also raise ``AuthenticationFailed``, ``CredentialsMissing``,
    ``RateLimited``, ``UpstreamUnavailable`` and ``UpstreamRejected``."""

    async def move_orders(
        self, store: StoreRef, order_ids: Sequence[str], folder_id: int
    ) -> tuple[MoveReport, ...]:
        """One ``POST /move-orders`` for every id; OrderDesk's report per order (in its order).

        Raises: UpstreamRejected for an unknown destination folder.
        """
        ...

    async def add_history_note(self, store: StoreRef, order_id: str, note: str) -> Order:
        """Append ``note`` to the order's history; returns the order with its ``order_history``.

        Raises: OrderNotFound.
        """
        ...
