"""Field paths through a list whose elements hold an empty list: OrderDesk sends an empty map
(``metadata``, ``variation_list``) as ``[]``, and such an element lacks any path below it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orderdesk_mcp.domain.field_selection import parse_fields, select_fields
from orderdesk_mcp.domain.order import Order
from tests.mcp_harness import make_container, mcp_client, seeded_state

pytestmark = pytest.mark.anyio


def _picked(doc: dict[str, Any], *paths: str) -> dict[str, Any]:
    order = Order.from_document({"id": "500001", "email": "a@example.com"} | doc)
    return select_fields(order, parse_fields(list(paths)), fingerprint=False)


@pytest.mark.parametrize("path", ["order_items.metadata.image", "order_items.variation_list.Size"])
def test_a_path_below_every_items_empty_list_leaves_the_items_out(path: str) -> None:
    items = [
        {"name": "Tea", "metadata": [], "variation_list": []},
        {"name": "Cup", "metadata": [], "variation_list": []},
    ]
    assert _picked({"order_items": items}, path, "email") == {"id": "500001", "email": "a@example.com"}


def test_an_item_whose_list_is_empty_shows_as_an_empty_object_beside_one_that_has_the_path() -> None:
    items = [{"name": "Tea", "metadata": []}, {"name": "Cup", "metadata": {"image": "cup.png"}}]
    assert _picked({"order_items": items}, "order_items.metadata.image") == {
        "id": "500001",
        "order_items": [{}, {"metadata": {"image": "cup.png"}}],
    }


def test_an_empty_list_two_lists_down_counts_as_lacking_the_path() -> None:
    items = [{"name": "Tea", "options": [{"choices": []}]}, {"name": "Cup", "options": []}]
    assert _picked({"order_items": items}, "order_items.options.choices.label") == {"id": "500001"}


@pytest.mark.parametrize("path", ["order_items.metadata", "order_items.variation_list"])
def test_selecting_an_items_empty_list_itself_still_shows_it(path: str) -> None:
    key = path.split(".")[1]
    items = [{"name": "Tea", key: []}, {"name": "Cup", key: []}]
    assert _picked({"order_items": items}, path) == {"id": "500001", "order_items": [{key: []}, {key: []}]}


@pytest.mark.parametrize("path", ["order_notes", "order_notes.content"])
def test_a_top_level_empty_list_still_shows_as_empty(path: str) -> None:
    assert _picked({"order_notes": []}, path) == {"id": "500001", "order_notes": []}


async def test_orders_get_leaves_out_items_whose_metadata_and_variations_are_empty(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path, state=seeded_state(5))) as client:
        got = {}
        for path in ("order_items.metadata.image", "order_items.variation_list.Size", "order_items.metadata"):
            result = await client.call_tool("orders_get", {"order_id": "500001", "fields": [path]})
            assert not result.is_error, result.content
            assert result.structured_content is not None
            got[path] = result.structured_content["order"]
    assert got["order_items.metadata.image"] == {"id": "500001"}
    assert got["order_items.variation_list.Size"] == {"id": "500001"}
    assert got["order_items.metadata"] == {"id": "500001", "order_items": [{"metadata": []}]}
