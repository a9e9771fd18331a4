"""The merge policy: properties (hypothesis) and the messages of refused changes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderdesk_mcp.domain.errors import InvalidRequest, MergeRejected
from orderdesk_mcp.domain.merge import diff, merge, validate_changes

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
DOCS = st.dictionaries(st.text(min_size=1, max_size=10), VALUES, max_size=8).map(
    lambda d: d | {"id": "500001", "shipping": {"first_name": "Ada", "city": "London"}}
)
WRITABLE = st.sampled_from(["email", "shipping_method", "tag_name", "payment_type", "customer_id"])
CHANGES = st.dictionaries(WRITABLE, st.text(max_size=10), max_size=4)


@given(DOCS)
def test_merging_no_changes_is_the_identity(doc: dict[str, Any]) -> None:
    assert merge(doc, {}) == doc


@given(DOCS, CHANGES)
def test_fields_the_changes_do_not_name_survive_untouched(
    doc: dict[str, Any], changes: dict[str, Any]
) -> None:
    merged = merge(doc, changes)
    assert {k: v for k, v in merged.items() if k not in changes} == {
        k: v for k, v in doc.items() if k not in changes
    }


@given(DOCS, CHANGES, CHANGES)
def test_changes_to_disjoint_keys_commute(doc: dict[str, Any], a: dict[str, Any], b: dict[str, Any]) -> None:
    b = {k: v for k, v in b.items() if k not in a}
    assert merge(merge(doc, a), b) == merge(merge(doc, b), a)


@given(DOCS, st.sampled_from(["email", "tag_name", "order_notes"]))
def test_null_removes_the_field(doc: dict[str, Any], key: str) -> None:
    assert key not in merge(doc | {key: "x"}, {key: None})


def test_nested_objects_merge_key_by_key_and_arrays_are_replaced_whole() -> None:
    doc: dict[str, Any] = {
        "shipping": {"first_name": "Ada", "city": "London", "phone": "1"},
        "order_items": [{"id": "1"}, {"id": "2"}],
        "x_unmodelled": {"a": 1},
    }
    merged = merge(doc, {"shipping": {"city": "Paris", "phone": None}, "order_items": [{"id": "2"}]})
    assert merged == {
        "shipping": {"first_name": "Ada", "city": "Paris"},
        "order_items": [{"id": "2"}],
        "x_unmodelled": {"a": 1},
    }
    assert doc["shipping"]["city"] == "London"  # the fetched document is never mutated
    assert [(c.field, c.before, c.after) for c in diff(doc, merged)] == [
        ("order_items", [{"id": "1"}, {"id": "2"}], [{"id": "2"}]),
        ("shipping.city", "London", "Paris"),
        ("shipping.phone", "1", None),
    ]


def test_keys_orderdesk_owns_folder_and_unknown_keys_are_all_named() -> None:
    with pytest.raises(MergeRejected) as caught:
        validate_changes(
            {"order_total": 1, "id": "2", "folder_id": 3, "emial": "x", "email": "ok@example.com"}
        )
    message = str(caught.value)
    assert message.startswith("These keys cannot be changed: emial, folder_id, id, order_total. ")
    assert "OrderDesk sets id, order_total itself." in message
    assert "Moving an order between folders is not supported by orders_update." in message
    assert "Unknown keys are refused so a typo cannot silently change nothing." in message
    assert "Changeable keys: " in message


def test_wrong_value_shapes_are_named_by_path() -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_changes(
            {
                "shipping": {"city": 5},
                "customer": "Ada",
                "order_items": [{"name": "x", "delivery_type": "teleport", "price": "free"}],
                "payment_status": "Paid",
                "tax_total": "lots",
                "email": 7,
                "order_notes": "hi",
            }
        )
    assert str(caught.value) == (
        "Invalid request: shipping.city must be a string; customer must be an object; "
        "order_items[0].delivery_type must be one of ship, noship, download, future; "
        "order_items[0].price must be a number; payment_status must be one of Approved, Authorized, "
        "Captured, Fully Refunded, Partially Refunded, Pending, Rejected, Voided; "
        "tax_total must be a number; email must be a string; order_notes must be a list."
    )
