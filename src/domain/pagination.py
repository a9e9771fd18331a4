"""Order list queries and pages: validation of paging arguments and honest ``has_more``."""

from __future__ import annotations

from typing import Literal

import msgspec

from orderdesk_mcp.domain.errors import InvalidRequest
from orderdesk_mcp.domain.order import Order

__all__ = ["MAX_LIMIT", "MAX_OFFSET", "OrderPage", "OrderQuery", "validate_paging"]

MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
DEFAULT_LIMIT = 50

SortField = Literal["date_added", "date_updated", "id", "source_id", "email", "order_total"]


class OrderQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One page request against ``GET /orders``; every field is an OrderDesk filter."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    folder_id: tuple[int, ...] = ()
    folder_name: str | None = None
    source_id: str | None = None
    email: str | None = None
    search_start_date: str | None = None
    search_end_date: str | None = None
    modified_start_date: str | None = None
    modified_end_date: str | None = None
    order_by: SortField | None = None
    order: Literal["asc", "desc"] | None = None

    def cache_identity(self) -> str:
        """Every filter and paging argument, canonically, so two searches never share a key."""
        parts = [f"{name}={getattr(self, name)!r}" for name in self.__struct_fields__]
        return "&".join(parts)


def validate_paging(limit: int, offset: int) -> None:
    """Raise InvalidRequest unless 1 <= limit <= 100 and 0 <= offset <= 1,000,000 (no clamping)."""
    problems = []
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(f"limit must be a whole number from 1 to {MAX_LIMIT}; got {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        problems.append(f"offset must be a whole number from 0 to {MAX_OFFSET}; got {offset}")
    if problems:
        raise InvalidRequest(problems)


class OrderPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of orders. ``total_count`` comes from OrderDesk's ``total_records``."""

    orders: tuple[Order, ...]
    total_count: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        """True only when OrderDesk says records exist past this page (never guessed from fullness)."""
        return self.offset + len(self.orders) < self.total_count
