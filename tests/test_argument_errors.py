"""Every argument error is one line naming the argument, what is allowed, and what was given.

The SDK's schema check and our own checks read alike; never a validation dump or a URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.entrypoints.argument_errors import allowed_by
from tests.mcp_harness import STORE, error_text, make_container, mcp_client

pytestmark = pytest.mark.anyio

ID = 'a string of digits or a whole number of at least 1, like 500001 or "500001"'
SHIPMENT_ID = 'a string of digits or a whole number of at least 1, like 123456 or "123456"'
ITEM_ID = 'a string of digits or a whole number of at least 1, like 2501 or "2501"'
LONG = "x" * 10_001

CASES: list[tuple[str, dict[str, Any], str]] = [
    ("orders_list", {"limit": "ten"}, 'limit must be a whole number from 1 to 100; got "ten"'),
    ("orders_list", {"limit": 2.5}, "limit must be a whole number from 1 to 100; got 2.5"),
    ("orders_list", {"limit": True}, "limit must be a whole number from 1 to 100; got true"),
    ("orders_list", {"offset": 1_000_001}, "offset must be a whole number from 0 to 1000000; got 1000001"),
    ("orders_list", {"view": "brief"}, 'view must be "summary" or "full"; got "brief"'),
    ("orders_list", {"fields": "email"}, 'fields must be a list of 1 to 50 items, each a string of 1 to 200 '
                                         'characters; got "email"'),
    ("orders_list", {"fields": ["email", 7]}, "fields[1] must be a string of 1 to 200 characters; got 7"),
    ("orders_list", {"fields": []}, "fields must be a list of 1 to 50 items, each a string of 1 to 200 "
                                    "characters; got []"),
    ("orders_list", {"status": LONG}, 'status must be a string of 1 to 200 characters; got "'
                                      + "x" * 56 + "..."),
    ("orders_list", {"folder_id": False}, "folder_id must be a string of digits and commas or a whole number "
                                          "of at least 1; got false"),
    ("orders_get", {}, f"order_id is required: {ID}"),
    ("orders_get", {"order_id": True}, f"order_id must be {ID}; got true"),
    ("orders_get", {"order_id": 1.5}, f"order_id must be {ID}; got 1.5"),
    ("orders_get", {"order_id": [1]}, f"order_id must be {ID}; got [1]"),
    ("orders_update", {"order_id": True, "changes": {"email": "a@example.com"}},
     f"order_id must be {ID}; got true"),
    ("orders_update", {"order_id": "500001", "changes": "email=x"},
     'changes must be an object; got "email=x"'),
    ("orders_update", {"order_id": "500001", "changes": {"order_notes": [{"content": LONG}]}},
     "changes.order_notes[0].content is 10001 characters; a string may be at most 10000 characters"),
    ("orders_update", {"order_id": "500001", "changes": {}, "dry_run": "yes"},
     'dry_run must be true or false; got "yes"'),
    ("orders_update", {"order_id": "500001", "changes": {}, "expected_fingerprint": LONG},
     'expected_fingerprint must be a string of 1 to 128 characters; got "' + "x" * 56 + "..."),
    ("orders_create", {"order": {"order_items": [], "customer": {"note": LONG}}},
     "order.customer.note is 10001 characters; a string may be at most 10000 characters"),
    ("orders_create", {"order": {}, "idempotency_key": LONG},
     'idempotency_key must be a string of 1 to 200 characters; got "' + "x" * 56 + "..."),
    ("orders_delete", {"order_id": True, "confirm": True}, f"order_id must be {ID}; got true"),
    ("orders_delete", {"order_id": "500001", "confirm": "true"}, 'confirm must be true or false; got "true"'),
    ("orders_delete", {"order_id": "500001", "confirm": 1}, "confirm must be true or false; got 1"),
    # the other tool families follow the same rules (issue 15: every id argument is strict)
    ("shipments_list", {"order_id": True}, f"order_id must be {ID}; got true"),
    ("shipments_delete", {"order_id": "500001", "shipment_id": 2.5, "confirm": True},
     f"shipment_id must be {SHIPMENT_ID}; got 2.5"),
    ("orders_move", {"order_ids": [True], "folder": "New"},
     "order_ids[0] must be a string of digits or a whole number of at least 1; got true"),
    ("orders_move", {"order_ids": ["500001"], "folder": True},
     "folder must be a string of 1 to 200 characters or a whole number of at least 1; got true"),
    ("inventory_get", {"item_id": True}, f"item_id must be {ITEM_ID}; got true"),
    ("inventory_list", {"offset": 1_000_001}, "offset must be a whole number from 0 to 1000000; got 1000001"),
    ("inventory_adjust_stock", {"item_id": 1, "delta": True},
     "delta must be a whole number from -1000000 to 1000000; got true"),
    ("inventory_update", {"item_id": 1, "changes": {"name": LONG}},
     "changes.name is 10001 characters; a string may be at most 10000 characters"),
]  # fmt: skip


@pytest.mark.parametrize(("tool", "arguments", "line"), CASES)
async def test_a_schema_error_is_one_line_naming_argument_allowed_and_given(
    tmp_path: Path, sim_state: SimulatorState, tool: str, arguments: dict[str, Any], line: str
) -> None:
    before = {k: dict(v) for k, v in sim_state.orders(STORE).items()}
    async with mcp_client(make_container(tmp_path, state=sim_state)) as client:
        result = await client.call_tool(tool, arguments)
    message = error_text(result)
    assert message == f"Invalid request: {line}."
    assert "\n" not in message
    assert "http" not in message
    assert sim_state.orders(STORE) == before  # nothing was written


async def test_several_wrong_arguments_are_named_on_one_line_in_schema_order(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool("orders_list", {"view": "brief", "limit": 0, "offset": -1})
    assert error_text(result) == (
        "Invalid request: limit must be a whole number from 1 to 100; got 0; "
        "offset must be a whole number from 0 to 1000000; got -1; "
        'view must be "summary" or "full"; got "brief".'
    )


async def test_order_id_true_never_reads_order_one(tmp_path: Path, sim_state: SimulatorState) -> None:
    sim_state.seed(STORE, [{"id": "1", "email": "one@example.com", "order_items": []}])
    async with mcp_client(make_container(tmp_path, state=sim_state)) as client:
        result = await client.call_tool("orders_get", {"order_id": True})
        one = await client.call_tool("orders_get", {"order_id": 1})
    assert result.is_error
    assert not one.is_error


async def test_a_whole_number_sent_as_a_float_is_still_an_order_id(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool("orders_get", {"order_id": 500001.0})
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["order"]["id"] == "500001"


def test_allowed_by_describes_bounds_enums_and_unions() -> None:
    assert allowed_by({"type": "integer", "minimum": 0}) == "a whole number of at least 0"
    assert allowed_by({"type": "number", "maximum": 5}) == "a number of at most 5"
    assert allowed_by({"enum": ["a", "b", "c"]}) == 'one of "a", "b", "c"'
    assert allowed_by({"anyOf": [{"type": "string"}, {"type": "null"}]}) == "a string"
    assert allowed_by({"type": "string", "minLength": 1}) == "a string of at least 1 characters"


def _strings(schema: Any) -> list[dict[str, Any]]:
    if isinstance(schema, dict):
        found = [schema] if schema.get("type") == "string" else []
        return found + [s for value in schema.values() for s in _strings(value)]
    if isinstance(schema, list):
        return [s for value in schema for s in _strings(value)]
    return []


async def test_input_schemas_declare_their_bounds_before_any_call(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        tools = {t.name: t.input_schema for t in (await client.list_tools()).tools}
    listing = tools["orders_list"]["properties"]
    assert (listing["limit"]["minimum"], listing["limit"]["maximum"]) == (1, 100)
    assert (listing["offset"]["minimum"], listing["offset"]["maximum"]) == (0, 1_000_000)
    assert listing["view"]["enum"] == ["summary", "full"]
    for name, schema in tools.items():
        for string in _strings(schema):
            assert "enum" in string or 0 < string.get("maxLength", 10**9) <= 10_000, (name, string)
