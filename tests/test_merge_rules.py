"""What an update or a create may name, the exact refusal messages, and the after-PUT check."""

from __future__ import annotations

from typing import Any

import pytest

from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.errors import InvalidRequest, MergeRejected
from orderdesk_mcp.domain.merge import carries, lost_fields, validate_changes
from orderdesk_mcp.domain.order_rules import check_new_order, looks_like_sent
from orderdesk_mcp.domain.results import Change

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
        f"Moving an order between folders is not supported by orders_update. {CHANGEABLE}"
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
