"""The merge policy of ``orders_update``: a pure ``(latest_doc, changes) -> new_doc``.

- Top-level keys in ``changes`` replace the old value.
- ``shipping``, ``customer``, ``return_address``, ``checkout_data`` and ``order_metadata`` merge
  shallowly, key by key.
- ``order_items``, ``order_notes`` and ``discount_list`` are replaced whole when given.
- ``None`` (JSON null) removes the field; inside a nested object it removes that key.
- Every key the changes do not name is kept exactly as fetched, unknown fields included.

An update may not leave the order without what a create requires: ``order_items`` cannot be
emptied or removed, and a change to ``shipping``/``customer`` that would leave neither with a
name (a first and last name, or a company) is refused. A merged document whose JSON would pass
1 MB is refused with its size before anything is sent.

Keys OrderDesk owns or computes (``id``, ``source_id``, dates, totals, ``email_count``,
``order_shipments``, ``order_history``, ``cc_number_masked``, ``processor_balance``,
``refund_total``), ``folder_id`` and unknown keys are refused by :func:`validate_changes`
before anything is merged. ``folder_id`` is refused because OrderDesk moves orders through its
``/move-orders`` endpoint, which runs the folder rules; ``orders_update`` does not move orders.

After the PUT, :func:`lost_fields` checks that the saved order carries every merged value,
allowing for what OrderDesk legitimately adds or normalises (item ids, ``"10"`` for ``10``,
``[]`` for an empty object, ``""`` for a removed field).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from orderdesk_mcp.domain.errors import InvalidRequest, MergeRejected
from orderdesk_mcp.domain.order_rules import (
    NESTED_FIELDS,
    OWNED_FIELDS,
    WRITABLE_FIELDS,
    check_values,
    has_name,
)
from orderdesk_mcp.domain.results import Change
from orderdesk_mcp.domain.value_checks import body_size_problem

__all__ = ["carries", "diff", "lost_fields", "merge", "validate_changes", "value_at"]


def validate_changes(
    changes: Mapping[str, Any], *, current: Mapping[str, Any] | None = None, address_keys: bool = True
) -> None:
    """Refuse keys an update may not touch, and values of the wrong shape.

    Args:
        changes: The caller's changes.
        current: The fetched order, when known: keys it already has inside an address object
            may be changed even if OrderDesk's documentation does not list them.
        address_keys: False skips checking the keys inside address objects (for a check made
            before the order is read; repeat it with ``current`` afterwards).

    Raises:
        MergeRejected: owned, folder or unknown keys (all of them, in one message).
        InvalidRequest: wrong value types, naming each path; changes that would leave the order
            without items or without a name (checked against ``current``); changes over 1 MB.
    """
    owned = [k for k in changes if k in OWNED_FIELDS and k != "source_id"]
    fixed = [k for k in changes if k == "source_id"]
    folder = [k for k in changes if k == "folder_id"]
    unknown = [k for k in changes if k not in WRITABLE_FIELDS and k not in OWNED_FIELDS and k != "folder_id"]
    if owned or fixed or folder or unknown:
        reasons = []
        if owned:
            reasons.append(f"OrderDesk sets {', '.join(sorted(owned))} itself.")
        if fixed:
            reasons.append("source_id is fixed once the order exists.")
        if folder:
            reasons.append("To move an order to another folder, use orders_move.")
        if unknown:
            reasons.append("Unknown keys are refused so a typo cannot silently change nothing.")
        reasons.append(f"Changeable keys: {', '.join(sorted(WRITABLE_FIELDS))}.")
        raise MergeRejected([*owned, *fixed, *folder, *unknown], reasons)
    problems = check_values(changes, current=current, address_keys=address_keys)
    if "order_items" in changes and not changes["order_items"]:
        problems.append("order_items cannot be emptied or removed: an order needs at least one item")
    named = {k: changes[k] for k in ("shipping", "customer") if k in changes}
    if current is not None and named and has_name(current) and not has_name(_merged(current, named)):
        problems.append(
            "this change would leave the order without a name: shipping or customer needs a "
            "first_name and last_name, or a company"
        )
    too_big = body_size_problem(changes, what="the changes alone")
    if too_big:
        problems.append(too_big)
    if problems:
        raise InvalidRequest(problems)


def merge(latest: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The document to PUT: ``latest`` with ``changes`` merged by the policy above.

    Raises:
        InvalidRequest: when the merged document's JSON would pass 1 MB (with its size).
    """
    merged = _merged(latest, changes)
    too_big = body_size_problem(merged) if changes else None
    if too_big:
        raise InvalidRequest([too_big])
    return merged


def _merged(latest: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(latest))
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif key in NESTED_FIELDS and isinstance(value, Mapping):
            current = merged.get(key)
            section = dict(current) if isinstance(current, Mapping) else {}
            for sub, sub_value in value.items():
                if sub_value is None:
                    section.pop(sub, None)
                else:
                    section[sub] = copy.deepcopy(sub_value)
            merged[key] = section
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any], *, keys: set[str] | None = None
) -> tuple[Change, ...]:
    """Field-level differences, sorted by path; ``keys`` limits the top level.

    Keys of the merged-by-key objects (``shipping``, ``customer``, ...) are reported by dotted
    path (``shipping.city``); any other value, lists included, is reported whole.
    """
    names = sorted((set(before) | set(after)) if keys is None else keys)
    changes: list[Change] = []
    for key in names:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key in NESTED_FIELDS and isinstance(old, Mapping) and isinstance(new, Mapping):
            for sub in sorted(set(old) | set(new)):
                if old.get(sub) != new.get(sub):
                    changes.append(Change(field=f"{key}.{sub}", before=old.get(sub), after=new.get(sub)))
        else:
            changes.append(Change(field=key, before=old, after=new))
    return tuple(changes)


def value_at(doc: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` produced by :func:`diff` (None when absent)."""
    head, _, sub = path.partition(".")
    value = doc.get(head)
    if sub:
        return value.get(sub) if isinstance(value, Mapping) else None
    return value


def _as_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def carries(saved: Any, intended: Any) -> bool:
    """Whether OrderDesk's ``saved`` value holds the ``intended`` one.

    Objects may gain keys (an item's new ``id``), numbers may come back as strings, an empty
    object may come back as ``[]``, and a removed value may come back blank.
    """
    if intended is None or intended in ("", [], {}):
        return saved is None or saved in ("", [], {})
    if isinstance(intended, Mapping):
        return isinstance(saved, Mapping) and all(carries(saved.get(k), v) for k, v in intended.items())
    if isinstance(intended, list):
        return (
            isinstance(saved, list)
            and len(saved) == len(intended)
            and all(carries(s, i) for s, i in zip(saved, intended, strict=True))
        )
    if isinstance(intended, str) and isinstance(saved, str):
        return saved == intended
    wanted, got = _as_number(intended), _as_number(saved)
    if wanted is not None and got is not None:
        return wanted == got
    return bool(saved == intended)


def lost_fields(saved: Mapping[str, Any], changes: tuple[Change, ...]) -> tuple[str, ...]:
    """The paths of ``changes`` whose new value the ``saved`` document does not carry."""
    return tuple(c.field for c in changes if not carries(value_at(saved, c.field), c.after))
