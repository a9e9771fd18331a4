"""Agent-ready tools through the real mcp.Client: names, compact results, views, fields, budget, folders."""

from __future__ import annotations

import base64
import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

import pytest
from mcp import Client
from mcp.types import CallToolResult, ElicitResult, ErrorData, InputRequiredResult, InputResponses

from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.domain.order import fingerprint_of
from orderdesk_mcp.entrypoints.serve import create_server, request_state_key
from orderdesk_mcp.entrypoints.settings import Settings
from tests.mcp_harness import STORE, answering, error_text, make_container, mcp_client, seeded_state

pytestmark = pytest.mark.anyio

NAME_RULE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
SUMMARY_KEYS = [
    "id", "source_id", "folder", "folder_id", "date_added", "date_updated", "name", "email", "order_total",
    "payment_status", "item_count", "quantity_total", "shipment_count", "fingerprint",
]  # fmt: skip
FOLDER_NAMES = {1: "New", 2: "Prepared", 3: "Closed", 4: "Canceled"}


def _text(result: CallToolResult) -> str:
    (block,) = result.content
    text = getattr(block, "text", None)
    assert isinstance(text, str)
    return text


def _ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, _text(result)
    structured: dict[str, Any] | None = result.structured_content
    assert structured is not None
    return structured


async def test_every_listed_tool_name_is_accepted_by_strict_clients(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        names = [t.name for t in (await client.list_tools()).tools]
    assert sorted(names) == [
        "folders_list", "inventory_adjust_stock", "inventory_get", "inventory_list", "inventory_update",
        "orders_add_note", "orders_create", "orders_delete", "orders_get", "orders_list", "orders_move",
        "orders_update", "shipments_add", "shipments_delete", "shipments_list",
    ]  # fmt: skip
    assert all(NAME_RULE.match(name) for name in names), names


async def test_dotted_names_are_gone_not_aliased(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool("orders.get", {"order_id": "500001"})
    assert result.is_error
    assert _text(result) == "Unknown tool: orders.get"


async def test_every_tool_result_text_is_the_compact_json_of_its_structured_content(tmp_path: Path) -> None:
    state = seeded_state(25)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("orders_list", {}),
        ("orders_list", {"view": "full", "limit": 3}),
        ("orders_list", {"fields": ["email"], "limit": 3}),
        ("orders_get", {"order_id": "500001"}),
        ("folders_list", {}),
        ("orders_update", {"order_id": "500002", "changes": {"email": "new@example.com"}}),
        ("orders_create", {"order": {"shipping": {"first_name": "A", "last_name": "B"},
                                     "order_items": [{"name": "Tea", "price": 3, "quantity": 1}]}}),
        ("orders_delete", {"order_id": "500003", "confirm": True}),
    ]  # fmt: skip
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        for tool, args in calls:
            result = await client.call_tool(tool, args)
            structured = _ok(result)
            text = _text(result)
            assert json.loads(text) == structured, tool
            assert text == json.dumps(structured, separators=(",", ":"), ensure_ascii=False), tool


async def test_the_default_list_is_the_summary_view_with_folder_names_and_fingerprints(
    tmp_path: Path,
) -> None:
    state = seeded_state(25)
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        page = _ok(await client.call_tool("orders_list", {"limit": 5}))
    assert len(page["orders"]) == 5
    assert "fingerprints" not in page
    assert "folders" not in page
    for summary in page["orders"]:
        assert list(summary) == SUMMARY_KEYS
        stored = state.orders(STORE)[summary["id"]]
        assert summary["folder"] == FOLDER_NAMES[stored["folder_id"]]
        assert summary["fingerprint"] == fingerprint_of(stored)
        assert summary["item_count"] == len(stored["order_items"])


async def test_a_summary_fingerprint_is_enough_to_update_safely(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path, state=seeded_state(25))) as client:
        first = _ok(await client.call_tool("orders_list", {"limit": 1}))["orders"][0]
        args = {"order_id": first["id"], "changes": {"email": "x@example.com"}}
        updated = await client.call_tool(
            "orders_update", args | {"expected_fingerprint": first["fingerprint"]}
        )
        stale = await client.call_tool("orders_update", args | {"expected_fingerprint": first["fingerprint"]})
    assert not updated.is_error
    assert error_text(stale).startswith(f"Order {first['id']} changed since you read it")


