"""What OrderDesk lets a client write, and the enums and shapes it accepts."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from orderdesk_mcp.domain.value_checks import body_size_problem, control_problems, date_problems, is_number

__all__ = [
    "ADDRESS_FIELDS",
    "ADDRESS_KEYS",
    "ARRAY_FIELDS",
    "DELIVERY_TYPES",
    "ITEM_KEYS",
    "NESTED_FIELDS",
    "OWNED_FIELDS",
    "PAYMENT_STATUSES",
    "WRITABLE_FIELDS",
    "check_new_order",
    "check_values",
    "has_name",
    "looks_like_sent",
]

PAYMENT_STATUSES = (
    "Approved",
    "Authorized",
    "Captured",
    "Fully Refunded",
    "Partially Refunded",
    "Pending",
    "Rejected",
    "Voided",
)
DELIVERY_TYPES = ("ship", "noship", "download", "future")
ADDRESS_FIELDS = frozenset({"shipping", "customer", "return_address"})
NESTED_FIELDS = ADDRESS_FIELDS | {"checkout_data", "order_metadata"}
_PERSON = ("first_name", "last_name", "company", "address1", "address2", "address3", "address4")
_PLACE = ("city", "state", "postal_code", "country", "phone")
# The documented keys of each address object (§5.2, §5.3); a typo like ``shipping.citty`` would
# otherwise be written, dropped by OrderDesk and "succeed" while changing nothing.
ADDRESS_KEYS: dict[str, frozenset[str]] = {
    "shipping": frozenset(_PERSON + _PLACE),
    "customer": frozenset(_PERSON + _PLACE),
    "return_address": frozenset(("title", "name", "company", "address1", "address2", *_PLACE)),
}
# The keys of an order item: §5.4's table, which is also every key of the items in OrderDesk's
# reference order and the simulator's. ``qty`` or ``sku`` would otherwise be written, dropped by
# OrderDesk, and the item saved with its quantity, price or code blanked.
ITEM_KEYS = frozenset({
    "id", "name", "price", "quantity", "weight", "code", "delivery_type", "category_code",
    "fulfillment_method", "variation_list", "metadata",
})  # fmt: skip
# Names agents reach for that are not OrderDesk's; typos are matched with difflib.
_ITEM_ALIASES = {
    "qty": "quantity", "sku": "code", "product_code": "code", "item_code": "code", "title": "name",
    "product_name": "name", "unit_price": "price", "variations": "variation_list",
    "options": "variation_list",
}  # fmt: skip
ARRAY_FIELDS = frozenset({"order_items", "order_notes", "discount_list"})
OWNED_FIELDS = frozenset({
    "id", "date_added", "date_updated", "quantity_total", "weight_total", "product_total", "discount_total",
    "order_total", "email_count", "order_shipments", "order_history", "cc_number_masked", "processor_balance",
    "refund_total", "source_id",
})  # fmt: skip
_SCALARS = frozenset({
    "source_name", "email", "shipping_method", "shipping_total", "handling_total", "tax_total", "cc_number",
    "cc_exp", "processor_response", "payment_type", "payment_status", "customer_id", "ip_address",
    "fulfillment_name", "fulfillment_id", "tag_color", "tag_name",
})  # fmt: skip
WRITABLE_FIELDS = _SCALARS | NESTED_FIELDS | ARRAY_FIELDS
_NUMBERS = frozenset({"shipping_total", "handling_total", "tax_total"})


def check_values(
    doc: Mapping[str, Any], *, current: Mapping[str, Any] | None = None, address_keys: bool = True
) -> list[str]:
    """Every wrong value in ``doc``, by path. ``None`` means "remove" on update and is fine.

    Address objects and order items accept their documented keys, plus any key the ``current``
    order already has in that object or in any of its items (OrderDesk may return fields its
    documentation does not list); ``address_keys=False`` skips both key checks (before the order
    has been read). ``checkout_data`` maps names to strings (§5.1).
    """
    problems: list[str] = []
    for key, value in doc.items():
        if value is None:
            continue
        problems += control_problems(value, key)
        if key in NESTED_FIELDS:
            if not isinstance(value, Mapping):
                problems.append(f"{key} must be an object")
            elif key in ADDRESS_FIELDS:
                problems += _check_address(key, value, (current or {}).get(key), address_keys)
            elif key == "checkout_data":
                problems += [
                    f"checkout_data.{sub} must be a string"
                    for sub, v in value.items()
                    if v is not None and not isinstance(v, str)
                ]
        elif key in ARRAY_FIELDS:
            if not isinstance(value, list):
                problems.append(f"{key} must be a list")
            elif not all(isinstance(item, Mapping) for item in value):
                problems.append(f"every entry of {key} must be an object")
            else:
                problems += date_problems(value, key)
                if key == "order_items":
                    problems += _check_items(value, _item_keys(current) if address_keys else None)
        elif key in _NUMBERS and not is_number(value):
            problems.append(f"{key} must be a number")
        elif key == "payment_status" and value not in PAYMENT_STATUSES:
            problems.append(f"payment_status must be one of {', '.join(PAYMENT_STATUSES)}")
        elif key in _SCALARS and key not in _NUMBERS and not isinstance(value, str):
            problems.append(f"{key} must be a string")
    return problems


def _check_address(key: str, value: Mapping[str, Any], current: object, check_keys: bool) -> list[str]:
    known = ADDRESS_KEYS[key] | (set(current) if isinstance(current, Mapping) else set())
    unknown = sorted(str(sub) for sub in value if sub not in known)
    problems = [
        f"{key}.{sub} must be a string"
        for sub, v in value.items()
        if v is not None and not isinstance(v, str)
    ]
    if unknown and check_keys:
        problems.append(
            f"{key} has no field {', '.join(unknown)} (its fields: {', '.join(sorted(ADDRESS_KEYS[key]))})"
        )
    return problems


def _item_keys(current: Mapping[str, Any] | None) -> frozenset[str]:
    """The documented item keys plus every key an item of the ``current`` order carries."""
    items = (current or {}).get("order_items")
    extra = {str(k) for i in items if isinstance(i, Mapping) for k in i} if isinstance(items, list) else set()
    return ITEM_KEYS | extra


def _unknown_item_keys(n: int, item: Mapping[str, Any], known: frozenset[str]) -> list[str]:
    unknown = sorted(str(k) for k in item if k not in known)
    if not unknown:
        return []
    named = []
    for key in unknown:
        near = _ITEM_ALIASES.get(key.casefold()) or next(
            iter(difflib.get_close_matches(key, sorted(ITEM_KEYS), n=1, cutoff=0.75)), None
        )
        named.append((key, near))
    text = ", ".join(f"{key} (did you mean {near}?)" if near else key for key, near in named)
    if any(near is None for _, near in named):
        text += f" (its fields: {', '.join(sorted(ITEM_KEYS))})"
    return [f"order_items[{n}] has no field {text}"]


def _check_items(items: list[Mapping[str, Any]], known: frozenset[str] | None) -> list[str]:
    """Value checks of every item, and (unless ``known`` is None) its keys against ``known``."""
    problems = []
    for n, item in enumerate(items):
        if known is not None:
            problems += _unknown_item_keys(n, item, known)
        delivery = item.get("delivery_type")
        if delivery is not None and delivery not in DELIVERY_TYPES:
            problems.append(f"order_items[{n}].delivery_type must be one of {', '.join(DELIVERY_TYPES)}")
        for number in ("price", "quantity", "weight"):
            if number in item and not is_number(item[number]):
                problems.append(f"order_items[{n}].{number} must be a number")
            elif number in ("price", "quantity") and number in item and float(item[number]) < 0:
                problems.append(f"order_items[{n}].{number} must not be negative")
            elif number == "quantity" and number in item and not float(item[number]).is_integer():
                problems.append(f"order_items[{n}].quantity must be a whole number")
    return problems


def has_name(doc: Mapping[str, Any]) -> bool:
    """Whether ``shipping`` or ``customer`` has a first and last name, or a company (a create needs it)."""
    for part in ("shipping", "customer"):
        section = doc.get(part)
        if isinstance(section, Mapping) and (
            (section.get("first_name") and section.get("last_name")) or section.get("company")
        ):
            return True
    return False


def check_new_order(doc: Mapping[str, Any]) -> list[str]:
    """Everything missing or wrong in a new order, before anything is sent to OrderDesk."""
    problems = [
        f"{key} is set by OrderDesk and cannot be given"
        for key in sorted(OWNED_FIELDS - {"source_id"})
        if key in doc
    ]
    unknown = sorted(
        k for k in doc if k not in WRITABLE_FIELDS and k not in OWNED_FIELDS and k != "folder_id"
    )
    problems += [f"unknown field {k!r}" for k in unknown]
    items = doc.get("order_items")
    if not isinstance(items, list) or not items:
        problems.append("order_items needs at least one item")
    if not has_name(doc):
        problems.append("shipping or customer needs a first_name and last_name, or a company")
    if "source_id" in doc and not isinstance(doc["source_id"], str):
        problems.append("source_id must be a string")
    folder = doc.get("folder_id")
    if "folder_id" in doc and (isinstance(folder, bool) or not isinstance(folder, int) or folder < 1):
        problems.append("folder_id must be a positive integer (a folder id from the store's folders)")
    problems += check_values({k: v for k, v in doc.items() if k in WRITABLE_FIELDS})
    too_big = body_size_problem(doc)
    return [*problems, too_big] if too_big else problems


def looks_like_sent(sent: Mapping[str, Any], found: Mapping[str, Any]) -> bool:
    """Whether ``found`` (looked up by ``source_id``) is the order we sent, not another one.

    Used after an unconfirmed create: the email, customer id and source name must match when
    they were sent, and the items must match in number and in their given names and codes.
    """
    for key in ("email", "customer_id", "source_name"):
        if key in sent and str(sent[key]) != str(found.get(key, "")):
            return False
    wanted, got = sent.get("order_items"), found.get("order_items")
    if not isinstance(wanted, list) or not isinstance(got, list) or len(wanted) != len(got):
        return False
    for want, have in zip(wanted, got, strict=True):
        if not isinstance(want, Mapping) or not isinstance(have, Mapping):
            return False
        if any(k in want and str(want[k]) != str(have.get(k, "")) for k in ("name", "code")):
            return False
    return True
