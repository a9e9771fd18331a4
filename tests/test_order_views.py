"""The pure shaping of orders for a model: summary, field selection, the result budget."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orderdesk_mcp.domain.errors import InvalidRequest
from orderdesk_mcp.domain.field_selection import parse_fields, select_fields
from orderdesk_mcp.domain.folders import Folder
from orderdesk_mcp.domain.order import Order, fingerprint_of
from orderdesk_mcp.domain.order_summary import summarize
from orderdesk_mcp.domain.order_views import (
    BUDGET_HINT,
    OVERSIZED_HINT,
    WRITE_SUMMARY_HINT,
    fit_to_budget,
    fit_write_result,
    shape_order,
    shape_page,
)
from orderdesk_mcp.domain.pagination import OrderPage

FOLDERS = (Folder(id=1, name="New"), Folder(id=2, name="Prepared"))


def size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def doc(order_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(order_id),
        "source_id": f"SHOP-{order_id}",
        "email": f"c{order_id}@example.com",
        "folder_id": 2,
        "date_added": "2026-10-01 12:00:00",
        "date_updated": "2026-10-01 13:00:00",
        "order_total": 62.0,
        "payment_status": "Captured",
        "shipping": {"first_name": "Ada", "last_name": "Lovelace", "company": "", "city": "London"},
        "customer": {"first_name": "Charles", "last_name": "Babbage"},
        "order_items": [{"name": "Tea", "quantity": 2, "price": 3}, {"name": "Cup", "quantity": 1}],
        "order_shipments": [{"tracking_number": "1Z"}],
        **extra,
    }


def page_of(docs: list[dict[str, Any]], *, offset: int = 0, total: int | None = None) -> OrderPage:
    orders = tuple(Order.from_document(d) for d in docs)
    return OrderPage(orders=orders, total_count=total or offset + len(orders), limit=100, offset=offset)


def test_a_summary_is_the_flat_object_the_issue_lists_with_the_folder_name() -> None:
    order = Order.from_document(doc(500001))
    assert summarize(order, FOLDERS) == {
        "id": "500001",
        "source_id": "SHOP-500001",
        "folder": "Prepared",
        "folder_id": 2,
        "date_added": "2026-10-01 12:00:00",
        "date_updated": "2026-10-01 13:00:00",
        "name": "Ada Lovelace",
        "email": "c500001@example.com",
        "order_total": 62.0,
        "payment_status": "Captured",
        "item_count": 2,
        "quantity_total": 3,
        "shipment_count": 1,
        "fingerprint": order.fingerprint,
    }


@pytest.mark.parametrize(
    ("shipping", "customer", "name"),
    [
        (
            {"first_name": "", "last_name": ""},
            {"first_name": "Charles", "last_name": "Babbage"},
            "Charles Babbage",
        ),
        ({"company": "Acme"}, {}, "Acme"),
        ({}, {"company": "Initech"}, "Initech"),
        (None, None, None),
    ],
)
def test_the_summary_name_is_shipping_then_customer_then_a_company(
    shipping: object, customer: object, name: str | None
) -> None:
    order = Order.from_document(doc(500001, shipping=shipping, customer=customer))
    assert summarize(order, FOLDERS)["name"] == name


def test_a_summary_of_an_order_in_an_unknown_folder_has_no_folder_name() -> None:
    order = Order.from_document(doc(500001, folder_id=99))
    assert (summarize(order, FOLDERS)["folder"], summarize(order, FOLDERS)["folder_id"]) == (None, 99)


def test_fields_keep_only_the_asked_paths_plus_id_and_fingerprint() -> None:
    order = Order.from_document(doc(500001))
    tree = parse_fields(["shipping.city", "order_items.name", "email", "no_such_key", "shipping.nope"])
    assert select_fields(order, tree) == {
        "id": "500001",
        "shipping": {"city": "London"},
        "order_items": [{"name": "Tea"}, {"name": "Cup"}],
        "email": "c500001@example.com",
        "fingerprint": order.fingerprint,
    }


def test_a_whole_key_wins_over_a_path_inside_it_in_either_order() -> None:
    order = Order.from_document(doc(500001))
    for fields in (["shipping", "shipping.city"], ["shipping.city", "shipping"]):
        assert select_fields(order, parse_fields(fields))["shipping"] == order.doc["shipping"]


def test_selecting_fields_never_changes_the_document_or_its_fingerprint() -> None:
    original = doc(500001)
    order = Order.from_document(original)
    select_fields(order, parse_fields(["shipping.city"]))
    assert order.doc == original
    assert order.fingerprint == fingerprint_of(original)


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("a..b", "must be a top-level key or a dotted path like shipping.city (no empty or padded parts)"),
        (".city", "must be a top-level key or a dotted path like shipping.city (no empty or padded parts)"),
        (
            "shipping. city",
            "must be a top-level key or a dotted path like shipping.city (no empty or padded parts)",
        ),
        ("a\x00b", "must not contain control characters"),
        ("", "must be 1 to 200 characters"),
    ],
)
def test_a_malformed_field_path_is_an_error_naming_it(path: str, why: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_fields(["email", path])
    assert str(caught.value) == f"Invalid request: field path {path!r} {why}."


def test_fit_to_budget_keeps_whole_entries_and_always_at_least_one() -> None:
    assert fit_to_budget(10, [10, 10, 10], 100) == 3
    assert fit_to_budget(10, [40, 40, 40], 100) == 2  # 10 + 40 + 1 + 40 = 91; a third passes 100
    assert fit_to_budget(10, [500, 10], 100) == 1
    assert fit_to_budget(10, [], 100) == 0


def test_a_page_within_the_budget_is_whole_with_an_honest_next_offset() -> None:
    shaped = shape_page(
        page_of([doc(i) for i in range(1, 4)], offset=10, total=20),
        view="summary", fields=None, folders=FOLDERS, budget=20_000, size=size,
    )  # fmt: skip
    assert (len(shaped.orders), shaped.truncated, shaped.has_more, shaped.next_offset) == (3, False, True, 13)
    assert shaped.hint is None
    assert shaped.fingerprints is None
    assert shaped.folders is None


def test_the_last_page_has_no_next_offset() -> None:
    shaped = shape_page(page_of([doc(1)], offset=5), view="full", fields=None, folders=FOLDERS,
                        budget=20_000, size=size)  # fmt: skip
    assert (shaped.has_more, shaped.next_offset) == (False, None)
    assert shaped.folders == {"2": "Prepared"}
    assert shaped.fingerprints == {"1": Order.from_document(doc(1)).fingerprint}


def test_a_page_past_the_budget_is_cut_between_orders_and_continues_where_it_stopped() -> None:
    docs = [doc(i, order_notes=[{"content": "x" * 900}]) for i in range(1, 11)]
    shaped = shape_page(page_of(docs, total=10), view="full", fields=None, folders=FOLDERS, budget=5_000,
                        size=size)  # fmt: skip
    text = size(shaped.to_builtins())
    assert text <= 5_000
    kept = len(shaped.orders)
    assert 1 < kept < 10
    assert shaped.orders == tuple(docs[:kept])  # whole documents, untouched
    assert (shaped.truncated, shaped.has_more, shaped.next_offset, shaped.hint) == (
        True,
        True,
        kept,
        BUDGET_HINT,
    )
    assert set(shaped.fingerprints or {}) == {d["id"] for d in docs[:kept]}


def test_one_order_bigger_than_the_budget_is_returned_whole_and_flagged() -> None:
    docs = [doc(1, order_notes=[{"content": "x" * 3000}]), doc(2)]
    shaped = shape_page(page_of(docs), view="full", fields=None, folders=FOLDERS, budget=2_000, size=size)
    assert shaped.orders == (docs[0],)
    assert (shaped.truncated, shaped.over_budget, shaped.next_offset) == (True, True, 1)


def test_a_single_order_read_past_the_budget_is_whole_and_flagged() -> None:
    order = Order.from_document(doc(1, order_notes=[{"content": "x" * 3000}]))
    out = shape_order(order, fields=None, folders=FOLDERS, budget=2_000, size=size)
    assert out["order"] == order.doc
    assert (out["folder"], out["over_budget"], out["hint"]) == ("Prepared", True, OVERSIZED_HINT)


def test_a_write_reply_past_the_budget_is_summarized_never_dropped() -> None:
    order = Order.from_document(doc(1, order_items=[{"name": "x" * 50, "quantity": 1}] * 400))
    reply = {"order": order.doc, "fingerprint": order.fingerprint, "created": True}
    out = fit_write_result(reply, order, folders=FOLDERS, budget=2_000, size=size)
    assert out["order"] == summarize(order, FOLDERS)
    assert (out["fingerprint"], out["created"], out["summarized"], out["hint"]) == (
        order.fingerprint, True, True, WRITE_SUMMARY_HINT,
    )  # fmt: skip
    assert size(out) <= 2_000


def test_a_write_reply_within_the_budget_is_unchanged() -> None:
    order = Order.from_document(doc(1))
    reply = {"order": order.doc, "fingerprint": order.fingerprint, "created": True}
    assert fit_write_result(reply, order, folders=FOLDERS, budget=20_000, size=size) is reply


def test_a_huge_diff_in_a_write_reply_keeps_its_fields_with_the_values_noted_by_size() -> None:
    order = Order.from_document(doc(1))
    diff = [{"field": "order_items", "before": ["x" * 5000], "after": ["y" * 5000]}]
    reply = {"order": order.doc, "fingerprint": order.fingerprint, "diff": diff}
    out = fit_write_result(reply, order, folders=FOLDERS, budget=3_000, size=size)
    assert out["diff"] == [
        {
            "field": "order_items",
            "before": "[omitted from this reply: 5004 characters; read the order with orders_get]",
            "after": "[omitted from this reply: 5004 characters; read the order with orders_get]",
        }
    ]
