"""Boundary types of the folder-move, shipment, history-note and inventory tools.

Argument aliases carry their descriptions and bounds; outputs are ``TypedDict``s (STYLE fact
1). Kept apart from ``mcp_schemas`` so each tool family owns its boundary types.
"""

from typing import Annotated, Any, NotRequired

from pydantic import AfterValidator, BeforeValidator, Field
from typing_extensions import TypedDict

from orderdesk_mcp.domain.pagination import MAX_OFFSET
from orderdesk_mcp.entrypoints.mcp_schemas import (
    DIGITS_PATTERN,
    IdMap,
    NullableInt,
    NullableStr,
    ObjectList,
    capped_strings,
    inline_schema,
    no_bool,
    strict_id,
)

__all__ = [
    "AddNoteOut",
    "AddShipmentOut",
    "AdjustStockOut",
    "AllowNegativeArg",
    "CarrierArg",
    "CodeArg",
    "ConfirmArg",
    "CostArg",
    "DeleteShipmentOut",
    "DeltaArg",
    "DryRunArg",
    "FingerprintArg",
    "FolderArg",
    "IdempotencyKeyArg",
    "InventoryGetOut",
    "InventoryListOut",
    "InventoryUpdateOut",
    "ItemChangesArg",
    "ItemIdArg",
    "LimitArg",
    "MoveOrdersOut",
    "NoteArg",
    "OffsetArg",
    "OptionalItemIdArg",
    "OrderIdsArg",
    "ReachOrderIdArg",
    "ReachStoreArg",
    "ReasonArg",
    "SearchArg",
    "ShipmentIdArg",
    "ShipmentMethodArg",
    "ShipmentStatusArg",
    "ShipmentsListOut",
    "TrackingArg",
    "TrackingUrlArg",
    "WeightArg",
]

# An id inside a list or an optional: digits as a string or a whole number, never a boolean.
IdValue = Annotated[
    Annotated[str, Field(pattern=DIGITS_PATTERN, max_length=40)] | Annotated[int, Field(ge=1)],
    BeforeValidator(no_bool),
]
ReachOrderIdArg = strict_id('OrderDesk order id: digits, as a string or a whole number (500001 or "500001").')
ReachStoreArg = Annotated[
    str | None,
    Field(
        description="Store id or alias. Optional when you have one store; required (the error lists "
        "your stores) when you have several.",
        max_length=100,
    ),
]
OrderIdsArg = Annotated[
    list[IdValue],
    Field(description="1 to 100 order ids (strings or numbers).", min_length=1, max_length=100),
]
FolderArg = Annotated[
    Annotated[str, Field(min_length=1, max_length=200)] | Annotated[int, Field(ge=1)],
    BeforeValidator(no_bool),
    Field(
        description="Destination folder: its name in any case (e.g. 'Prepared') or its id; an unknown "
        "folder's error lists the store's folders."
    ),
]
TrackingArg = Annotated[
    str, Field(description="Tracking number; 'n/a' when the parcel has none.", min_length=1, max_length=200)
]
CarrierArg = Annotated[
    str, Field(description="Carrier code as OrderDesk names it, e.g. 'UPS', 'USPS', 'FedEx'.", min_length=1,
                max_length=100)
]  # fmt: skip
ShipmentMethodArg = Annotated[
    str | None, Field(description="e.g. 'Ground', 'Priority Mail'.", min_length=1, max_length=200)
]
WeightArg = Annotated[float | None, Field(description="Parcel weight.", ge=0, le=100_000)]
CostArg = Annotated[float | None, Field(description="Shipping cost paid.", ge=0, le=1_000_000)]
TrackingUrlArg = Annotated[str | None, Field(description="Tracking page URL.", min_length=1, max_length=2000)]
ShipmentStatusArg = Annotated[
    str | None, Field(description="Carrier status text.", min_length=1, max_length=200)
]
ConfirmArg = Annotated[bool, Field(description="Must be true (a JSON boolean) to delete.", strict=True)]
ShipmentIdArg = strict_id("The shipment's id, from shipments_list.", example=123456)
NoteArg = Annotated[
    str, Field(description="The note, 1 to 2000 characters (appended to the order's history).", min_length=1,
               max_length=2000)
]  # fmt: skip
IdempotencyKeyArg = Annotated[
    str | None,
    Field(description="Any unique string; repeats within 24 h return the first result.", min_length=1,
          max_length=200),
]  # fmt: skip
ItemIdArg = strict_id("OrderDesk inventory item id (digits), from inventory_list.", example=2501)
OptionalItemIdArg = Annotated[
    IdValue | None,
    Field(description="OrderDesk inventory item id (digits); or pass code instead."),
]
LimitArg = Annotated[
    Annotated[int, Field(ge=1, le=500)], BeforeValidator(no_bool), Field(description="Page size, 1 to 500.")
]
OffsetArg = Annotated[
    Annotated[int, Field(ge=0, le=MAX_OFFSET)],
    BeforeValidator(no_bool),
    Field(description="Items to skip, 0 to 1000000."),
]
CodeArg = Annotated[
    str | None, Field(description="The item's code (SKU), exact.", min_length=1, max_length=200)
]
SearchArg = Annotated[
    str | None, Field(description="Text the item's name or code contains.", min_length=1, max_length=200)
]
ItemChangesArg = Annotated[
    dict[str, Any],
    AfterValidator(capped_strings),
    Field(
        description="Inventory fields to change, as OrderDesk names them (name, code, price, cost, weight, "
        "stock, location, metadata, ...). Each value replaces the old one; null removes it; every field "
        "you do not name is kept exactly. id and dates cannot be changed."
    ),
]
FingerprintArg = Annotated[
    str | None,
    Field(description="Fingerprint from your last read of this item.", min_length=1, max_length=128),
]
DryRunArg = Annotated[bool, Field(description="Show the diff; write nothing.", strict=True)]
# The range before the validator: after it, pydantic cannot turn ge/le into the core schema and
# published them as they are ("ge", "le": no JSON Schema keywords, so clients ignored them and
# the argument error could not name the range).
DeltaArg = Annotated[
    int,
    Field(description="Change in stock, a whole number other than 0: 10 received, -2 broken.",
          ge=-1_000_000, le=1_000_000),
    BeforeValidator(no_bool),
]  # fmt: skip
ReasonArg = Annotated[
    str | None, Field(description="Why (kept in the audit log).", min_length=1, max_length=500)
]
AllowNegativeArg = Annotated[bool, Field(description="Allow the stock to go below 0.", strict=True)]


