"""The merge policy: its properties (hypothesis), what an update or a create may name, the exact
refusal messages, and the after-PUT check."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.errors import InvalidRequest, MergeRejected
from orderdesk_mcp.domain.merge import carries, diff, lost_fields, merge, validate_changes
from orderdesk_mcp.domain.order_rules import check_new_order, looks_like_sent
from orderdesk_mcp.domain.results import Change

# --- Properties ------------------------------------------------------------------------------------

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
ADDRESS = st.dictionaries(
    st.sampled_from(["first_name", "last_name", "company", "city", "phone", "postal_code"]),
    st.text(max_size=6),
    max_size=4,
)
# Orders with unmodelled keys (any name, any value) and nested objects that merge key by key.
DOCS = st.fixed_dictionaries(
    {
        "id": st.just("500001"),
        "shipping": ADDRESS,
        "order_metadata": st.dictionaries(st.text(max_size=4), VALUES),
    },
    optional={"customer": ADDRESS, "email": st.text(max_size=8), "order_items": st.lists(VALUES, max_size=2)},
).flatmap(
    lambda base: st.dictionaries(st.text(min_size=1, max_size=10), VALUES, max_size=6).map(lambda x: x | base)
)
# Flat orders: any keys beside a fixed shipping address, and no order_metadata at all.
FLAT_DOCS = st.dictionaries(st.text(min_size=1, max_size=10), VALUES, max_size=8).map(
    lambda d: d | {"id": "500001", "shipping": {"first_name": "Ada", "city": "London"}}
)
ANY_DOCS = DOCS | FLAT_DOCS
SCALAR_KEYS = st.sampled_from(["email", "shipping_method", "tag_name", "payment_type", "customer_id"])
ADDRESS_CHANGE = st.dictionaries(
    st.sampled_from(["first_name", "city", "phone", "state"]), st.none() | st.text(max_size=6), max_size=3
)
CHANGES = st.dictionaries(SCALAR_KEYS, st.none() | st.text(max_size=10), max_size=3) | st.fixed_dictionaries(
    {}, optional={"shipping": ADDRESS_CHANGE, "customer": ADDRESS_CHANGE, "email": st.text(max_size=5)}
)


@given(ANY_DOCS)
def test_no_changes_is_the_identity(doc: dict[str, Any]) -> None:
    assert merge(doc, {}) == doc
    assert diff(doc, merge(doc, {})) == ()


@given(ANY_DOCS, CHANGES)
def test_keys_the_changes_do_not_name_survive_exactly_unknown_ones_included(
    doc: dict[str, Any], changes: dict[str, Any]
) -> None:
    merged = merge(doc, changes)
    for key, value in doc.items():
        if key not in changes:
            assert merged[key] == value
    assert {k: v for k, v in merged.items() if k not in changes} == {
        k: v for k, v in doc.items() if k not in changes
    }
    assert {c.field.split(".")[0] for c in diff(doc, merged)} <= set(changes)


@given(DOCS, CHANGES)
def test_merge_never_mutates_the_fetched_document(doc: dict[str, Any], changes: dict[str, Any]) -> None:
    before = copy.deepcopy(doc)
    merge(doc, changes)
    assert doc == before


@given(ANY_DOCS, CHANGES, CHANGES)
def test_changes_to_disjoint_fields_commute(
    doc: dict[str, Any], a: dict[str, Any], b: dict[str, Any]
) -> None:
    b = {k: v for k, v in b.items() if k not in a}
    assert merge(merge(doc, a), b) == merge(merge(doc, b), a)


@given(DOCS, ADDRESS_CHANGE, ADDRESS_CHANGE)
def test_disjoint_keys_inside_one_nested_object_commute(
    doc: dict[str, Any], a: dict[str, Any], b: dict[str, Any]
) -> None:
    b = {k: v for k, v in b.items() if k not in a}
    one = merge(merge(doc, {"shipping": a}), {"shipping": b})
    assert one == merge(merge(doc, {"shipping": b}), {"shipping": a})
    assert one == merge(doc, {"shipping": a | b})


@given(ANY_DOCS, SCALAR_KEYS | st.just("order_notes"))
def test_null_removes_a_top_level_field(doc: dict[str, Any], key: str) -> None:
    merged = merge(doc | {key: "x"}, {key: None})
    assert key not in merged
    assert [(c.field, c.before, c.after) for c in diff(doc | {key: "x"}, merged)] == [(key, "x", None)]


@given(DOCS, st.sampled_from(["first_name", "city", "phone"]))
def test_null_inside_a_nested_object_removes_only_that_key(doc: dict[str, Any], sub: str) -> None:
    doc["shipping"] = doc["shipping"] | {sub: "x", "country": "GB"}
    merged = merge(doc, {"shipping": {sub: None}})
    assert sub not in merged["shipping"]
    assert merged["shipping"] == {k: v for k, v in doc["shipping"].items() if k != sub}


@given(DOCS, ADDRESS_CHANGE)
def test_a_nested_merge_keeps_every_sibling_key(doc: dict[str, Any], change: dict[str, Any]) -> None:
    merged = merge(doc, {"shipping": change})
    for sub, value in doc["shipping"].items():
        if sub not in change:
            assert merged["shipping"][sub] == value
    for sub, value in change.items():
        assert merged["shipping"].get(sub) == value


@given(DOCS, st.lists(VALUES, max_size=3))
def test_arrays_are_replaced_whole(doc: dict[str, Any], items: list[Any]) -> None:
    assert merge(doc, {"order_items": items})["order_items"] == items


@given(VALUES)
def test_every_value_carries_itself(value: Any) -> None:
    assert carries(value, value)


# --- Examples and refusal messages -----------------------------------------------------------------


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
    assert "To move an order to another folder, use orders_move." in message
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


CHANGEABLE = (
    "Changeable keys: cc_exp, cc_number, checkout_data, customer, customer_id, discount_list, email, "
    "fulfillment_id, fulfillment_name, handling_total, ip_address, order_items, order_metadata, "
    "order_notes, payment_status, payment_type, processor_response, return_address, shipping, "
    "shipping_method, shipping_total, source_name, tag_color, tag_name, tax_total."
)


def _rejected(changes: dict[str, Any]) -> str:
    with pytest.raises(MergeRejected) as caught:
        validate_changes(changes)
    return str(caught.value)


def _invalid(changes: dict[str, Any], current: dict[str, Any] | None = None) -> str:
    with pytest.raises(InvalidRequest) as caught:
        validate_changes(changes, current=current)
    return str(caught.value)


def test_a_folder_move_is_refused_with_where_to_go_instead() -> None:
    assert _rejected({"folder_id": 3}) == (
        "These keys cannot be changed: folder_id. "
        f"To move an order to another folder, use orders_move. {CHANGEABLE}"
    )


def test_source_id_and_computed_totals_are_owned_by_orderdesk() -> None:
    assert _rejected({"source_id": "X", "processor_balance": 1, "cc_number_masked": "x"}) == (
        "These keys cannot be changed: cc_number_masked, processor_balance, source_id. "
        "OrderDesk sets cc_number_masked, processor_balance itself. "
        f"source_id is fixed once the order exists. {CHANGEABLE}"
    )


def test_a_typo_is_refused_rather_than_silently_changing_nothing() -> None:
    assert _rejected({"emial": "a@example.com"}) == (
        "These keys cannot be changed: emial. "
        f"Unknown keys are refused so a typo cannot silently change nothing. {CHANGEABLE}"
    )


def test_an_unknown_address_key_is_named_with_the_fields_that_exist() -> None:
    assert _invalid({"shipping": {"citty": "Paris"}, "return_address": {"first_name": "Ada"}}) == (
        "Invalid request: shipping has no field citty (its fields: address1, address2, address3, address4, "
        "city, company, country, first_name, last_name, phone, postal_code, state); return_address has no "
        "field first_name (its fields: address1, address2, city, company, country, name, phone, postal_code, "
        "state, title)."
    )


def test_an_address_key_already_on_the_order_is_accepted() -> None:
    validate_changes({"shipping": {"county": "Kent"}}, current={"shipping": {"county": ""}})
    validate_changes({"shipping": {"county": "Kent"}}, address_keys=False)


def test_nested_values_are_checked_by_path() -> None:
    assert _invalid({"checkout_data": ["x"], "discount_list": [1], "shipping_total": True}) == (
        "Invalid request: checkout_data must be an object; every entry of discount_list must be an object; "
        "shipping_total must be a number."
    )
    assert _invalid({"order_items": [{"quantity": "two"}, {"weight": None}]}) == (
        "Invalid request: order_items[0].quantity must be a number; order_items[1].weight must be a number."
    )


def test_nulls_and_numeric_strings_are_accepted() -> None:
    validate_changes(
        {"email": None, "shipping": {"phone": None}, "tax_total": "1.20", "payment_status": "Voided"}
    )


def test_a_new_order_needs_items_and_a_name_or_company() -> None:
    assert check_new_order({}) == [
        "order_items needs at least one item",
        "shipping or customer needs a first_name and last_name, or a company",
    ]
    assert check_new_order({"customer": {"company": "Engines Ltd"}, "order_items": [{"name": "x"}]}) == []
    assert check_new_order(
        {"shipping": {"first_name": "A", "last_name": "B"}, "order_items": [{}], "source_id": 5}
    )[-1] == ("source_id must be a string")


@pytest.mark.parametrize(
    ("saved", "intended", "expected"),
    [
        ("10", 10, True),
        (10.0, "10", True),
        ([], {}, True),
        ("", None, True),
        (None, None, True),
        ({"id": "9", "name": "Mug"}, {"name": "Mug"}, True),
        ([{"id": "9", "name": "Mug"}], [{"name": "Mug"}], True),
        ([{"name": "Mug"}], [{"name": "Mug"}, {"name": "Cup"}], False),
        ("Paris ", "Paris", False),
        ("x", None, False),
        (None, "x", False),
        ("yes", True, False),
    ],
)
def test_the_after_put_check_allows_orderdesk_normalising_but_not_losing(
    saved: Any, intended: Any, expected: bool
) -> None:
    assert carries(saved, intended) is expected


def test_lost_fields_names_the_paths_that_did_not_stick() -> None:
    planned = (Change(field="shipping.city", after="Paris"), Change(field="email", after="a@example.com"))
    assert lost_fields({"shipping": {"city": "Paris"}, "email": "old@example.com"}, planned) == ("email",)


def test_an_order_found_by_source_id_must_look_like_the_one_sent() -> None:
    sent = {"email": "a@example.com", "order_items": [{"name": "Mug", "code": "M1", "price": 1}]}
    assert looks_like_sent(
        sent, {"email": "a@example.com", "order_items": [{"id": "1", "name": "Mug", "code": "M1"}]}
    )
    assert not looks_like_sent(
        sent, {"email": "b@example.com", "order_items": [{"name": "Mug", "code": "M1"}]}
    )
    assert not looks_like_sent(sent, {"email": "a@example.com", "order_items": []})


def test_a_conflict_policy_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="attempts >= 1"):
        ConflictPolicy(attempts=0)
    assert [ConflictPolicy().delay(n, jitter=1.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0]
