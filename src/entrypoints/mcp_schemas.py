"""Boundary types of the MCP tools: argument aliases with descriptions, and output TypedDicts.

msgspec Structs cannot be MCP tool types (STYLE fact 1), so the boundary speaks
``typing_extensions.TypedDict`` and plain scalars; conversion from domain results lives in
:mod:`orderdesk_mcp.entrypoints.mcp_convert`. Nested input objects forbid unknown keys (fact 2).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict

__all__ = [
    "ChangesArg",
    "CreateOrderOut",
    "DeleteOrderOut",
    "GetOrderOut",
    "ListOrdersOut",
    "NewOrderArg",
    "OrderIdArg",
    "StoreArg",
    "UpdateOrderOut",
]

OrderIdArg = Annotated[
    str | int | float,
    Field(description='OrderDesk order id: digits, as a string or a number (500001 or "500001").'),
]
StoreArg = Annotated[
    str | None,
    Field(
        description="Store id or alias. Optional when you have one store; required (the error lists "
        "your stores) when you have several.",
        max_length=100,
    ),
]
ChangesArg = Annotated[
    dict[str, Any],
    Field(
        description="Order fields to change, as OrderDesk names them. Nested objects (shipping, customer, "
        "return_address, checkout_data, order_metadata) merge key by key; arrays (order_items, "
        "order_notes, discount_list) replace the whole list; null removes a field."
    ),
]
NewOrderArg = Annotated[
    dict[str, Any],
    Field(
        description="The new order as OrderDesk names its fields: at least one entry in order_items, and a "
        "first and last name or a company in shipping or customer."
    ),
]


class GetOrderOut(TypedDict):
    order: dict[str, Any]
    fingerprint: str


class ListOrdersOut(TypedDict):
    orders: list[dict[str, Any]]
    fingerprints: dict[str, str]
    total_count: int
    limit: int
    offset: int
    has_more: bool


class FieldChangeOut(TypedDict):
    field: str
    before: Any
    after: Any


class UpdateOrderOut(TypedDict):
    order: dict[str, Any]
    fingerprint: str
    changed_fields: list[str]
    attempts: int
    dry_run: bool
    diff: list[FieldChangeOut]


class CreateOrderOut(TypedDict):
    order: dict[str, Any]
    fingerprint: str
    created: bool


class DeleteOrderOut(TypedDict):
    deleted: bool
    order_id: str