async def test_the_full_view_is_the_documents_untouched_with_folder_names_beside_them(tmp_path: Path) -> None:
    state = seeded_state(25)
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        page = _ok(await client.call_tool("orders_list", {"view": "full", "limit": 10}))
    for order in page["orders"]:
        assert order == state.orders(STORE)[order["id"]]
        assert page["fingerprints"][order["id"]] == fingerprint_of(order)
        assert page["folders"][str(order["folder_id"])] == FOLDER_NAMES[order["folder_id"]]


async def test_get_shows_the_folder_name_beside_the_untouched_order(tmp_path: Path) -> None:
    state = seeded_state(25)
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        got = _ok(await client.call_tool("orders_get", {"order_id": "500002"}))
    stored = state.orders(STORE)["500002"]
    assert got == {
        "order": stored,
        "folder": FOLDER_NAMES[stored["folder_id"]],
        "fingerprint": fingerprint_of(stored),
    }


async def test_fields_on_get_and_list_return_only_those_paths_plus_id_and_fingerprint(tmp_path: Path) -> None:
    state = seeded_state(25)
    fields = ["shipping.city", "order_items.name", "no_such_field"]
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        got = _ok(await client.call_tool("orders_get", {"order_id": "500001", "fields": fields}))
        listed = _ok(await client.call_tool("orders_list", {"fields": fields, "view": "full", "limit": 3}))
    stored = state.orders(STORE)["500001"]
    assert got["order"] == {
        "id": "500001",
        "shipping": {"city": stored["shipping"]["city"]},
        "order_items": [{"name": item["name"]} for item in stored["order_items"]],
    }
    assert got["fingerprint"] == fingerprint_of(stored)
    assert "fingerprints" not in listed  # fields wins over view: each entry carries its fingerprint
    for entry in listed["orders"]:
        doc = state.orders(STORE)[entry["id"]]
        assert list(entry) == ["id", "shipping", "order_items", "fingerprint"]
        assert entry["shipping"] == {"city": doc["shipping"]["city"]}
        assert entry["fingerprint"] == fingerprint_of(doc)


