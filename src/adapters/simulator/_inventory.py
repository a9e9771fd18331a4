"""Inventory items of one simulated store (ORDERDESK_API §2.7, §5.7).

Ids are integers; ``GET /inventory-items`` takes ``limit`` (default 50, at most 500),
``offset``, ``code`` (exact) and ``search`` (name or code contains, any case), and answers
``total_records`` as a *string*, as OrderDesk's sample does. ``PUT`` replaces the whole item:
every documented field it is not sent is blanked, and its answer carries no item.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from orderdesk_mcp.adapters.simulator._rules import SimError
from orderdesk_mcp.adapters.simulator._store import Store

__all__ = ["INVENTORY_FIELDS", "add_item", "get_item", "list_items", "replace_item", "sample_items"]

INVENTORY_FIELDS = ("name", "code", "price", "cost", "weight", "stock", "metadata", "location",
                    "update_source", "variation_list", "manufacturer_sku")  # fmt: skip
_MAX_LIMIT = 500


def _whole(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit():
        raise SimError(422, f"{name} must be a whole number of 0 or more")
    return int(raw)


def _item(store: Store, item_id: str) -> dict[str, Any]:
    doc = store.inventory.get(int(item_id)) if item_id.isdigit() else None
    if doc is None:
        raise SimError(404, "Inventory Item not found")
    return doc


def _check(body: Mapping[str, Any]) -> None:
    problems = [f"{k} is required" for k in ("name", "code") if not str(body.get(k) or "").strip()]
    stock = body.get("stock", 0)
    if isinstance(stock, bool) or not (isinstance(stock, int) or (isinstance(stock, str) and
                                                                 stock.lstrip("-").isdigit())):  # fmt: skip
        problems.append("stock must be a whole number")
    if problems:
        raise SimError(422, "; ".join(problems))


def list_items(store: Store, params: Mapping[str, str]) -> tuple[int, list[dict[str, Any]]]:
    limit, offset = _whole(params, "limit", 50), _whole(params, "offset", 0)
    if not 1 <= limit <= _MAX_LIMIT:
        raise SimError(422, f"limit must be between 1 and {_MAX_LIMIT}")
    code, search = params.get("code"), params.get("search", "").casefold()

    def matches(doc: Mapping[str, Any]) -> bool:
        if code is not None and doc.get("code") != code:
            return False
        text = f"{doc.get('name', '')}\n{doc.get('code', '')}".casefold()
        return not search or search in text

    found = [d for _, d in sorted(store.inventory.items()) if matches(d)]
    return len(found), copy.deepcopy(found[offset : offset + limit])


def get_item(store: Store, item_id: str) -> dict[str, Any]:
    return copy.deepcopy(_item(store, item_id))


def add_item(store: Store, body: Mapping[str, Any], *, item_id: int, now: str) -> int:
    _check(body)
    doc = dict.fromkeys(INVENTORY_FIELDS, "") | copy.deepcopy(dict(body))
    doc |= {"id": item_id, "date_added": now, "date_updated": now}
    store.inventory[item_id] = doc
    return item_id


def replace_item(store: Store, item_id: str, body: Mapping[str, Any], *, now: str) -> None:
    """Full replacement: documented fields left out are blanked ("" ; stock 0)."""
    old = _item(store, item_id)
    _check(body)
    doc = dict.fromkeys(INVENTORY_FIELDS, "") | {"stock": 0} | copy.deepcopy(dict(body))
    if isinstance(doc["stock"], str):
        doc["stock"] = int(doc["stock"])
    doc |= {"id": old["id"], "date_added": old.get("date_added", ""), "date_updated": now}
    store.inventory[int(item_id)] = doc


def sample_items() -> list[dict[str, Any]]:
    """A few deterministic items (mugs, shirts) for the built-in simulator."""
    return [
        {"name": "Coffee mug", "code": "MUG-1", "price": 9.5, "cost": 3.1, "weight": 0.4, "stock": 10,
         "location": "A1", "metadata": {"colour": "white"}},
        {"name": "T-shirt, large", "code": "TEE-L", "price": 18, "cost": 6, "weight": 0.2, "stock": 25,
         "location": "B4", "metadata": []},
        {"name": "Sticker pack", "code": "STK-5", "price": 4, "cost": 0.5, "weight": 0.05, "stock": 200,
         "location": "C2", "metadata": []},
    ]  # fmt: skip
