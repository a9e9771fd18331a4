"""What the mutation use cases return."""

from __future__ import annotations

from typing import Any

import msgspec

from orderdesk_mcp.domain.order import Order

__all__ = ["Change", "CreatedOrder", "DeletedOrder", "UpdatedOrder"]


class Change(msgspec.Struct, frozen=True, kw_only=True):
    field: str
    before: Any = None
    after: Any = None


class UpdatedOrder(msgspec.Struct, frozen=True, kw_only=True):
    order: Order
    changed_fields: tuple[str, ...]
    attempts: int
    diff: tuple[Change, ...] = ()
    dry_run: bool = False


class CreatedOrder(msgspec.Struct, frozen=True, kw_only=True):
    order: Order
    created: bool


class DeletedOrder(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    note: str = ""  # e.g. that OrderDesk's answer to the first request was lost
