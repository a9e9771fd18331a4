"""What input schemas publish, and the argument errors they lead to.

- JSON Schema keywords only: ``inventory_adjust_stock``'s ``delta`` was published with ``"ge"`` and
  ``"le"`` (its validator came before its range, so pydantic could not translate them): clients
  ignored the range and the argument error could not name it ("delta must be a whole number; got
  2000000").
- No empty text argument: an empty ``email`` filter returned an empty page (read as "no such
  orders"), and an empty ``expected_fingerprint`` said the order had changed since it was read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.mcp_harness import error_text, make_container, mcp_client

pytestmark = pytest.mark.anyio

SNAPSHOT = Path(__file__).with_name("snapshots") / "tools_list.json"
# pydantic's names for constraints; JSON Schema spells them minimum, maximum, minLength, ...
_NOT_JSON_SCHEMA = {"ge", "le", "gt", "lt", "min_length", "max_length", "multiple_of", "max_digits"}


def _keys(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        found = set(schema)
        for key, value in schema.items():
            if key not in ("properties", "$defs"):
                found |= _keys(value)
            else:
                for sub in value.values():
                    found |= _keys(sub)
        return found
    if isinstance(schema, list):
        return set().union(*(_keys(item) for item in schema)) if schema else set()
    return set()


def test_no_input_schema_publishes_a_pydantic_constraint_name() -> None:
    for tool in json.loads(SNAPSHOT.read_text()):
        assert not _keys(tool["inputSchema"]) & _NOT_JSON_SCHEMA, tool["name"]


async def test_a_stock_delta_out_of_range_is_refused_naming_the_range(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool("inventory_adjust_stock", {"item_id": 2501, "delta": 2_000_000})
    assert error_text(result) == (
        "Invalid request: delta must be a whole number from -1000000 to 1000000; got 2000000."
    )


async def test_an_empty_filter_is_refused_rather_than_matching_nothing(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool("orders_list", {"email": ""})
    assert error_text(result) == 'Invalid request: email must be a string of 1 to 320 characters; got "".'


async def test_an_empty_fingerprint_is_refused_rather_than_reported_stale(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool(
            "orders_update",
            {"order_id": 500001, "changes": {"email": "a@example.com"}, "expected_fingerprint": ""},
        )
    assert error_text(result) == (
        'Invalid request: expected_fingerprint must be a string of 1 to 128 characters; got "".'
    )