class MovedOut(TypedDict):
    order_id: str
    from_folder: NullableStr
    to_folder: str


class FailedMoveOut(TypedDict):
    order_id: str
    error: str


class MoveOrdersOut(TypedDict):
    moved: list[Annotated[MovedOut, inline_schema(MovedOut)]]
    unchanged: list[str]
    failed: list[Annotated[FailedMoveOut, inline_schema(FailedMoveOut)]]


class ShipmentsListOut(TypedDict):
    order_id: str
    shipments: ObjectList
    total_count: int  # the order's shipments, all of them (a cut result shows fewer)
    truncated: bool
    over_budget: NotRequired[bool]
    hint: NotRequired[str]


class AddShipmentOut(TypedDict):
    shipment: dict[str, Any]
    created: bool
    order_fingerprint: str


class DeleteShipmentOut(TypedDict):
    deleted: bool
    order_id: str
    shipment_id: str


class AddNoteOut(TypedDict):
    order_id: str
    note: str
    history_count: int
    fingerprint: str


class InventoryListOut(TypedDict):
    items: ObjectList
    fingerprints: IdMap
    total_count: int
    limit: int
    offset: int
    has_more: bool
    next_offset: NullableInt
    truncated: bool
    over_budget: NotRequired[bool]
    hint: NotRequired[str]


class InventoryGetOut(TypedDict):
    item: dict[str, Any]
    fingerprint: str


class ItemChangeOut(TypedDict):
    field: str
    before: Any
    after: Any


class InventoryUpdateOut(TypedDict):
    item: dict[str, Any]
    fingerprint: str
    changed_fields: list[str]
    dry_run: bool
    diff: list[Annotated[ItemChangeOut, inline_schema(ItemChangeOut)]]


class AdjustStockOut(TypedDict):
    item_id: str
    code: str
    stock_before: int
    stock_after: int
