"""Hostile tool arguments, fuzzed per tool: every call ends in a result or a clear error.

Each tool gets hypothesis-generated argument dicts: the tool's own keys with junk values
(wrong types, huge and unicode strings, deep nesting, negative and enormous numbers,
non-finite floats), unknown keys, and valid calls with one field made hostile. A reply is
either a success or our error text (never the SDK's bare "Error executing tool X", which
means an exception escaped, and never a traceback); a valid ``orders_get`` answers after
every example. One in-process client serves a whole test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from orderdesk_mcp.adapters.simulator import SimulatorState, default_state
from orderdesk_mcp.entrypoints.settings import SIMULATOR_API_KEY
from tests.mcp_harness import STORE, error_text, make_container, mcp_client

pytestmark = pytest.mark.anyio

# The in-process client refuses to serialize arguments nested deeper than ~250 levels.
MAX_DEPTH = 200
LIVE_ORDER = "500001"  # never a fuzz target: hostile ids come from outside the seeded range


def _nested(depth: int, kind: str) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


HUGE = st.sampled_from([1_000, 65_537, 1_000_000]).flatmap(
    lambda n: st.sampled_from(["9" * n, "x" * n, "\u202e\u00e9\U0001f4a5\u200b" * (n // 4)])
)
NUMBERS = (
    st.integers(min_value=-(2**80), max_value=2**80)
    | st.sampled_from([-1, 0, 10**30, -(10**30), 2**63, 2**64 + 1])
    | st.floats(allow_nan=True, allow_infinity=True)
)
SCALARS = st.none() | st.booleans() | NUMBERS | st.text(max_size=40) | HUGE
DEEP = st.tuples(st.integers(min_value=30, max_value=MAX_DEPTH), st.sampled_from(["list", "dict"])).map(
    lambda t: _nested(*t)
)
JUNK = (
    st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
        max_leaves=10,
    )
    | DEEP
)
HOSTILE_IDS = JUNK | st.integers(min_value=600_000, max_value=10**12) | st.just("１２３")  # fullwidth

ORDER_FIELDS = [
    "email", "shipping", "customer", "order_items", "order_notes", "order_metadata", "checkout_data",
    "discount_list", "return_address", "source_id", "folder_id", "id", "order_total", "date_added",
]  # fmt: skip
TOOL_KEYS: dict[str, list[str]] = {
    "orders_get": ["order_id", "store"],
    "orders_list": [
        "limit",
        "offset",
        "folder_id",
        "status",
        "source_id",
        "email",
        "search_start_date",
        "search_end_date",
        "modified_start_date",
        "modified_end_date",
        "store",
    ],
    "orders_update": ["order_id", "changes", "expected_fingerprint", "dry_run", "store"],
    "orders_create": ["order", "idempotency_key", "store"],
    "orders_delete": ["order_id", "confirm", "store"],
}
_ITEM = {"name": "Mug", "price": 9.5, "quantity": 1}
_VALID: dict[str, dict[str, Any]] = {
    "orders_get": {"order_id": LIVE_ORDER},
    "orders_list": {"limit": 5},
    "orders_update": {"order_id": LIVE_ORDER, "changes": {"order_metadata": {"fuzz": 1}}, "dry_run": True},
    "orders_create": {"order": {"order_items": [_ITEM], "shipping": {"first_name": "A", "last_name": "B"}}},
    "orders_delete": {"order_id": "999999", "confirm": False},
}


def _arguments(tool: str) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.sampled_from(TOOL_KEYS[tool])
    junk_keys = st.dictionaries(keys | st.text(max_size=30), JUNK, max_size=6)
    one_bad_field = st.tuples(keys, JUNK).map(lambda kv: _VALID[tool] | {kv[0]: kv[1]})
    unknown_key = st.tuples(st.text(min_size=1, max_size=80), JUNK).map(
        lambda kv: _VALID[tool] | {kv[0]: kv[1]}
    )
    parts: list[st.SearchStrategy[dict[str, Any]]] = [junk_keys, one_bad_field, unknown_key]
    if "order_id" in TOOL_KEYS[tool] and tool != "orders_get":
        parts.append(HOSTILE_IDS.map(lambda v: _VALID[tool] | {"order_id": v}))
    if tool == "orders_update":
        changes = st.dictionaries(st.sampled_from(ORDER_FIELDS) | st.text(max_size=20), JUNK, max_size=4)
        parts.append(changes.map(lambda c: {"order_id": LIVE_ORDER, "changes": c}))
    if tool == "orders_create":
        order = st.dictionaries(st.sampled_from(ORDER_FIELDS) | st.text(max_size=20), JUNK, max_size=5)
        parts.append(order.map(lambda o: {"order": o}))
        parts.append(JUNK.map(lambda v: {"order": {"order_items": [_ITEM | {"price": v}],
                                                   "customer": {"company": "C"}}}))  # fmt: skip
    return st.one_of(parts)


@pytest.fixture
def state() -> SimulatorState:
    return default_state(store_id=STORE, api_key=SIMULATOR_API_KEY, sample_count=3)


@pytest.fixture
async def client(tmp_path: Path, state: SimulatorState) -> AsyncIterator[Client]:
    async with mcp_client(make_container(tmp_path, state=state)) as opened:
        yield opened


async def _assert_clear_reply(client: Client, tool: str, arguments: dict[str, Any]) -> None:
    with anyio.fail_after(10):
        result = await client.call_tool(tool, arguments)
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    assert "Traceback" not in text
    if result.is_error:
        message = error_text(result)  # fails on a bare "Error executing tool X" (an escaped exception)
        assert message.strip(), f"{tool} gave an empty error for {arguments!r}"
        assert len(message) < 5_000, f"{tool} echoed {len(message)} characters back"
    else:
        assert result.structured_content is not None
    with anyio.fail_after(10):
        alive = await client.call_tool("orders_get", {"order_id": LIVE_ORDER})
    assert not alive.is_error, f"orders_get stopped answering after {tool} {arguments!r}"


_FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_FUZZ
@given(arguments=_arguments("orders_get"))
async def test_fuzzed_orders_get_arguments_get_a_result_or_a_clear_error(
    client: Client, arguments: dict[str, Any]
) -> None:
    await _assert_clear_reply(client, "orders_get", arguments)


@_FUZZ
@given(arguments=_arguments("orders_list"))
async def test_fuzzed_orders_list_arguments_get_a_result_or_a_clear_error(
    client: Client, arguments: dict[str, Any]
) -> None:
    await _assert_clear_reply(client, "orders_list", arguments)


@_FUZZ
@given(arguments=_arguments("orders_update"))
async def test_fuzzed_orders_update_arguments_get_a_result_or_a_clear_error(
    client: Client, arguments: dict[str, Any]
) -> None:
    await _assert_clear_reply(client, "orders_update", arguments)


@_FUZZ
@given(arguments=_arguments("orders_create"))
async def test_fuzzed_orders_create_arguments_get_a_result_or_a_clear_error(
    client: Client, arguments: dict[str, Any]
) -> None:
    await _assert_clear_reply(client, "orders_create", arguments)


@_FUZZ
@given(arguments=_arguments("orders_delete"))
async def test_fuzzed_orders_delete_arguments_get_a_result_or_a_clear_error(
    client: Client, arguments: dict[str, Any]
) -> None:
    await _assert_clear_reply(client, "orders_delete", arguments)
