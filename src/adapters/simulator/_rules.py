"""OrderDesk's rules for one order document: what a create needs, item ids, computed totals.

Pure functions over plain dicts; :class:`SimulatorState` sequences them. Numbers arrive as
JSON numbers or strings (``"10"``, ``"1.70"``) as they do from OrderDesk; anything that is not
a finite number counts as 0, so a hostile body cannot produce ``inf`` or crash the totals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["SimError", "compute_totals", "number", "stamp_items", "validate_items", "validate_new"]


class SimError(Exception):
    """An OrderDesk error answer: HTTP status plus its ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def number(value: object) -> float:
    """``value`` as a finite float; 0.0 for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0.0
    try:
        result = float(value)
    except ValueError:
        return 0.0
    return result if math.isfinite(result) else 0.0


def validate_items(body: Mapping[str, Any]) -> None:
    """Refuse an ``order_items`` value that is not a list of objects.

    Raises:
        SimError: 422 naming the first offending item.
    """
    items = body.get("order_items", [])
    if not isinstance(items, list):
        raise SimError(422, "order_items must be a list of order item objects")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise SimError(422, f"order_items[{index}] must be an order item object")


def validate_new(body: Mapping[str, Any]) -> None:
    """What ``POST /orders`` needs: one item, and a first+last name or a company (§5.1).

    Raises:
        SimError: 422 naming everything that is missing, joined with ``"; "``.
    """
    validate_items(body)
    problems = []
    if not body.get("order_items"):
        problems.append("at least one order item is required")
    named = False
    for part in ("shipping", "customer"):
        section = body.get(part)
        if isinstance(section, dict):
            full_name = section.get("first_name") and section.get("last_name")
            named = named or bool(full_name or section.get("company"))
    if not named:
        problems.append("a first and last name or a company is required in shipping or customer")
    if problems:
        raise SimError(422, "; ".join(problems))


def stamp_items(body: dict[str, Any], new_id: Callable[[], str]) -> None:
    """Give items without an ``id`` a new one; empty maps come back as ``[]`` like PHP's json_encode."""
    for item in body.get("order_items") or []:
        if not item.get("id"):
            item["id"] = new_id()
        for key in ("variation_list", "metadata"):
            if item.get(key) == {}:
                item[key] = []


def compute_totals(body: dict[str, Any], *, email_count: int) -> None:
    """Set the read-only totals: order_total = product + shipping + handling + tax - discount."""
    items = body.get("order_items") or []
    quantity = sum(float(int(number(i.get("quantity", 1)))) for i in items)
    product = sum(number(i.get("price")) * number(i.get("quantity", 1)) for i in items)
    weight = sum(number(i.get("weight")) * number(i.get("quantity", 1)) for i in items)
    discounts = body.get("discount_list")
    listed = discounts if isinstance(discounts, list) else []
    discount = sum(number(d.get("amount")) for d in listed if isinstance(d, dict))
    extra = sum(number(body.get(k)) for k in ("shipping_total", "handling_total", "tax_total"))
    totals = {
        "weight_total": round(weight, 3),
        "product_total": round(product, 2),
        "discount_total": round(discount, 2),
        "order_total": round(product + extra - discount, 2),
    }
    # huge but finite inputs can still overflow when added up; never serve inf or nan
    body |= {k: v if math.isfinite(v) else 0.0 for k, v in totals.items()}
    body["quantity_total"] = int(quantity) if math.isfinite(quantity) else 0
    body["email_count"] = str(email_count)
