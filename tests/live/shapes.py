"""What OrderDesk's answers look like, as the assumption tests check it (ORDERDESK_API sections 3, 7)."""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "DATE_TIME",
    "MISSING_ORDER_ID",
    "is_digits",
    "is_number",
    "own_order_doc",
    "says_how_long_it_took",
]

MISSING_ORDER_ID = "999999999999"  # twelve digits: no store has an order with this id yet
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")  # UTC, no zone, no T (7.1)
_SECONDS = r"\d+(?:\.\d+)? seconds"


def says_how_long_it_took(body: dict[str, Any]) -> bool:
    """``execution_time: "0.1290 seconds"`` or ``message: "Execution took 0.0208 seconds"`` (section 3)."""
    took, message = body.get("execution_time"), body.get("message")
    return (isinstance(took, str) and re.fullmatch(_SECONDS, took) is not None) or (
        isinstance(message, str) and re.fullmatch(f"Execution took {_SECONDS}", message) is not None
    )


def is_digits(value: object) -> bool:
    """A string of ASCII digits, as OrderDesk sends order, item and store ids (7.2)."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def is_number(value: object) -> bool:
    """A JSON number or a numeric string such as ``"10"`` or ``"1.70"`` (7.2), never a boolean."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and re.fullmatch(r"-?\d+(?:\.\d+)?", value.strip()) is not None


def own_order_doc(source_id: str, **fields: Any) -> dict[str, Any]:
    """An order the suite may create: one mug, a named customer, an example.com address."""
    doc: dict[str, Any] = {
        "source_id": source_id,
        "email": "odmcp-live@example.com",
        "customer": {"first_name": "Ada", "last_name": "Lovelace"},
        "order_items": [{"name": "Mug", "code": "odmcp-live-mug", "price": 9.5, "quantity": 2}],
    }
    return doc | fields