async def test_a_malformed_field_path_is_an_error_naming_it(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool(
            "orders_get", {"order_id": "500001", "fields": ["email", "shipping..city"]}
        )
    assert error_text(result) == (
        "Invalid request: field path 'shipping..city' must be a top-level key or a dotted path like "
        "shipping.city (no empty or padded parts)."
    )


async def test_walking_next_offset_sees_every_order_once_even_when_pages_are_cut(tmp_path: Path) -> None:
    state = seeded_state(60)
    for number, doc in enumerate(state.orders(STORE).values()):
        doc["order_notes"] = [{"content": "note " * (40 + 30 * (number % 5))}]
    seen: list[str] = []
    cuts = 0
    async with mcp_client(make_container(tmp_path, state=state, max_result_chars=6_000)) as client:
        offset: int | None = 0
        while offset is not None:
            result = await client.call_tool("orders_list", {"view": "full", "limit": 20, "offset": offset})
            page = _ok(result)
            assert len(_text(result)) <= 6_000
            assert page["total_count"] == 60
            seen += [order["id"] for order in page["orders"]]
            cuts += page["truncated"]
            assert page["has_more"] is (page["next_offset"] is not None)
            offset = page["next_offset"]
    assert sorted(seen) == sorted(state.orders(STORE))
    assert len(seen) == len(set(seen)) == 60
    assert cuts > 0


async def test_a_list_past_the_budget_returns_fewer_orders_with_a_hint(tmp_path: Path) -> None:
    state = seeded_state(50)
    for doc in state.orders(STORE).values():
        doc["order_notes"] = [{"content": "Please leave the parcel by the door. " * 30}]
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool("orders_list", {"view": "full"})
    page = _ok(result)
    kept = len(page["orders"])
    assert len(_text(result)) <= 20_000
    assert 0 < kept < 50
    assert (page["truncated"], page["has_more"], page["next_offset"]) == (True, True, kept)
    assert page["hint"] == (
        "Result cut to fit the result budget; continue from next_offset, or ask for fewer fields "
        "(fields: [...]) or the summary view to get more orders per call."
    )


async def test_one_order_larger_than_the_budget_is_returned_whole_and_flagged(tmp_path: Path) -> None:
    state = seeded_state(3)
    big = state.orders(STORE)["500001"]
    big["order_notes"] = [{"content": "x" * 3_000}]
    async with mcp_client(make_container(tmp_path, state=state, max_result_chars=1_000)) as client:
        result = await client.call_tool("orders_get", {"order_id": "500001"})
        listed = _ok(await client.call_tool("orders_list", {"view": "full", "limit": 3}))
    got = _ok(result)
    assert got["order"] == big
    assert got["over_budget"] is True
    # The text an agent reads carries the flag too (it is encoded again once flagged).
    assert _text(result) == json.dumps(got, separators=(",", ":"), ensure_ascii=False)
    assert len(listed["orders"]) == 1
    assert listed["over_budget"] is True


async def test_folders_list_returns_the_stores_folders(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = _ok(await client.call_tool("folders_list", {}))
    assert result == {"folders": [{"id": i, "name": n} for i, n in FOLDER_NAMES.items()]}


async def test_status_matches_a_folder_name_in_any_case(tmp_path: Path) -> None:
    state = seeded_state(25)
    prepared = sorted(i for i, d in state.orders(STORE).items() if d["folder_id"] == 2)
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        for status in ("prepared", "PREPARED", " Prepared "):
            page = _ok(await client.call_tool("orders_list", {"status": status, "limit": 100}))
            assert sorted(o["id"] for o in page["orders"]) == prepared
            assert {o["folder"] for o in page["orders"]} == {"Prepared"}


async def test_an_unknown_status_is_an_error_naming_the_stores_folders(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        result = await client.call_tool("orders_list", {"status": "NoSuchFolder"})
    assert error_text(result) == (
        "Folder 'NoSuchFolder' does not exist in this store; its folders are: New (id 1), Prepared (id 2), "
        "Closed (id 3), Canceled (id 4)."
    )


async def test_an_oversized_write_reply_is_summarized_and_the_write_is_whole(tmp_path: Path) -> None:
    state = seeded_state(3)
    items = [{"name": f"Item {n} " + "x" * 80, "price": 1, "quantity": 1} for n in range(300)]
    order = {"shipping": {"first_name": "A", "last_name": "B"}, "order_items": items}
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        result = await client.call_tool("orders_create", {"order": order})
    created = _ok(result)
    assert len(_text(result)) <= 20_000
    assert created["summarized"] is True
    assert created["order"]["item_count"] == 300
    stored = state.orders(STORE)[created["order"]["id"]]
    assert len(stored["order_items"]) == 300
    assert created["fingerprint"] == fingerprint_of(stored)


# Delete confirmation through elicitation.


DECLINED = "The person declined deleting order 500001; nothing was deleted. Do not retry without asking them."
UNCONFIRMED = (
    "Nothing was done: deleting order 500001 needs confirmation. "
    "Call orders_delete again with confirm: true to delete it permanently."
)


# "legacy": a handshake-era protocol, asked with a request mid-call; "auto": the SDK client's default,
# 2026-07-28, asked through the call's result (InputRequiredResult) before the tool runs.
MODES = ["legacy", "auto"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "answer",
    [
        ElicitResult(action="decline"),
        ElicitResult(action="cancel"),
        ElicitResult(action="accept", content={"confirm": False}),
    ],
)
async def test_a_declined_delete_confirmation_says_so_and_deletes_nothing(
    tmp_path: Path, answer: ElicitResult, mode: Literal["legacy", "auto"]
) -> None:
    state = seeded_state(3)
    server = create_server(make_container(tmp_path, state=state))
    asked: list[str] = []
    async with Client(
        server, raise_exceptions=True, mode=mode, elicitation_callback=answering(answer, asked)
    ) as client:
        result = await client.call_tool("orders_delete", {"order_id": "500001"})
    # A cancel said "declined" until review found it: the agent is told what the person did.
    expected = DECLINED.replace("declined", "cancelled") if answer.action == "cancel" else DECLINED
    assert error_text(result) == expected
    assert asked == ["Delete order 500001 permanently?"]
    assert "500001" in state.orders(STORE)


async def test_an_accepted_confirmation_without_content_deletes_nothing(tmp_path: Path) -> None:
    state = seeded_state(3)
    server = create_server(make_container(tmp_path, state=state))
    answer = ElicitResult(action="accept")
    async with Client(
        server, raise_exceptions=True, mode="legacy", elicitation_callback=answering(answer)
    ) as client:
        result = await client.call_tool("orders_delete", {"order_id": "500001"})
    assert error_text(result) == DECLINED
    assert "500001" in state.orders(STORE)


async def test_a_2026_07_28_client_is_asked_through_the_call_result_and_a_yes_deletes(tmp_path: Path) -> None:
    # Regression: on 2026-07-28 there is no request mid-call, so ctx.elicit failed, the person was
    # never asked and the agent was told how to confirm the delete itself.
    state = seeded_state(3)
    server = create_server(make_container(tmp_path, state=state))
    asked: list[str] = []
    answer = ElicitResult(action="accept", content={"confirm": True})
    async with Client(server, raise_exceptions=True, elicitation_callback=answering(answer, asked)) as client:
        assert client.session.protocol_version == "2026-07-28"
        result = await client.call_tool("orders_delete", {"order_id": 500001})
    assert _ok(result) == {"deleted": True, "order_id": "500001"}
    assert asked == ["Delete order 500001 permanently?"]
    assert "500001" not in state.orders(STORE)


async def test_a_2026_07_28_confirmation_accepted_without_content_deletes_nothing(tmp_path: Path) -> None:
    state = seeded_state(3)
    server = create_server(make_container(tmp_path, state=state))
    answer = ElicitResult(action="accept")
    async with Client(server, raise_exceptions=True, elicitation_callback=answering(answer)) as client:
        result = await client.call_tool("orders_delete", {"order_id": "500001"})
    assert result.is_error  # the SDK refuses the malformed answer before our tool runs
    assert "500001" in state.orders(STORE)


@pytest.mark.parametrize("mode", MODES)
async def test_confirm_true_deletes_withoutanswering(tmp_path: Path, mode: Literal["legacy", "auto"]) -> None:
    state = seeded_state(3)
    server = create_server(make_container(tmp_path, state=state))
    asked: list[str] = []
    answer = ElicitResult(action="decline")
    async with Client(
        server, raise_exceptions=True, mode=mode, elicitation_callback=answering(answer, asked)
    ) as client:
        result = await client.call_tool("orders_delete", {"order_id": "500001", "confirm": True})
    assert _ok(result) == {"deleted": True, "order_id": "500001"}
    assert asked == []


@pytest.mark.parametrize("mode", MODES)
async def test_an_unreadable_id_is_reported_withoutanswering(
    tmp_path: Path, mode: Literal["legacy", "auto"]
) -> None:
    state = seeded_state(3)
    server = create_server(make_container(tmp_path, state=state))
    asked: list[str] = []
    answer = ElicitResult(action="accept", content={"confirm": True})
    async with Client(
        server, raise_exceptions=True, mode=mode, elicitation_callback=answering(answer, asked)
    ) as client:
        result = await client.call_tool("orders_delete", {"order_id": "0"})
    assert error_text(result).startswith("Invalid request: order_id '0' is not an order id")
    assert asked == []


async def test_an_accepted_delete_confirmation_deletes(tmp_path: Path) -> None:
    state = seeded_state(3)
    server = create_server(make_container(tmp_path, state=state))
    answer = ElicitResult(action="accept", content={"confirm": True})
    async with Client(
        server, raise_exceptions=True, mode="legacy", elicitation_callback=answering(answer)
    ) as client:
        result = await client.call_tool("orders_delete", {"order_id": "500001"})
    assert _ok(result) == {"deleted": True, "order_id": "500001"}
    assert "500001" not in state.orders(STORE)


@pytest.mark.parametrize(
    ("tool", "args", "refusal"),
    [
        ("orders_delete", {"order_id": "500001", "store": "nope"},
         "Store 'nope' does not exist or is not available to you."),
        ("orders_delete", {"order_id": "500001", "confrim": True},
         "Invalid request: unknown argument 'confrim'; this tool takes: confirm, order_id, store."),
        ("shipments_delete", {"order_id": "500001", "shipment_id": 7, "store": "nope"},
         "Store 'nope' does not exist or is not available to you."),
    ],
)  # fmt: skip
async def test_a_call_refused_anyway_asks_the_person_nothing(
    tmp_path: Path, tool: str, args: dict[str, Any], refusal: str
) -> None:
    # Regression: on 2026-07-28 the question ran before the call's own checks, so the person said
    # yes to deleting and the call was then refused for a typo or a store that does not exist.
    server = create_server(make_container(tmp_path, state=seeded_state(3)))
    asked: list[str] = []
    answer = ElicitResult(action="accept", content={"confirm": True})
    async with Client(server, raise_exceptions=True, elicitation_callback=answering(answer, asked)) as client:
        result = await client.call_tool(tool, args)
    assert error_text(result) == refusal
    assert asked == []


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_without_elicitation_is_told_how_to_confirm(
    tmp_path: Path, mode: Literal["legacy", "auto"]
) -> None:
    state = seeded_state(3)
    server = create_server(make_container(tmp_path, state=state))
    async with Client(server, raise_exceptions=True, mode=mode) as client:
        result = await client.call_tool("orders_delete", {"order_id": "500001"})
    assert error_text(result) == UNCONFIRMED
    assert "500001" in state.orders(STORE)


async def test_a_client_answering_the_confirmation_with_an_error_is_told_how_to_confirm(
    tmp_path: Path,
) -> None:
    state = seeded_state(3)
    server = create_server(make_container(tmp_path, state=state))
    answer = ErrorData(code=-32600, message="Elicitation not supported")
    async with Client(
        server, raise_exceptions=True, mode="legacy", elicitation_callback=answering(answer)
    ) as client:
        result = await client.call_tool("orders_delete", {"order_id": "500001"})
    assert error_text(result) == UNCONFIRMED
    assert "500001" in state.orders(STORE)


async def test_the_server_reports_the_installed_package_version(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        info = client.server_info
    assert info is not None
    assert (info.name, info.version) == ("orderdesk-mcp", version("orderdesk-mcp"))


async def test_every_tool_schema_is_self_contained_with_no_reference_to_resolve(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        tools = (await client.list_tools()).tools
    with_refs = [t.name for t in tools if "$ref" in json.dumps([t.input_schema, t.output_schema])]
    assert with_refs == []
    assert all(t.output_schema is not None for t in tools)


def _document_schemas(schema: Any) -> list[Any]:
    """Every schema under ``schema`` that a validator applies to each element or key in turn."""
    if not isinstance(schema, dict):
        return []
    found = [schema[k] for k in ("items", "additionalProperties") if isinstance(schema.get(k), dict)]
    for value in schema.values():
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        for child in children:
            found += _document_schemas(child)
    return found


async def test_no_output_schema_makes_the_client_walk_each_document_of_a_page(tmp_path: Path) -> None:
    # The SDK client checks every result against the output schema. {"items": {"type": "object"}}
    # on a page of 50 orders cost it ~245 us per call (six times the rest of the check) and said
    # nothing the description does not. Element schemas are kept only where they describe
    # small records of our own (folders, moves, diffs), never a page of OrderDesk documents.
    async with mcp_client(make_container(tmp_path)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    pages = {"orders_list": "orders", "shipments_list": "shipments", "inventory_list": "items"}
    for tool, key in pages.items():
        properties = (tools[tool].output_schema or {})["properties"]
        assert properties[key]["type"] == "array"
        assert _document_schemas(properties[key]) == [], tool
    for tool in ("orders_list", "inventory_list"):
        properties = (tools[tool].output_schema or {})["properties"]
        assert _document_schemas(properties["fingerprints"]) == [], tool
    folders = (tools["folders_list"].output_schema or {})["properties"]["folders"]
    assert folders["items"]["required"] == ["id", "name"]


async def test_a_question_asked_by_one_replica_is_answered_to_another(tmp_path: Path) -> None:
    # Regression: the state a 2026-07-28 question carries through the client was sealed with a key
    # made fresh in each process, so an answer that reached another replica (a load balancer, or
    # the same one after a restart) was refused with "Invalid or expired requestState".
    state = seeded_state(3)
    replicas = [
        create_server(
            make_container(tmp_path / name, state=state, store_id=STORE, api_key="a-shared-api-key")
        )
        for name in ("a", "b")
    ]
    async with Client(replicas[0], elicitation_callback=answering(ElicitResult(action="decline"))) as first:
        asked = await first.session.call_tool(
            "orders_delete", {"order_id": "500001"}, allow_input_required=True
        )
    assert isinstance(asked, InputRequiredResult)
    assert asked.input_requests is not None
    yes = ElicitResult(action="accept", content={"confirm": True})
    answers: InputResponses = dict.fromkeys(asked.input_requests, yes)
    async with Client(replicas[1], elicitation_callback=answering(ElicitResult(action="decline"))) as second:
        result = await second.session.call_tool(
            "orders_delete",
            {"order_id": "500001"},
            input_responses=answers,
            request_state=asked.request_state,
        )
    assert isinstance(result, CallToolResult)
    assert _ok(result) == {"deleted": True, "order_id": "500001"}
    assert "500001" not in state.orders(STORE)


def test_replicas_derive_one_request_state_key_from_the_secret_they_share(tmp_path: Path) -> None:
    with_key = Settings(data_dir=str(tmp_path), store_id="1", api_key="k1")
    assert request_state_key(with_key, {}) == request_state_key(with_key, {})
    assert request_state_key(with_key, {}) != request_state_key(Settings(store_id="1", api_key="k2"), {})
    assert request_state_key(Settings(data_dir=str(tmp_path)), {}) is None  # the simulator: per process
    # The same master key, from a key file or the environment, written either way: one key (a
    # review found replicas given the key in different forms deriving different keys).
    keyring = Keyring.generate(tmp_path)
    encoded = base64.b64encode(keyring.derived(b"probe")).decode()  # a second, unrelated key
    from_file = request_state_key(Settings(data_dir=str(tmp_path)), {})
    key_text = json.loads((tmp_path / "master.key").read_text())["1"]
    from_env = [
        request_state_key(Settings(data_dir=str(tmp_path / "none")), {"ORDERDESK_MASTER_KEY": value})
        for value in (key_text, f"1:{key_text}", f"2:{encoded},1:{key_text}")
    ]
    assert from_file is not None
    assert from_env == [from_file] * 3
