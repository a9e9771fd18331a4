"""Boundary types of the MCP tools: argument aliases with descriptions and bounds, and outputs.

msgspec Structs cannot be MCP tool types (STYLE fact 1), so the boundary speaks
``typing_extensions.TypedDict`` and plain scalars; conversion from domain results lives in
:mod:`orderdesk_mcp.entrypoints.mcp_convert`. Input schemas declare their bounds (``minimum``,
``maximum``, ``maxLength``, ``enum``) so clients see them before calling, and every id argument
is strict: digits as a string, or a whole number, never a boolean or a fraction (pydantic's
lax ``int`` would read ``true`` as order 1). A schema failure reaches the agent as one line,
see :mod:`orderdesk_mcp.entrypoints.argument_errors`.
"""

from typing import Annotated, Any, Literal, NotRequired

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, TypeAdapter, WithJsonSchema
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from orderdesk_mcp.domain.field_selection import MAX_FIELDS
from orderdesk_mcp.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET

__all__ = [
    "DIGITS_PATTERN",
    "FOLDER_IDS_PATTERN",
    "MAX_STRING",
    "PATTERN_WORDS",
    "ChangesArg",
    "ConfirmArg",
    "CreateOrderOut",
    "DeleteConfirmation",
    "DeleteOrderOut",
    "DryRunArg",
    "FieldsArg",
    "FolderIdsArg",
    "FolderOut",
    "GetOrderOut",
    "IdMap",
    "LimitArg",
    "ListFoldersOut",
    "ListOrdersOut",
    "NewOrderArg",
    "NullableInt",
    "NullableStr",
    "ObjectList",
    "OffsetArg",
    "OrderIdArg",
    "StoreArg",
    "UpdateOrderOut",
    "ViewArg",
    "capped_strings",
    "inline_schema",
    "no_bool",
    "strict_id",
    "text_arg",
]

MAX_STRING = 10_000  # no single string argument is longer, at any depth
DIGITS_PATTERN = r"^\s*[0-9]{1,20}\s*$"
FOLDER_IDS_PATTERN = r"^[0-9,\s]{1,200}$"
# How argument errors describe each pattern (JSON Schema patterns are not for people).
PATTERN_WORDS = {DIGITS_PATTERN: "a string of digits", FOLDER_IDS_PATTERN: "a string of digits and commas"}


def no_bool(value: object) -> object:
    if isinstance(value, bool):
        raise PydanticCustomError("strict_id", "a boolean is not an id")
    return value


def strict_id(description: str, example: int = 500001) -> Any:
    """An id argument: a string of digits, or a whole number of at least 1 (never a boolean).

    ``example`` is shown in the schema and in argument errors: an id of the kind asked for.
    """
    digits = Annotated[str, Field(pattern=DIGITS_PATTERN, max_length=40)]
    whole = Annotated[int, Field(ge=1)]
    shown = Field(description=description, examples=[example, str(example)])
    return Annotated[digits | whole, BeforeValidator(no_bool), shown]


def _long_strings(value: object, path: str, found: list[str]) -> None:
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            found.append(f"{path} is {len(value)} characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            _long_strings(item, f"{path}.{key}", found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _long_strings(item, f"{path}[{index}]", found)


def capped_strings(value: dict[str, Any]) -> dict[str, Any]:
    found: list[str] = []
    _long_strings(value, "", found)
    if found:
        where = found[0].lstrip(".")
        raise PydanticCustomError(
            "string_too_long_nested", "{where}; a string may be at most {limit} characters",
            {"where": where, "limit": MAX_STRING},
        )  # fmt: skip
    return value


OrderIdArg = strict_id('OrderDesk order id: digits, as a string or a whole number (500001 or "500001").')
StoreArg = Annotated[
    str | None,
    Field(
        description="Store id or alias. Optional when you have one store; required (the error lists "
        "your stores) when you have several.",
        max_length=100,
    ),
]


def text_arg(description: str, max_length: int = MAX_STRING) -> Any:
    """The ``Field`` of a string argument: described, capped (never above ``MAX_STRING``) and never
    empty: an empty filter matched nothing (an empty page, read as "no such orders") and an empty
    fingerprint read as a changed order. Leave the argument out to mean "none"."""
    return Field(description=description, min_length=1, max_length=min(max_length, MAX_STRING))


FolderIdsArg = Annotated[
    Annotated[str, Field(pattern=FOLDER_IDS_PATTERN, max_length=200)] | Annotated[int, Field(ge=1)] | None,
    BeforeValidator(no_bool),
    Field(description="Folder id, or several as a comma list: '1,2'."),
]


LimitArg = Annotated[
    Annotated[int, Field(ge=1, le=MAX_LIMIT)],
    BeforeValidator(no_bool),
    Field(description=f"Page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."),
]
OffsetArg = Annotated[
    Annotated[int, Field(ge=0, le=MAX_OFFSET)],
    BeforeValidator(no_bool),
    Field(description="Orders to skip, 0 to 1000000; pass the previous page's next_offset."),
]
ViewArg = Annotated[
    Literal["summary", "full"],
    Field(
        description="summary (default): one flat object per order with its fingerprint; full: every "
        "field as OrderDesk stores it. fields, when given, wins over view."
    ),
]
FieldsArg = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]] | None,
    Field(
        description="Only these fields of each order, as top-level keys or dotted paths "
        "(['shipping.city', 'order_items']), plus id and fingerprint. A path absent from an order is "
        "left out of it. Wins over view.",
        min_length=1,
        max_length=MAX_FIELDS,
    ),
]
ChangesArg = Annotated[
    dict[str, Any],
    AfterValidator(capped_strings),
    Field(
        description="Order fields to change, as OrderDesk names them. Nested objects (shipping, customer, "
        "return_address, checkout_data, order_metadata) merge key by key; arrays (order_items, "
        "order_notes, discount_list) replace the whole list; null removes a field."
    ),
]
NewOrderArg = Annotated[
    dict[str, Any],
    AfterValidator(capped_strings),
    Field(
        description="The new order as OrderDesk names its fields: at least one entry in order_items, and a "
        "first and last name or a company in shipping or customer."
    ),
]


