"""inventory_list and shipments_list within the result budget (ORDERDESK_MAX_RESULT_CHARS), end to end:
the real mcp.Client, server, container and in-process simulator.

A page that would pass the budget comes back with fewer entries, ``truncated: true`` and the way
on (``next_offset`` for inventory, a ``hint`` naming what was left out for shipments); one entry
larger than the whole budget still comes back, flagged, never as an empty page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult

from orderdesk_mcp.adapters.simulator import SimulatorState
from tests.mcp_harness import STORE, error_text, make_container, mcp_client, seeded_state

pytestmark = pytest.mark.anyio

ORDER = "500001"


def _text(result: CallToolResult) -> str:
    assert not result.is_error, error_text(result)
    (block,) = result.content
    return str(getattr(block, "text", ""))


def _out(result: CallToolResult, *, budget: int | None = None) -> dict[str, Any]:
    """The structured content, after checking the text is that content as compact JSON (and within
    ``budget`` characters when given)."""
    text = _text(result)
    assert result.structured_content is not None
    assert json.loads(text) == result.structured_content
    assert "\n" not in text
    if budget is not None:
        assert len(text) <= budget, f"{len(text)} characters against a budget of {budget}"
    return dict(result.structured_content)


def _inventory_state(count: int, *, padding: int = 300) -> tuple[SimulatorState, list[str]]:
    """The simulator with ``count`` items more than its 3 samples; every item id, in list order."""
    state = seeded_state(5, rate_limited=False)
    docs = [
        {"name": f"Widget {n:03d}", "code": f"W-{n:03d}", "price": 5, "cost": 2, "weight": 0.1, "stock": n,
         "location": "D9", "metadata": {"note": "x" * padding}}
        for n in range(count)
    ]  # fmt: skip
    state.seed_inventory(STORE, docs)
    return state, [str(item_id) for item_id in sorted(state.inventory(STORE))]


async def _walk_inventory(client: Client, *, limit: int, budget: int) -> list[dict[str, Any]]:
    """Every page of inventory_list from offset 0, following next_offset until there is none."""
    pages: list[dict[str, Any]] = []
    args: dict[str, Any] = {"limit": limit}
    while True:
        page = _out(await client.call_tool("inventory_list", args), budget=budget)
        pages.append(page)
        assert page["offset"] == args.get("offset", 0)
        assert page["fingerprints"].keys() == {str(i["id"]) for i in page["items"]}
        assert page["has_more"] is (page["next_offset"] is not None)
        if page["next_offset"] is None:
            return pages
        assert page["next_offset"] == page["offset"] + len(page["items"])
        assert len(pages) < 100, "next_offset never ran out"
        args = {"limit": limit, "offset": page["next_offset"]}


def _shipment(n: int, *, padding: int = 0) -> dict[str, Any]:
    return {"id": str(7000 + n), "order_id": ORDER, "tracking_number": f"1Z{n:06d}", "carrier_code": "UPS",
            "shipment_method": "Ground", "weight": "1.2", "cost": "8.5",
            "status": "in transit" + "." * padding, "tracking_url": f"https://track.example/UPS/1Z{n:06d}",
            "date_shipped": "2024-05-01", "date_added": "2024-05-01 10:00:00"}  # fmt: skip


def _with_shipments(shipments: list[dict[str, Any]]) -> SimulatorState:
    state = seeded_state(5, rate_limited=False)
    state.orders(STORE)[ORDER]["order_shipments"] = shipments
    return state


async def test_the_testers_500_item_page_of_303_items_fits_the_default_budget_and_pages_on(
    tmp_path: Path,
) -> None:
    state, ids = _inventory_state(300)
    assert len(ids) == 303
    budget = 20_000  # the default
    async with mcp_client(make_container(tmp_path, state=state, max_result_chars=budget)) as client:
        first = _out(await client.call_tool("inventory_list", {"limit": 500}), budget=budget)
        pages = await _walk_inventory(client, limit=500, budget=budget)
    kept = len(first["items"])
    assert 0 < kept < 303
    assert (first["truncated"], first["has_more"], first["next_offset"]) == (True, True, kept)
    assert (first["total_count"], first["limit"], first["offset"]) == (303, 500, 0)
    assert "next_offset" in first["hint"]
    assert [str(i["id"]) for i in first["items"]] == ids[:kept]
    # Following next_offset reaches every item exactly once, in order.
    walked = [str(i["id"]) for page in pages for i in page["items"]]
    assert walked == ids
    assert all(p["truncated"] for p in pages[:-1])
    assert (pages[-1]["has_more"], pages[-1]["next_offset"]) == (False, None)


async def test_a_small_budget_cuts_every_page_and_next_offset_still_reaches_every_item_once(
    tmp_path: Path,
) -> None:
    state, ids = _inventory_state(40)
    budget = 3_000
    async with mcp_client(make_container(tmp_path, state=state, max_result_chars=budget)) as client:
        pages = await _walk_inventory(client, limit=50, budget=budget)
    walked = [str(i["id"]) for page in pages for i in page["items"]]
    assert walked == ids
    assert len(walked) == len(set(walked)) == 43
    assert len(pages) > 2
    assert all(p["truncated"] is True and p["total_count"] == 43 for p in pages[:-1])
    assert all("over_budget" not in p for p in pages)


async def test_a_page_within_the_budget_is_unchanged_apart_from_the_paging_keys_orders_list_has(
    tmp_path: Path,
) -> None:
    state = seeded_state(5)
    docs = state.inventory(STORE)
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        first = _out(await client.call_tool("inventory_list", {"limit": 2}), budget=20_000)
        last = _out(await client.call_tool("inventory_list", {"limit": 2, "offset": 2}), budget=20_000)
        orders = _out(await client.call_tool("orders_list", {"limit": 2}), budget=20_000)
    assert first["items"] == [docs[k] for k in sorted(docs)[:2]]
    assert first["fingerprints"].keys() == {str(k) for k in sorted(docs)[:2]}
    paging = ("total_count", "limit", "offset", "has_more", "next_offset", "truncated")
    assert {k: first[k] for k in paging} == {
        "total_count": 3, "limit": 2, "offset": 0, "has_more": True, "next_offset": 2, "truncated": False
    }  # fmt: skip
    assert set(first) == {"items", "fingerprints", *paging}
    last_paging = (last["has_more"], last["next_offset"], last["truncated"])
    assert (last["items"], last_paging) == ([docs[sorted(docs)[2]]], (False, None, False))
    # The same paging keys, with the same values, as an uncut orders_list page.
    assert (orders["truncated"], orders["next_offset"]) == (False, 2)


async def test_an_item_larger_than_the_whole_budget_still_comes_back_flagged(tmp_path: Path) -> None:
    state = seeded_state(5)
    first_id = min(state.inventory(STORE))
    state.inventory(STORE)[first_id]["metadata"] = {"notes": "y" * 5_000}
    budget = 2_000
    async with mcp_client(make_container(tmp_path, state=state, max_result_chars=budget)) as client:
        big = _out(await client.call_tool("inventory_list", {"limit": 3}))
        after = {"limit": 3, "offset": big["next_offset"]}
        rest = _out(await client.call_tool("inventory_list", after), budget=budget)
    assert [i["id"] for i in big["items"]] == [first_id]
    assert big["items"][0]["metadata"] == {"notes": "y" * 5_000}  # whole, never cut mid-document
    flags = (big["over_budget"], big["truncated"], big["has_more"], big["next_offset"])
    assert flags == (True, True, True, 1)
    assert [i["id"] for i in rest["items"]] == sorted(state.inventory(STORE))[1:]
    assert (rest["truncated"], rest["next_offset"], "over_budget" in rest) == (False, None, False)


async def test_shipments_list_returns_the_first_shipments_that_fit_and_says_how_many_were_left_out(
    tmp_path: Path,
) -> None:
    shipments = [_shipment(n) for n in range(60)]
    budget = 4_000
    async with mcp_client(make_container(tmp_path, state=_with_shipments(shipments),
                                         max_result_chars=budget)) as client:  # fmt: skip
        out = _out(await client.call_tool("shipments_list", {"order_id": ORDER}), budget=budget)
    kept = len(out["shipments"])
    assert 0 < kept < 60
    assert out["shipments"] == shipments[:kept]
    assert (out["order_id"], out["total_count"], out["truncated"]) == (ORDER, 60, True)
    assert f"{60 - kept} of the order's 60 shipments left out" in out["hint"]
    assert "over_budget" not in out


async def test_shipments_within_the_budget_are_unchanged(tmp_path: Path) -> None:
    shipments = [_shipment(n) for n in range(3)]
    async with mcp_client(make_container(tmp_path, state=_with_shipments(shipments))) as client:
        out = _out(await client.call_tool("shipments_list", {"order_id": int(ORDER)}), budget=20_000)
    assert out == {"order_id": ORDER, "shipments": shipments, "total_count": 3, "truncated": False}


async def test_a_shipment_larger_than_the_whole_budget_still_comes_back_flagged(tmp_path: Path) -> None:
    shipments = [_shipment(0, padding=3_000), _shipment(1)]
    budget = 1_000
    async with mcp_client(make_container(tmp_path, state=_with_shipments(shipments),
                                         max_result_chars=budget)) as client:  # fmt: skip
        out = _out(await client.call_tool("shipments_list", {"order_id": ORDER}))
    assert out["shipments"] == shipments[:1]
    assert (out["total_count"], out["truncated"], out["over_budget"]) == (2, True, True)
    assert "1 of the order's 2 shipments left out" in out["hint"]
