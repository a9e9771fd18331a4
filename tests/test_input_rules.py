"""Input that used to pass silently and damage data or mislead: item keys, an inventory total made
up from the offset, field paths through lists, an empty folder filter, non-numeric inventory
prices, control characters in notes and non-string checkout data."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from mcp.types import CallToolResult

from orderdesk_mcp.adapters._reach_wire import inventory_page_of
from orderdesk_mcp.domain.errors import InvalidRequest
from orderdesk_mcp.domain.field_selection import parse_fields, select_fields
from orderdesk_mcp.domain.inventory import InventoryQuery
from orderdesk_mcp.domain.merge import validate_changes
from orderdesk_mcp.domain.order import Order
from orderdesk_mcp.domain.order_rules import check_new_order
from tests.mcp_harness import STORE, error_text, make_container, mcp_client, seeded_state

pytestmark = pytest.mark.anyio

ITEM_FIELDS = (
    "category_code, code, delivery_type, fulfillment_method, id, metadata, name, price, quantity, "
    "variation_list, weight"
)
# The item of OrderDesk's reference order (sparkweb/slate _orders.md, ORDERDESK_API §5.8).
REFERENCE_ITEM = {
    "id": "42286",
    "name": "Crazy Glue",
    "price": "10",
    "quantity": 1,
    "weight": 1,
    "code": "crzyg-554",
    "delivery_type": "ship",
    "category_code": "DEFAULT",
    "variation_list": {"Size": "Small", "Color": "Black"},
    "metadata": {"image": "image_url_here"},
}
NEW_ORDER: dict[str, Any] = {
    "shipping": {"first_name": "Ada", "last_name": "Lovelace", "city": "London"},
    "order_items": [{"name": "Mug", "price": 9.5, "quantity": 1, "code": "MUG-1"}],
}


def _invalid(changes: dict[str, Any], current: dict[str, Any] | None = None) -> str:
    with pytest.raises(InvalidRequest) as caught:
        validate_changes(changes, current=current)
    return str(caught.value)


def _ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, error_text(result)
    assert result.structured_content is not None
    return dict(result.structured_content)


# -- 1. keys inside order_items -------------------------------------------------------------


def test_an_item_key_agents_guess_is_refused_with_orderdesks_name_for_it() -> None:
    changes = {"order_items": [{"id": "40002", "name": "Sticker Pack", "qty": 5, "sku": "ZZZ"}]}
    assert _invalid(changes) == (
        "Invalid request: order_items[0] has no field qty (did you mean quantity?), sku (did you mean code?)."
    )


def test_an_unknown_item_key_is_named_with_its_index_and_the_fields_that_exist() -> None:
    changes = {"order_items": [REFERENCE_ITEM, {"name": "Mug", "colour": "red", "quantiy": 2}]}
    assert _invalid(changes) == (
        "Invalid request: order_items[1] has no field colour, quantiy (did you mean quantity?) "
        f"(its fields: {ITEM_FIELDS})."
    )


def test_items_copied_back_from_orderdesk_or_the_simulator_pass() -> None:
    seeded = next(iter(seeded_state(1).orders(STORE).values()))
    validate_changes({"order_items": [REFERENCE_ITEM, *seeded["order_items"]]}, current=seeded)
    assert check_new_order(NEW_ORDER | {"order_items": [REFERENCE_ITEM]}) == []


def test_an_item_key_the_order_already_carries_is_accepted() -> None:
    current = {"order_items": [{"id": "1", "name": "Tea", "gift_wrap": "no"}]}
    validate_changes({"order_items": [{"id": "1", "name": "Tea", "gift_wrap": "yes"}]}, current=current)
    validate_changes({"order_items": [{"qty": 1}]}, address_keys=False)  # judged after the read


async def test_update_with_qty_and_sku_is_refused_and_the_item_is_untouched(tmp_path: Path) -> None:
    state = seeded_state(5)
    before = copy.deepcopy(state.orders(STORE)["500003"])
    changes = {"order_items": [{"id": "40002", "name": "Sticker Pack", "qty": 5, "sku": "ZZZ"}]}
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool("orders_update", {"order_id": 500003, "changes": changes})
    assert error_text(result) == (
        "Invalid request: order_items[0] has no field qty (did you mean quantity?), sku (did you mean code?)."
    )
    assert state.orders(STORE)["500003"] == before


async def test_create_with_qty_is_refused_instead_of_making_a_zero_order(tmp_path: Path) -> None:
    state = seeded_state(5)
    order = NEW_ORDER | {"order_items": [{"name": "Mug", "qty": 3}]}
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool("orders_create", {"order": order})
    assert error_text(result) == "Invalid request: order_items[0] has no field qty (did you mean quantity?)."
    assert len(state.orders(STORE)) == 5


# -- 2. inventory total past the end ---------------------------------------------------------


def test_an_inventory_page_past_the_end_keeps_orderdesks_total() -> None:
    page = inventory_page_of({"total_records": "3", "inventory_items": []}, InventoryQuery(offset=1000))
    assert (page.total_count, page.has_more) == (3, False)


def test_an_empty_inventory_page_never_claims_more_at_its_own_offset() -> None:
    page = inventory_page_of({"total_records": "5", "inventory_items": []}, InventoryQuery(offset=2))
    assert (page.total_count, page.has_more) == (2, False)


def test_a_full_inventory_page_keeps_orderdesks_total_and_has_more() -> None:
    items = [{"id": 2501 + n, "name": f"n{n}", "code": f"c{n}"} for n in range(2)]
    query = InventoryQuery(limit=2, offset=1)
    page = inventory_page_of({"total_records": "5", "inventory_items": items}, query)
    assert (page.total_count, page.has_more) == (5, True)


async def test_inventory_list_past_the_end_reports_the_real_total(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path, state=seeded_state(5))) as client:
        page = _ok(await client.call_tool("inventory_list", {"offset": 1000}))
    assert (page["items"], page["total_count"], page["has_more"], page["next_offset"]) == ([], 3, False, None)


# -- 3. field paths through a list ------------------------------------------------------------


def _order(items: list[Any]) -> Order:
    return Order.from_document({"id": "500001", "email": "a@example.com", "order_items": items})


@pytest.mark.parametrize("path", ["order_items.nonexistent", "order_items.0"])
def test_a_path_no_item_has_leaves_the_list_out(path: str) -> None:
    order = _order([{"name": "Tea"}, {"name": "Cup"}])
    assert "order_items" not in select_fields(order, parse_fields([path, "email"]))


def test_a_path_some_items_have_keeps_every_item_in_its_place() -> None:
    order = _order([{"name": "Tea", "code": "T"}, {"name": "Cup"}, {"name": "Pot", "code": "P"}])
    picked = select_fields(order, parse_fields(["order_items.code"]), fingerprint=False)
    assert picked == {"id": "500001", "order_items": [{"code": "T"}, {}, {"code": "P"}]}


def test_a_path_through_an_empty_list_shows_the_empty_list() -> None:
    assert select_fields(_order([]), parse_fields(["order_items.name"]), fingerprint=False) == {
        "id": "500001",
        "order_items": [],
    }


async def test_orders_get_leaves_out_a_list_whose_items_lack_the_path(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path, state=seeded_state(5))) as client:
        args = {"order_id": "500001", "fields": ["order_items.nonexistent"]}
        got = _ok(await client.call_tool("orders_get", args))
    assert got["order"] == {"id": "500001"}


# -- 4. an empty folder filter ------------------------------------------------------------------


@pytest.mark.parametrize("folder_id", [",,,", " "])
async def test_a_folder_filter_naming_no_folder_is_refused(tmp_path: Path, folder_id: str) -> None:
    async with mcp_client(make_container(tmp_path, state=seeded_state(5))) as client:
        result = await client.call_tool("orders_list", {"folder_id": folder_id})
    assert error_text(result) == (
        "Invalid request: folder_id must name at least one folder: a folder id like 3, or several like "
        f"'1,2'; got {folder_id!r}."
    )


# -- 5. numeric inventory fields ------------------------------------------------------------------


async def test_inventory_update_refuses_a_price_that_is_not_a_number(tmp_path: Path) -> None:
    state = seeded_state(5)
    before = copy.deepcopy(state.inventory(STORE)[2501])
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool(
            "inventory_update", {"item_id": 2501, "changes": {"price": "cheap", "weight": "1.2.3"}}
        )
        assert error_text(result) == "Invalid request: price must be a number; weight must be a number."
        assert state.inventory(STORE)[2501] == before
        _ok(await client.call_tool("inventory_update", {"item_id": 2501, "changes": {"price": "12.50"}}))
    assert state.inventory(STORE)[2501]["price"] == "12.50"  # OrderDesk sends numbers as strings too


# -- 6. checkout data ----------------------------------------------------------------------


def test_checkout_data_values_must_be_strings() -> None:
    assert _invalid({"checkout_data": {"Gift": 5, "Message": "Hi", "Old": None}}) == (
        "Invalid request: checkout_data.Gift must be a string."
    )
    problems = check_new_order(NEW_ORDER | {"checkout_data": {"Gift": 5}})
    assert problems == ["checkout_data.Gift must be a string"]


async def test_update_with_a_number_in_checkout_data_is_refused(tmp_path: Path) -> None:
    state = seeded_state(5)
    before = copy.deepcopy(state.orders(STORE)["500001"])
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool(
            "orders_update", {"order_id": "500001", "changes": {"checkout_data": {"Gift": 5}}}
        )
    assert error_text(result) == "Invalid request: checkout_data.Gift must be a string."
    assert state.orders(STORE)["500001"] == before


# -- 7. notes ------------------------------------------------------------------------------


async def test_a_note_with_a_control_character_is_refused(tmp_path: Path) -> None:
    state = seeded_state(5)
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool("orders_add_note", {"order_id": "500004", "note": "called\x00back"})
        assert error_text(result) == (
            "Invalid request: note contains a control character (U+0000); only tab and newline are allowed."
        )
        _ok(await client.call_tool("orders_add_note", {"order_id": "500004", "note": "line 1\n\tline 2"}))
    assert [h["note"] for h in state.history(STORE, "500004")] == ["line 1\n\tline 2"]
