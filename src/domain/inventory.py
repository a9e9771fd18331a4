"""Inventory items: the aggregate (raw document, typed view, fingerprint) and its write rules.

OrderDesk's inventory PUT blanks every field it is not sent, exactly like an order PUT, so
an update is fetch -> merge -> PUT of the whole item. The merge is ``domain.merge.merge``
(top-level keys replace, ``None`` removes, every unnamed key kept byte for byte); inventory
has none of the order's merged-by-key objects, so every named value is replaced whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from orderdesk_mcp.domain.errors import InvalidRequest, MergeRejected
from orderdesk_mcp.domain.order import fingerprint_of
from orderdesk_mcp.domain.value_checks import is_number

__all__ = [
    "INVENTORY_FIELDS",
    "INVENTORY_OWNED",
    "InventoryItem",
    "InventoryPage",
    "InventoryQuery",
    "normalize_item_id",
    "stock_of",
    "validate_item_changes",
]

INVENTORY_OWNED = frozenset({"id", "date_added", "date_updated"})
INVENTORY_FIELDS = frozenset(
    {
        "name", "code", "price", "cost", "weight", "stock", "metadata", "location", "update_source",
        "variation_list", "manufacturer_sku",
    }
)  # fmt: skip
_NUMBERS = ("price", "cost", "weight")


def normalize_item_id(value: object) -> str | None:
    """The canonical inventory item id (digits, no leading zeros) for ``value``, or None.

    OrderDesk sends inventory ids as integers; ``2501``, ``"2501"`` and ``2501.0`` all mean ``"2501"``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    if not isinstance(value, int | str):
        return None
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 20 or int(text) == 0:
        return None
    return str(int(text))


def stock_of(doc: Mapping[str, Any]) -> int | None:
    """The item's stock as a whole number (OrderDesk may send ``"12"``); None when unreadable."""
    raw = doc.get("stock")
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw.strip())
    if raw in (None, ""):
        return 0
    return None


class InventoryItem(msgspec.Struct, frozen=True, kw_only=True):
    """One inventory item as OrderDesk stores it; ``doc`` is never mutated."""

    doc: dict[str, Any]
    id: str
    code: str
    name: str
    fingerprint: str

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> InventoryItem:
        owned = dict(doc)
        return cls.from_cached(owned, fingerprint_of(owned))

    @classmethod
    def from_cached(cls, doc: Mapping[str, Any], fingerprint: str) -> InventoryItem:
        owned = dict(doc)
        return cls(
            doc=owned,
            id=str(owned.get("id", "")),
            code=str(owned.get("code") or ""),
            name=str(owned.get("name") or ""),
            fingerprint=fingerprint,
        )

    @property
    def stock(self) -> int | None:
        return stock_of(self.doc)


class InventoryQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``GET /inventory-items`` parameters (``code`` and ``search`` are sent as OrderDesk names them)."""

    limit: int = 50
    offset: int = 0
    code: str | None = None
    search: str | None = None

    def cache_identity(self) -> str:
        return f"{self.limit}|{self.offset}|{self.code!r}|{self.search!r}"


class InventoryPage(msgspec.Struct, frozen=True, kw_only=True):
    items: tuple[InventoryItem, ...]
    total_count: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total_count


def validate_item_changes(changes: Mapping[str, Any], *, current: Mapping[str, Any] | None = None) -> None:
    """Refuse owned and unknown keys, and values of the wrong shape.

    Keys the item already carries may be changed even when OrderDesk's documentation does not
    list them (``current``). Without ``current`` (a check made before the item is read) only the
    values are checked; the keys are judged, all in one message, once the item is known.

    Raises:
        MergeRejected: owned or unknown keys, all of them in one message.
        InvalidRequest: wrong value types, naming each field.
    """
    owned: list[str] = []
    unknown: list[str] = []
    if current is not None:
        known = INVENTORY_FIELDS | set(current)
        owned = sorted(k for k in changes if k in INVENTORY_OWNED)
        unknown = sorted(k for k in changes if k not in known and k not in INVENTORY_OWNED)
    if owned or unknown:
        reasons = []
        if owned:
            reasons.append(f"OrderDesk sets {', '.join(owned)} itself.")
        if unknown:
            reasons.append("Unknown keys are refused so a typo cannot silently change nothing.")
        reasons.append(f"Changeable keys: {', '.join(sorted(INVENTORY_FIELDS))}.")
        raise MergeRejected([*owned, *unknown], reasons)
    problems = []
    for key in ("name", "code"):
        if key in changes and (not isinstance(changes[key], str) or not changes[key].strip()):
            problems.append(f"{key} must be a non-empty string (OrderDesk requires it)")
    if "stock" in changes:
        stock = changes["stock"]
        if isinstance(stock, bool) or not isinstance(stock, int):
            problems.append(
                "stock must be a whole number given as a number, like 12, not text "
                "(use inventory_adjust_stock for +/- changes)"
            )
    for key in _NUMBERS:
        value = changes.get(key)
        # OrderDesk sends numbers as strings too ("12.50", §7.2), so a numeric string is fine; "cheap" is not.
        if value is not None and not is_number(value):
            problems.append(f"{key} must be a number")
    if problems:
        raise InvalidRequest(problems)
