"""The exact text an agent reads for each tool error a user can hit that had no exact-text test.

Every case goes through the real ``mcp.Client`` and server on the real container: argument
errors and inventory look-ups on the built-in simulator, store access through the real
encrypted credential store, and OrderDesk's bad answers (a 429, answers of the wrong shape)
through the HTTP gateway against the simulator served on loopback.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from mcp import Client

from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.adapters.sqlite_credentials import SqliteCredentialStore
from orderdesk_mcp.entrypoints.container import Container
from orderdesk_mcp.entrypoints.settings import SIMULATOR_API_KEY
from tests.mcp_harness import STORE, error_text, make_container, mcp_client, seeded_state
from tests.upstream_harness import served_simulator

pytestmark = pytest.mark.anyio

ATTEMPTS = 4  # RetryPolicy's default: an idempotent read is sent up to four times
UPDATE_EMAIL = {"order_id": "500001", "changes": {"email": "new@example.com"}}


async def _error_of(tmp_path: Path, tool: str, arguments: dict[str, Any], state: SimulatorState) -> str:
    """The error text ``tool`` answers for ``arguments`` on the built-in simulator holding ``state``."""
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        return error_text(await client.call_tool(tool, arguments))


def _encrypted_store_container(tmp_path: Path, *, read_only: bool | None) -> Container:
    """A container whose default tenant comes from the real encrypted credential store.

    The tenant has the simulator's store (``read_only`` as given), or no store when ``read_only`` is None.
    """
    with SqliteCredentialStore(
        path=tmp_path / "credentials.sqlite3", keyring=Keyring.generate(tmp_path)
    ) as credentials:
        credentials.add_tenant("default")
        if read_only is not None:
            credentials.add_store("default", STORE, SIMULATOR_API_KEY, read_only=read_only)
    return make_container(tmp_path, state=seeded_state(3), credentials="sqlite")


@asynccontextmanager
async def _over_http(tmp_path: Path) -> AsyncIterator[tuple[SimulatorState, Client]]:
    """The server on the HTTP gateway, against the simulator served on loopback; retries do not wait."""
    state = seeded_state(3, rate_limited=False)
    async with served_simulator(state) as url:
        container = make_container(
            tmp_path, state=state, gateway="http", credentials="env", store_id=STORE,
            api_key=SIMULATOR_API_KEY, base_url=url,
        )  # fmt: skip
        container.jitter.override(providers.Object(lambda: 0.0))
        async with mcp_client(container) as client:
            yield state, client


# --- store access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        # the user asked to change an order's email in a store the operator added read-only
        pytest.param("orders_update", UPDATE_EMAIL,
                     "Refused orders_update: store 100001 is read-only.", id="orders_update"),
        # the user asked to add stock to an item in that store
        pytest.param("inventory_adjust_stock", {"item_id": 2501, "delta": 1},
                     "Refused inventory_adjust_stock: store 100001 is read-only.", id="adjust_stock"),
    ],
)  # fmt: skip
async def test_a_write_to_a_read_only_store_names_the_store(
    tmp_path: Path, tool: str, arguments: dict[str, Any], message: str
) -> None:
    async with mcp_client(_encrypted_store_container(tmp_path, read_only=True)) as client:
        refused = await client.call_tool(tool, arguments)
        read = await client.call_tool("orders_get", {"order_id": "500001"})
    assert error_text(refused) == message
    assert not read.is_error  # reads of that store still work


async def test_a_tenant_without_stores_is_told_no_default_store_is_available(tmp_path: Path) -> None:
    # the user called orders_get for a tenant the operator added but gave no store
    async with mcp_client(_encrypted_store_container(tmp_path, read_only=None)) as client:
        result = await client.call_tool("orders_get", {"order_id": "500001"})
    # It said "Store '(default)' does not exist or is not available to you." (found in review).
    assert error_text(result) == (
        "No OrderDesk store is set up for you yet; ask the operator to add one (orderdesk-mcp stores add)."
    )


# --- inventory_adjust_stock by code -----------------------------------------------------------------


async def test_adjusting_stock_by_a_code_two_items_share_names_both_ids(tmp_path: Path) -> None:
    state = seeded_state(3)
    twins: list[dict[str, Any]] = [
        {"name": "Mug, red", "code": "MUG-RED", "stock": 4},
        {"name": "Old red mug", "code": "MUG-RED"},
    ]
    first, second = state.seed_inventory(STORE, twins)
    # the user adjusted stock by a code that two inventory items have
    message = await _error_of(tmp_path, "inventory_adjust_stock", {"code": "MUG-RED", "delta": 3}, state)
    assert message == (
        f"Several inventory items have code 'MUG-RED' (ids {first}, {second}); pass item_id instead."
    )
    assert state.inventory(STORE)[first]["stock"] == 4  # nothing was written


async def test_adjusting_stock_by_an_unknown_code_names_the_code_and_the_store(tmp_path: Path) -> None:
    # the user adjusted stock by a code no inventory item has
    message = await _error_of(
        tmp_path, "inventory_adjust_stock", {"code": "NOPE-9", "delta": 3}, seeded_state(3)
    )
    # It ended at the store; now it says how to find the code (found in review).
    assert message == (
        f"Inventory item with code 'NOPE-9' was not found in store {STORE}. "
        "inventory_list with search finds items by a part of their name or code."
    )


# --- argument errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        # inventory_adjust_stock named no item at all
        pytest.param("inventory_adjust_stock", {"delta": 5},
                     "pass exactly one of item_id or code", id="adjust-neither-id-nor-code"),
        # inventory_adjust_stock named the item both by id and by code
        pytest.param("inventory_adjust_stock", {"item_id": 2501, "code": "MUG-1", "delta": 5},
                     "pass exactly one of item_id or code", id="adjust-both-id-and-code"),
        # inventory_adjust_stock asked for a change of 0
        pytest.param("inventory_adjust_stock", {"item_id": 2501, "delta": 0},
                     "delta must be a whole number other than 0 (like 10 or -2)", id="adjust-delta-0"),
        # shipments_add with a tracking number of only spaces
        pytest.param("shipments_add", {"order_id": "500001", "tracking_number": "  ", "carrier_code": "UPS"},
                     "tracking_number must be a non-empty string", id="shipment-blank-tracking"),
        # orders_add_note with a note of only spaces
        pytest.param("orders_add_note", {"order_id": "500001", "note": "   "},
                     "note must be a non-empty string", id="note-blank"),
        # inventory_list filtered by a code of only spaces
        pytest.param("inventory_list", {"code": "  "},
                     "code must be a non-empty string", id="inventory-list-blank-code"),
        # inventory_update with no changes at all
        pytest.param("inventory_update", {"item_id": 2501, "changes": {}},
                     "changes must be a non-empty object of inventory fields to change", id="update-empty"),
        # inventory_update blanking the item's name
        pytest.param("inventory_update", {"item_id": 2501, "changes": {"name": " "}},
                     "name must be a non-empty string (OrderDesk requires it)", id="update-blank-name"),
        # inventory_update setting stock to the string "5" (it said "must be a whole number", which "5" is)
        pytest.param("inventory_update", {"item_id": 2501, "changes": {"stock": "5"}},
                     "stock must be a whole number given as a number, like 12, not text "
                     "(use inventory_adjust_stock for +/- changes)",
                     id="update-stock-a-string"),
        # inventory_update setting the price to a word
        pytest.param("inventory_update", {"item_id": 2501, "changes": {"price": "cheap"}},
                     "price must be a number", id="update-price-a-word"),
        # inventory_get for item id "0"
        pytest.param("inventory_get", {"item_id": "0"},
                     "item_id '0' is not an inventory item id (OrderDesk's numeric id)", id="get-item-0"),
        # orders_move to a folder of only spaces
        pytest.param("orders_move", {"order_ids": ["500001"], "folder": "  "},
                     "folder must be a folder name (like 'Prepared') or a folder id", id="move-blank-folder"),
        # orders_move of order id "0"
        pytest.param("orders_move", {"order_ids": ["0"], "folder": "New"},
                     "order_ids entry '0' is not an order id; an order id is OrderDesk's numeric id, "
                     'like 500001 or "500001"', id="move-order-0"),
    ],
)  # fmt: skip
async def test_a_refused_argument_is_named_exactly(
    tmp_path: Path, tool: str, arguments: dict[str, Any], message: str
) -> None:
    state = seeded_state(3)
    before = copy.deepcopy((state.orders(STORE)["500001"], state.inventory(STORE)[2501]))
    assert await _error_of(tmp_path, tool, arguments, state) == f"Invalid request: {message}."
    assert (state.orders(STORE)["500001"], state.inventory(STORE)[2501]) == before  # nothing was written


# --- OrderDesk's answers, through the HTTP gateway ----------------------------------------------------


async def test_a_429_without_a_retry_after_header_says_retry_shortly(tmp_path: Path) -> None:
    async with _over_http(tmp_path) as (state, client):
        state.faults.fail_next(ATTEMPTS, status=429, body=b'{"status":"error","message":"Too many requests"}')
        # the user read an order while OrderDesk kept answering 429 with no Retry-After
        result = await client.call_tool("orders_get", {"order_id": "500001"})
    assert error_text(result) == f"OrderDesk's rate limit for store {STORE} was reached; retry shortly."
    assert len(state.requests) == ATTEMPTS  # it gave up only after the retries


@pytest.mark.parametrize(
    ("tool", "arguments", "body", "reason"),
    [
        # orders_list, and OrderDesk's "orders" was a string
        pytest.param("orders_list", {}, b'{"status":"success","orders":"nope","total_records":1}',
                     "the answer had no list of orders in it", id="list-orders-a-string"),
        # orders_list, and OrderDesk's total_records was a word
        pytest.param("orders_list", {}, b'{"status":"success","orders":[],"total_records":"many"}',
                     "the answer's total_records is not a number", id="list-total-a-word"),
        # orders_list, and OrderDesk claimed 7 orders but sent none on the first page
        pytest.param("orders_list", {}, b'{"status":"success","orders":[],"total_records":7}',
                     "the answer's total_records does not match its orders", id="list-total-mismatch"),
        # orders_get, and OrderDesk's order had an id that is not a number
        pytest.param("orders_get", {"order_id": "500001"}, b'{"status":"success","order":{"id":"abc"}}',
                     "the answer's order has no valid id", id="get-id-not-digits"),
        # orders_get for 500001, and OrderDesk answered with order 500002
        pytest.param("orders_get", {"order_id": "500001"}, b'{"status":"success","order":{"id":"500002"}}',
                     "the answer was about order 500002, not 500001", id="get-another-order"),
    ],
)  # fmt: skip
async def test_an_answer_of_the_wrong_shape_says_what_was_wrong_with_it(
    tmp_path: Path, tool: str, arguments: dict[str, Any], body: bytes, reason: str
) -> None:
    async with _over_http(tmp_path) as (state, client):
        state.faults.fail_next(ATTEMPTS, status=200, body=body)
        result = await client.call_tool(tool, arguments)
    assert error_text(result) == f"OrderDesk is unavailable right now ({reason}); try again in a minute."
