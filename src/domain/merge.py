"""The merge policy of ``orders.update``: a pure ``(latest_doc, changes) -> new_doc``.

- Top-level keys in ``changes`` replace the old value.
- ``shipping``, ``customer``, ``return_address``, ``checkout_data`` and ``order_metadata`` merge
  shallowly, key by key.
- ``order_items``, ``order_notes`` and ``discount_list`` are replaced whole when given.
- ``None`` (JSON null) removes the field; inside a nested object it removes that key.
- Every key the changes do not name is kept exactly as fetched, unknown fields included.

Keys OrderDesk owns or computes, ``folder_id`` (moves go through OrderDesk's move-orders
endpoint, which runs folder rules; this service does not move orders) and unknown keys are
refused by :func:`validate_changes` before anything is merged.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from domain.errors import InvalidRequest, MergeRejected
from domain.order_rules import NESTED_FIELDS, OWNED_FIELDS, WRITABLE_FIELDS, check_values
from domain.results import Change

__all__ = ["diff", "merge", "validate_changes", "value_at"]


def validate_changes(changes: Mapping[str, Any]) -> None:
    """Refuse keys an update may not touch, and values of the wrong shape.

    Raises:
        MergeRejected: owned, folder or unknown keys (all of them, in one message).
        InvalidRequest: wrong value types, naming each path.
    """
    owned = [k for k in changes if k in OWNED_FIELDS]
    folder = [k for k in changes if k == "folder_id"]
    unknown = [k for k in changes if k not in WRITABLE_FIELDS and k not in OWNED_FIELDS and k != "folder_id"]
    if owned or folder or unknown:
        reasons = []
        if owned:
            reasons.append(f"OrderDesk sets {', '.join(sorted(owned))} itself.")
        if folder:
            reasons.append("Moving an order between folders is not supported by orders.update.")
        if unknown:
            reasons.append("Unknown keys are refused so a typo cannot silently change nothing.")
        reasons.append(f"Changeable keys: {', '.join(sorted(WRITABLE_FIELDS))}.")
        raise MergeRejected([*owned, *folder, *unknown], reasons)
    problems = check_values(changes)
    if problems:
        raise InvalidRequest(problems)


def merge(latest: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The document to PUT: ``latest`` with ``changes`` merged by the policy above."""
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
) -> list[Change]:
    """Field-level differences, nested objects by dotted path; ``keys`` limits the top level."""
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
    return changes


def value_at(doc: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` produced by :func:`diff` (None when absent)."""
    head, _, sub = path.partition(".")
    value = doc.get(head)
    if sub:
        return value.get(sub) if isinstance(value, Mapping) else None
    return value
