"""orders_create / update / delete end to end: real client, server, container, simulator, audit file."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.mcp_harness import STORE, error_text, make_container, mcp_client, seeded_state

pytestmark = pytest.mark.anyio

NEW_ORDER = {
    "email": "ada@example.com",
    "shipping": {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "address1": "1 Analytical Way",
        "city": "London",
    },
    "order_items": [{"name": "Difference engine", "price": 10, "quantity": 1, "code": "DE-1"}],
}


async def test_update_of_a_nested_address_field_keeps_every_other_field_byte_for_byte(tmp_path: Path) -> None:
    state = seeded_state(5)
    order_id = next(iter(state.orders(STORE)))
    state.orders(STORE)[order_id]["x_unmodelled"] = {"kept": ["exactly", 1, None]}
    before = copy.deepcopy(state.orders(STORE)[order_id])
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool(
            "orders_update", {"order_id": order_id, "changes": {"shipping": {"city": "Paris"}}}
        )
    assert not result.is_error, error_text(result)
    out = result.structured_content
    assert out is not None
    assert out["changed_fields"] == ["shipping.city"]
    assert out["attempts"] == 1
    after = state.orders(STORE)[order_id]
    assert after["shipping"] == before["shipping"] | {"city": "Paris"}
    assert after["x_unmodelled"] == {"kept": ["exactly", 1, None]}
    unchanged = {k for k in before if k not in {"shipping", "date_updated"}}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}


async def test_update_refuses_keys_orderdesk_owns(tmp_path: Path) -> None:
    state = seeded_state(5)
    order_id = next(iter(state.orders(STORE)))
    before = copy.deepcopy(state.orders(STORE)[order_id])
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool(
            "orders_update", {"order_id": order_id, "changes": {"order_total": 1}}
        )
    assert "order_total" in error_text(result)
    assert state.orders(STORE)[order_id] == before


async def test_a_read_after_an_update_never_serves_the_cached_old_order(tmp_path: Path) -> None:
    state = seeded_state(5)
    order_id = next(iter(state.orders(STORE)))
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        await client.call_tool("orders_get", {"order_id": order_id})
        await client.call_tool("orders_list", {"limit": 50})
        await client.call_tool(
            "orders_update", {"order_id": order_id, "changes": {"email": "new@example.com"}}
        )
        got = await client.call_tool("orders_get", {"order_id": order_id})
        listed = await client.call_tool("orders_list", {"limit": 50})
    assert got.structured_content is not None
    assert got.structured_content["order"]["email"] == "new@example.com"
    assert listed.structured_content is not None
    emails = {o["id"]: o["email"] for o in listed.structured_content["orders"]}
    assert emails[order_id] == "new@example.com"


async def test_delete_without_confirm_changes_nothing_and_says_how_to_confirm(tmp_path: Path) -> None:
    state = seeded_state(5)
    order_id = next(iter(state.orders(STORE)))
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool("orders_delete", {"order_id": order_id})
    assert "confirm" in error_text(result)
    assert order_id in state.orders(STORE)


async def test_delete_with_confirm_deletes_and_a_second_delete_is_not_found(tmp_path: Path) -> None:
    state = seeded_state(5)
    order_id = next(iter(state.orders(STORE)))
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool("orders_delete", {"order_id": order_id, "confirm": True})
        again = await client.call_tool("orders_delete", {"order_id": order_id, "confirm": True})
    assert result.structured_content == {"deleted": True, "order_id": order_id}
    assert order_id not in state.orders(STORE)
    assert error_text(again) == f"Order {order_id} was not found in store {STORE}."


async def test_create_with_an_idempotency_key_creates_once_and_replays(tmp_path: Path) -> None:
    state = seeded_state(5)
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        first = await client.call_tool("orders_create", {"order": NEW_ORDER, "idempotency_key": "k-1"})
        second = await client.call_tool("orders_create", {"order": NEW_ORDER, "idempotency_key": "k-1"})
    assert first.structured_content is not None, error_text(first)
    assert second.structured_content is not None
    assert first.structured_content["created"] is True
    assert second.structured_content["created"] is False
    assert second.structured_content["order"]["id"] == first.structured_content["order"]["id"]
    assert len(state.orders(STORE)) == 6


async def test_create_names_every_missing_field_before_sending_anything(tmp_path: Path) -> None:
    state = seeded_state(5)
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool("orders_create", {"order": {"email": "x@example.com"}})
    text = error_text(result)
    assert "order_items" in text
    assert "shipping" in text or "customer" in text
    assert len(state.orders(STORE)) == 5
    assert not any(r.method == "POST" for r in state.requests)


async def test_read_only_mode_hides_and_refuses_write_tools(tmp_path: Path) -> None:
    state = seeded_state(5)
    order_id = next(iter(state.orders(STORE)))
    async with mcp_client(make_container(tmp_path, state=state, read_only=True)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("orders_delete", {"order_id": order_id, "confirm": True})
    assert names == {
        "orders_get", "orders_list", "folders_list", "shipments_list", "inventory_list", "inventory_get",
    }  # fmt: skip
    assert result.is_error
    assert order_id in state.orders(STORE)


async def test_every_mutation_is_audited_and_the_chain_verifies(tmp_path: Path) -> None:
    from orderdesk_mcp.adapters.jsonl_audit_log import verify

    state = seeded_state(5)
    order_id = next(iter(state.orders(STORE)))
    email_before = state.orders(STORE)[order_id]["email"]
    async with mcp_client(make_container(tmp_path, state=state, audit_values="full")) as client:
        await client.call_tool("orders_update", {"order_id": order_id, "changes": {"email": "a@example.com"}})
        await client.call_tool("orders_update", {"order_id": order_id, "changes": {"id": "1"}})
        await client.call_tool("orders_delete", {"order_id": order_id, "confirm": True})
    path = tmp_path / "audit.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["tool"], r["outcome"], r["attempt_id"] is not None) for r in records] == [
        ("orders_update", "attempt", True),  # before the PUT
        ("orders_update", "ok", True),  # its outcome
        ("orders_update", "ok", False),  # the use case's record, with the changes
        ("orders_update", "error", False),  # refused before any request: no attempt
        ("orders_delete", "attempt", True),
        ("orders_delete", "ok", True),
        ("orders_delete", "ok", False),
    ]
    assert records[0]["attempt_id"] == records[1]["attempt_id"]
    records = [r for r in records if r["attempt_id"] is None]
    assert records[0]["changes"] == [{"field": "email", "before": email_before, "after": "a@example.com"}]
    assert verify(path).ok
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"orders_update"', '"orders_create"')  # the use cases' audit names
    path.write_text("\n".join(lines) + "\n")
    assert not verify(path).ok
