"""Arguments that cannot succeed are refused before any OrderDesk request, in words the agent can act on.

A date filter like ``"yesterday"`` went to OrderDesk and came back as OrderDesk's own rejection, and
``orders_update`` with ``changes: {}`` read the order and changed nothing: each cost a request of the
store's budget of about 3 a second. ISO 8601 times, which agents often send, are turned into the
form OrderDesk documents.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.domain.commands import ListOrdersCommand
from orderdesk_mcp.domain.errors import InvalidRequest
from orderdesk_mcp.domain.order import StoreRef
from tests.mcp_harness import error_text, make_container, mcp_client, seeded_state

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="default", store_id="100001")


def _upstream(state: SimulatorState) -> list[str]:
    return [f"{r.method} {r.path}" for r in state.requests]


async def test_a_date_filter_that_is_no_date_is_refused_without_a_request(tmp_path: Path) -> None:
    state = seeded_state(3)
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        before = len(state.requests)
        result = await client.call_tool("orders_list", {"search_start_date": "yesterday"})
    assert error_text(result) == (
        "Invalid request: search_start_date must be a UTC date, 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'; "
        "got 'yesterday'."
    )
    assert _upstream(state)[before:] == []


async def test_an_update_without_changes_is_refused_without_a_request(tmp_path: Path) -> None:
    state = seeded_state(3)
    async with mcp_client(make_container(tmp_path, state=state)) as client:
        before = len(state.requests)
        result = await client.call_tool("orders_update", {"order_id": 500001, "changes": {}})
    assert error_text(result) == "Invalid request: changes must name at least one order field to change."
    assert _upstream(state)[before:] == []


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (" 2026-12-01 09:30:00 ", "2026-12-01 09:30:00"),
        ("2026-12-01T09:30:00Z", "2026-12-01 09:30:00"),
        ("2026-12-01T10:30:00+01:00", "2026-12-01 09:30:00"),
        ("2026-12-01T09:30:00", "2026-12-01 09:30:00"),  # no zone: UTC, as every date here
        ("2026-1-5 9:30:00", "2026-01-05 09:30:00"),
    ],
)
def test_dates_are_sent_as_orderdesk_documents_them(given: str, sent: str) -> None:
    cmd = ListOrdersCommand.parse(STORE, search_start_date=given, modified_end_date=given)
    assert (cmd.query.search_start_date, cmd.query.modified_end_date) == (sent, sent)


@pytest.mark.parametrize("given", ["2026-12-01", "2026-12-1"])
def test_a_bare_date_is_sent_as_the_whole_day(given: str) -> None:
    # A bare end date went out as it was, and OrderDesk does not document how it reads one: read as
    # midnight, "on or before 2026-12-01" left out that day's orders (found in review).
    cmd = ListOrdersCommand.parse(
        STORE,
        search_start_date=given,
        search_end_date=given,
        modified_start_date=given,
        modified_end_date=given,
    )
    query, day = cmd.query, ("2026-12-01 00:00:00", "2026-12-01 23:59:59")
    assert (query.search_start_date, query.search_end_date) == day
    assert (query.modified_start_date, query.modified_end_date) == day


@pytest.mark.parametrize(
    # ISO dates with no time of day were sent as midnight, an end date leaving out its day (found in
    # review); "2026-12-01+01:00" read as one in the morning.
    "given",
    ["2026-13-01", "2026-02-30", "01/12/2026", "", "today", "20261201", "2026-W49-2", "2026-12-01+01:00"],
)
def test_impossible_dates_are_refused(given: str) -> None:
    with pytest.raises(InvalidRequest, match="modified_start_date must be a UTC date"):
        ListOrdersCommand.parse(STORE, modified_start_date=given)
