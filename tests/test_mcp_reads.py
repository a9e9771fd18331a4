"""orders_get and orders_list through the real MCP client, server, container and simulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderdesk_mcp.adapters.simulator import SimulatorState
from tests.mcp_harness import STORE, error_text, make_container, mcp_client, seeded_state

pytestmark = pytest.mark.anyio


async def test_get_returns_the_order_exactly_as_the_simulator_stores_it(tmp_path: Path) -> None:
    state = seeded_state(5)
    order_id, stored = next(iter(state.orders(STORE).items()))
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool("orders_get", {"order_id": order_id})
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["order"] == stored
    assert len(result.structured_content["fingerprint"]) == 32


async def test_get_accepts_an_order_id_sent_as_a_json_number(
    tmp_path: Path, sim_state: SimulatorState
) -> None:
    order_id = next(iter(sim_state.orders(STORE)))
    async with mcp_client(make_container(tmp_path, state=sim_state)) as client:
        result = await client.call_tool("orders_get", {"order_id": int(order_id)})
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["order"]["id"] == order_id


async def test_get_of_an_unknown_order_says_it_was_not_found_in_this_store(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool("orders_get", {"order_id": "999999"})
    assert error_text(result) == f"Order 999999 was not found in store {STORE}."


@pytest.mark.parametrize(
    ("bad", "shown"),
    [("abc", '"abc"'), (-1, "-1"), (1.5, "1.5"), ("", '""'), (True, "true"), (None, "null")],
)
async def test_get_rejects_what_is_not_an_order_id_and_says_what_one_looks_like(
    tmp_path: Path, bad: object, shown: str
) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool("orders_get", {"order_id": bad})
    assert error_text(result) == (
        "Invalid request: order_id must be a string of digits or a whole number of at least 1, "
        f'like 500001 or "500001"; got {shown}.'
    )


async def test_get_refuses_order_id_zero_with_what_an_id_looks_like(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool("orders_get", {"order_id": "0"})
    assert error_text(result) == (
        "Invalid request: order_id '0' is not an order id; "
        'an order id is OrderDesk\'s numeric id, like 500001 or "500001".'
    )


async def test_unknown_argument_keys_are_refused_by_name(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool("orders_get", {"order_id": "500001", "oder_id": "1"})
    assert error_text(result) == (
        "Invalid request: unknown argument 'oder_id'; this tool takes: fields, order_id, store."
    )


async def test_list_pages_through_every_order_with_honest_has_more(tmp_path: Path) -> None:
    state = seeded_state(25)
    seen: list[str] = []
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        for offset in (0, 10, 20):
            result = await client.call_tool("orders_list", {"limit": 10, "offset": offset, "view": "full"})
            page = result.structured_content
            assert page is not None
            assert page["total_count"] == 25
            assert (page["limit"], page["offset"]) == (10, offset)
            assert page["has_more"] is (offset + 10 < 25)
            assert set(page["fingerprints"]) == {o["id"] for o in page["orders"]}
            seen += [o["id"] for o in page["orders"]]
    assert sorted(seen) == sorted(state.orders(STORE))


async def test_a_repeated_list_answers_the_same_text_from_the_cache(tmp_path: Path) -> None:
    container = make_container(tmp_path, state=seeded_state(25))
    async with mcp_client(container) as client:
        first, second = [await client.call_tool("orders_list", {"limit": 20}) for _ in range(2)]
    assert not first.is_error
    assert (second.structured_content, second.content) == (first.structured_content, first.content)
    assert container.stats().snapshot() == {"tenant:default:store:100001": {"hits": 1, "misses": 1}}


async def test_list_past_the_end_is_an_empty_page_without_more(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool("orders_list", {"offset": 500})
    page = result.structured_content
    assert page is not None
    assert (page["orders"], page["has_more"], page["total_count"]) == ([], False, 25)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"limit": 0}, "Invalid request: limit must be a whole number from 1 to 100; got 0."),
        ({"limit": 101}, "Invalid request: limit must be a whole number from 1 to 100; got 101."),
        ({"offset": -1}, "Invalid request: offset must be a whole number from 0 to 1000000; got -1."),
        (
            {"offset": 1_000_001},
            "Invalid request: offset must be a whole number from 0 to 1000000; got 1000001.",
        ),
        (
            {"folder_id": "x"},
            "Invalid request: folder_id must be a string of digits and commas or a whole number of at "
            'least 1; got "x".',
        ),
        ({"folder_id": "1,,0"}, "Invalid request: folder_id '0' is not a folder id (a positive integer)."),
    ],
)
async def test_list_refuses_out_of_range_paging_instead_of_clamping(
    tmp_path: Path, args: dict[str, object], message: str
) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool("orders_list", args)
    assert error_text(result) == message


async def test_list_filters_by_status_which_is_the_folder_name(tmp_path: Path) -> None:
    state = seeded_state(25)
    in_new = sorted(i for i, doc in state.orders(STORE).items() if doc["folder_id"] == 1)
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool("orders_list", {"status": "New", "limit": 100})
    page = result.structured_content
    assert page is not None
    assert sorted(o["id"] for o in page["orders"]) == in_new
    assert page["total_count"] == len(in_new)


async def test_tools_are_listed_with_output_schemas_and_read_only_hints(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {
        "orders_get", "orders_list", "orders_create", "orders_update", "orders_delete", "orders_move",
        "orders_add_note", "folders_list", "shipments_list", "shipments_add", "shipments_delete",
        "inventory_list", "inventory_get", "inventory_update", "inventory_adjust_stock",
    }  # fmt: skip
    for name in ("orders_get", "orders_list", "folders_list"):
        assert tools[name].output_schema is not None
        annotations = tools[name].annotations
        assert annotations is not None
        assert annotations.read_only_hint is True
    assert tools["orders_delete"].annotations is not None
    assert tools["orders_delete"].annotations.destructive_hint is True
