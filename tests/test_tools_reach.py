"""orders_move, orders_add_note, shipments_* and inventory_* end to end: the real mcp.Client,
server, container and in-process simulator."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from mcp.types import CallToolResult

from orderdesk_mcp.adapters.simulator import create_app
from orderdesk_mcp.entrypoints.settings import SIMULATOR_API_KEY
from tests.mcp_harness import STORE, error_text, make_container, mcp_client, seeded_state

pytestmark = pytest.mark.anyio

WRITE_TOOLS = {"orders_move", "orders_add_note", "shipments_add", "shipments_delete", "inventory_update",
               "inventory_adjust_stock"}  # fmt: skip
READ_TOOLS = {"shipments_list", "inventory_list", "inventory_get"}


def _out(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, error_text(result)
    assert result.structured_content is not None
    (block,) = result.content
    assert json.loads(getattr(block, "text", "")) == result.structured_content  # compact text, same data
    assert "\n" not in getattr(block, "text", "")
    return dict(result.structured_content)


async def test_move_by_name_and_by_id(tmp_path: Path) -> None:
    state = seeded_state(5)
    docs = state.orders(STORE)
    docs["500001"]["folder_id"] = docs["500002"]["folder_id"] = 1
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        by_name = _out(
            await client.call_tool("orders_move", {"order_ids": [500001, "500002"], "folder": "PREPARED"})
        )
        by_id = _out(await client.call_tool("orders_move", {"order_ids": ["500001"], "folder": 3}))
    assert by_name == {
        "moved": [
            {"order_id": "500001", "from_folder": "New", "to_folder": "Prepared"},
            {"order_id": "500002", "from_folder": "New", "to_folder": "Prepared"},
        ],
        "unchanged": [],
        "failed": [],
    }
    assert by_id["moved"] == [{"order_id": "500001", "from_folder": "Prepared", "to_folder": "Closed"}]
    assert (docs["500001"]["folder_id"], docs["500002"]["folder_id"]) == (3, 2)


async def test_moving_an_order_already_there_reports_it_unchanged_and_sends_nothing(tmp_path: Path) -> None:
    state = seeded_state(5)
    state.orders(STORE)["500003"]["folder_id"] = 4
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        out = _out(await client.call_tool("orders_move", {"order_ids": ["500003"], "folder": "canceled"}))
    assert out == {"moved": [], "unchanged": ["500003"], "failed": []}
    assert state.history(STORE, "500003") == []  # the folder's rules never ran


async def test_moving_to_an_unknown_folder_names_the_stores_folders(tmp_path: Path) -> None:
    state = seeded_state(5)
    before = copy.deepcopy(state.orders(STORE))
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool("orders_move", {"order_ids": ["500001"], "folder": "Shipped"})
    assert error_text(result) == (
        "Folder 'Shipped' does not exist in this store; its folders are: New (id 1), Prepared (id 2), "
        "Closed (id 3), Canceled (id 4)."
    )
    assert state.orders(STORE) == before


async def test_the_same_shipment_added_twice_is_one_shipment_upstream(tmp_path: Path) -> None:
    state = seeded_state(5)
    args = {"order_id": "500001", "tracking_number": "1Z999", "carrier_code": "UPS"}
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        first = _out(await client.call_tool("shipments_add", args))
        second = _out(await client.call_tool("shipments_add", args))
        listed = _out(await client.call_tool("shipments_list", {"order_id": 500001}))
        order = (await client.call_tool("orders_get", {"order_id": "500001"})).structured_content
    assert (first["created"], second["created"]) == (True, False)
    assert first["shipment"] == second["shipment"]
    assert order is not None
    assert second["order_fingerprint"] == order["fingerprint"]
    assert listed["total_count"] == 1
    assert len(state.orders(STORE)["500001"]["order_shipments"]) == 1


async def test_a_shipment_without_tracking_is_reported_added_each_time(tmp_path: Path) -> None:
    # Regression: the tool answered "OrderDesk rejected the request" for a shipment it had saved.
    state = seeded_state(5)
    args = {"order_id": "500003", "tracking_number": "n/a", "carrier_code": "USPS"}
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        first = _out(await client.call_tool("shipments_add", args))
        second = _out(await client.call_tool("shipments_add", args))
    stored = state.orders(STORE)["500003"]["order_shipments"]
    assert (first["created"], second["created"]) == (True, True)
    assert [first["shipment"]["id"], second["shipment"]["id"]] == [s["id"] for s in stored]


async def test_a_lost_shipment_answer_leaves_no_duplicate(tmp_path: Path) -> None:
    state = seeded_state(5)
    state.faults.drop_next(1, after_processing=True, method="POST", path_prefix="/orders/500002/shipments")
    args = {"order_id": "500002", "tracking_number": "9400 1000", "carrier_code": "USPS"}
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        out = _out(await client.call_tool("shipments_add", args))
    assert out["created"] is True
    assert state.faults.pending() == 0  # the drop really hit the POST
    assert [s["tracking_number"] for s in state.orders(STORE)["500002"]["order_shipments"]] == ["9400 1000"]


async def test_deleting_a_shipment_needs_confirm(tmp_path: Path) -> None:
    state = seeded_state(5)
    args = {"order_id": "500001", "tracking_number": "1Z1", "carrier_code": "UPS"}
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        added = _out(await client.call_tool("shipments_add", args))
        shipment_id = added["shipment"]["id"]
        refused = await client.call_tool(
            "shipments_delete", {"order_id": "500001", "shipment_id": shipment_id}
        )
        deleted = _out(
            await client.call_tool(
                "shipments_delete", {"order_id": "500001", "shipment_id": shipment_id, "confirm": True}
            )
        )
    assert error_text(refused) == (
        f"Nothing was done: deleting shipment {shipment_id} of order 500001 needs confirmation. "
        "Call shipments_delete again with confirm: true to delete it permanently."
    )
    assert deleted == {"deleted": True, "order_id": "500001", "shipment_id": shipment_id}
    assert state.orders(STORE)["500001"]["order_shipments"] == []


async def test_a_note_with_a_repeated_key_is_one_note_upstream(tmp_path: Path) -> None:
    state = seeded_state(5)
    args = {"order_id": "500004", "note": "Customer called about the delivery", "idempotency_key": "call-7"}
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        first = _out(await client.call_tool("orders_add_note", args))
        second = _out(await client.call_tool("orders_add_note", args))
    assert first == second
    assert set(first) == {"order_id", "note", "history_count", "fingerprint"}  # not the whole order
    assert first["history_count"] == 1
    assert [h["note"] for h in state.history(STORE, "500004")] == ["Customer called about the delivery"]


async def test_inventory_update_keeps_unmodelled_fields_byte_for_byte(tmp_path: Path) -> None:
    state = seeded_state(5)
    item = state.inventory(STORE)[2501]
    item["x_unmodelled"] = {"kept": ["exactly", 1, None], "bin": "A-7"}
    before = copy.deepcopy(item)
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        got = _out(await client.call_tool("inventory_get", {"item_id": 2501}))
        update = {"item_id": "2501", "changes": {"price": 12.5}, "expected_fingerprint": got["fingerprint"]}
        out = _out(await client.call_tool("inventory_update", update))
    after = state.inventory(STORE)[2501]
    assert out["changed_fields"] == ["price"]
    assert after["price"] == 12.5
    assert after["x_unmodelled"] == {"kept": ["exactly", 1, None], "bin": "A-7"}
    unchanged = {k for k in before if k not in {"price", "date_updated"}}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}


async def test_inventory_update_refuses_owned_fields(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path, state=seeded_state(5))) as client:
        result = await client.call_tool("inventory_update", {"item_id": 2501, "changes": {"date_added": "x"}})
    assert error_text(result).startswith(
        "These keys cannot be changed: date_added. OrderDesk sets date_added itself. Changeable keys: "
    )


async def test_inventory_list_and_adjust_stock(tmp_path: Path) -> None:
    state = seeded_state(5)
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        page = _out(await client.call_tool("inventory_list", {"limit": 2, "search": "mug"}))
        adjusted = _out(await client.call_tool("inventory_adjust_stock", {"code": "MUG-1", "delta": 10,
                                                                          "reason": "delivery"}))  # fmt: skip
        refused = await client.call_tool("inventory_adjust_stock", {"item_id": 2501, "delta": -100})
        again = _out(await client.call_tool("inventory_get", {"item_id": 2501}))
    assert (page["total_count"], page["has_more"]) == (1, False)
    assert adjusted == {"item_id": "2501", "code": "MUG-1", "stock_before": 10, "stock_after": 20}
    assert error_text(refused) == (
        "Inventory item 2501 has 20 in stock; a change of -100 would make it -80. Nothing was written; "
        "pass allow_negative: true to allow it."
    )
    assert again["item"]["stock"] == 20  # the write invalidated the cached read


async def test_unknown_arguments_are_refused(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path, state=seeded_state(5))) as client:
        result = await client.call_tool(
            "shipments_add", {"order_id": 1, "tracking_number": "1", "carrier_code": "UPS", "trackng": "x"}
        )
    assert error_text(result).startswith("Invalid request: unknown argument 'trackng'; this tool takes: ")


async def test_read_only_mode_hides_every_write_tool_of_these_families(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path, state=seeded_state(5), read_only=True)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        listed = _out(await client.call_tool("shipments_list", {"order_id": "500001"}))
    assert names >= READ_TOOLS
    assert not names & WRITE_TOOLS
    assert listed["shipments"] == []


async def test_annotations_are_honest(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path, state=seeded_state(5))) as client:
        tools = {t.name: t.annotations for t in (await client.list_tools()).tools}
    hints = {
        name: (a.read_only_hint, a.destructive_hint, a.idempotent_hint)
        for name, a in tools.items()
        if a is not None and name in WRITE_TOOLS | READ_TOOLS
    }
    assert hints == {
        "shipments_list": (True, None, None),
        "inventory_list": (True, None, None),
        "inventory_get": (True, None, None),
        "orders_move": (False, False, True),
        "orders_add_note": (False, False, False),
        "shipments_add": (False, False, False),  # each "n/a" call adds a shipment
        "shipments_delete": (False, True, False),
        "inventory_update": (False, True, True),
        "inventory_adjust_stock": (False, False, False),
    }


async def test_over_the_real_http_client_a_lost_shipment_answer_and_a_move_leave_one_of_each(
    tmp_path: Path,
) -> None:
    state = seeded_state(5)
    state.orders(STORE)["500005"]["folder_id"] = 1
    state.inventory(STORE)[2502]["x_unmodelled"] = ["kept", {"a": None}]
    state.faults.drop_next(
        1, after_processing=True, method="POST", path_prefix="/api/v2/orders/500005/shipments"
    )
    server = TestServer(create_app(state), host="127.0.0.1")
    await server.start_server()
    try:
        container = make_container(
            tmp_path, gateway="http", credentials="env", store_id=STORE, api_key=SIMULATOR_API_KEY,
            base_url=str(server.make_url("/api/v2")),
        )  # fmt: skip
        async with mcp_client(container) as client:
            shipment = {"order_id": 500005, "tracking_number": "1Z5", "carrier_code": "UPS"}
            added = _out(await client.call_tool("shipments_add", shipment))
            moved = _out(await client.call_tool("orders_move", {"order_ids": [500005], "folder": "Closed"}))
            updated = _out(
                await client.call_tool("inventory_update", {"item_id": 2502, "changes": {"stock": 7}})
            )
    finally:
        await server.close()
    assert added["created"] is True
    assert state.faults.pending() == 0
    assert len(state.orders(STORE)["500005"]["order_shipments"]) == 1
    assert moved["moved"] == [{"order_id": "500005", "from_folder": "New", "to_folder": "Closed"}]
    assert updated["item"]["x_unmodelled"] == ["kept", {"a": None}]
    assert state.inventory(STORE)[2502]["stock"] == 7


async def test_a_shipment_id_that_is_no_id_says_what_a_shipment_id_is(tmp_path: Path) -> None:
    # It said "shipment_id '0' is not an order id; an order id is OrderDesk's numeric id" (found in review).
    async with mcp_client(make_container(tmp_path, state=seeded_state(3))) as client:
        result = await client.call_tool(
            "shipments_delete", {"order_id": "500001", "shipment_id": "0", "confirm": True}
        )
    assert error_text(result) == (
        "Invalid request: shipment_id '0' is not a shipment id; "
        "shipments_list shows the order's shipment ids (digits)."
    )