DryRunArg = Annotated[bool, Field(description="Show the diff; write nothing.", strict=True)]
ConfirmArg = Annotated[bool, Field(description="Must be true (a JSON boolean) to delete.", strict=True)]


class DeleteConfirmation(BaseModel):
    """What the person is asked (elicitation) before a delete without ``confirm``."""

    confirm: bool = Field(description="Delete it permanently?")


# An order (document, summary or selection) in a result: any object. Published as plain
# {"type": "object"}: the same meaning as pydantic's {"additionalProperties": true, ...}, without
# making every client's schema check walk each order's keys.
# Typed Any for pydantic, which runs the SDK's own check of each result against these types: it
# validated dict[str, Any] by copying the order into a new dict (1.9 against 0.4 µs for a get), and
# a page's list[dict[str, Any]] by copying all 50 (31 µs for summaries, 74 µs for full documents),
# only to confirm that our own code made dicts. The published schema is the same.
OrderObject = Annotated[Any, WithJsonSchema({"type": "object"})]
# The same for a list of documents and for an id -> fingerprint map: pydantic's
# {"items": {"type": "object"}} makes the SDK client's check descend into every element
# (about 245 us for a page of 50 orders, six times the rest of the check) to learn nothing new.
ObjectList = Annotated[Any, WithJsonSchema({"type": "array"})]
IdMap = Annotated[dict[str, str], WithJsonSchema({"type": "object"})]
# A field that may be null, published as one type list: {"type": ["string", "null"]} means what
# pydantic's {"anyOf": [{"type": "string"}, {"type": "null"}]} means, and a client's schema check
# settles it in one step instead of descending into each alternative (the SDK client's check of an
# orders_get result: 18.4 against 15.4 µs).
NullableStr = Annotated[str | None, WithJsonSchema({"type": ["string", "null"]})]
NullableInt = Annotated[int | None, WithJsonSchema({"type": ["integer", "null"]})]


class GetOrderOut(TypedDict):
    order: OrderObject
    folder: NullableStr
    fingerprint: str
    over_budget: NotRequired[bool]
    hint: NotRequired[str]


class ListOrdersOut(TypedDict):
    orders: ObjectList
    total_count: int
    limit: int
    offset: int
    has_more: bool
    next_offset: NullableInt
    truncated: bool
    fingerprints: NotRequired[IdMap]
    folders: NotRequired[IdMap]
    over_budget: NotRequired[bool]
    hint: NotRequired[str]


def inline_schema(tp: Any) -> WithJsonSchema:
    """``tp``'s JSON schema written in place, not as a ``$ref`` into ``$defs``.

    Clients validate structured content against the output schema; resolving each reference
    took most of a ``folders_list`` call in process (jsonschema's lookups), and some clients
    read ``$ref`` poorly. Use as ``list[Annotated[FolderOut, inline_schema(FolderOut)]]``.
    """
    return WithJsonSchema(TypeAdapter(tp).json_schema())


class FieldChangeOut(TypedDict):
    field: str
    before: Any
    after: Any


class UpdateOrderOut(TypedDict):
    order: OrderObject
    fingerprint: str
    changed_fields: list[str]
    attempts: int
    dry_run: bool
    diff: list[Annotated[FieldChangeOut, inline_schema(FieldChangeOut)]]
    summarized: NotRequired[bool]
    hint: NotRequired[str]


class CreateOrderOut(TypedDict):
    order: OrderObject
    fingerprint: str
    created: bool
    summarized: NotRequired[bool]
    hint: NotRequired[str]


class DeleteOrderOut(TypedDict):
    deleted: bool
    order_id: str
    note: NotRequired[str]  # said when the first answer was lost and the retry found the order gone


class FolderOut(TypedDict):
    id: int
    name: str


class ListFoldersOut(TypedDict):
    folders: list[Annotated[FolderOut, inline_schema(FolderOut)]]
