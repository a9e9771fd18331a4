"""``shipments_delete`` without ``confirm`` asks the person where the client can, as ``orders_delete`` does.

The README says a delete without ``confirm`` asks the person when the client supports elicitation;
``shipments_delete`` never asked, even with a client that would have said yes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
from mcp import Client
from mcp.types import ElicitResult, ErrorData

from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.entrypoints.serve import create_server
from tests.mcp_harness import STORE, answering, error_text, make_container, seeded_state

pytestmark = pytest.mark.anyio

ORDER = "500002"


def _state() -> tuple[SimulatorState, str]:
    state = seeded_state(3)
    state.add_shipment(STORE, ORDER, {"tracking_number": "1Z9", "carrier_code": "UPS"})
    return state, str(state.orders(STORE)[ORDER]["order_shipments"][-1]["id"])


def _shipments(state: SimulatorState) -> list[Any]:
    return list(state.orders(STORE)[ORDER].get("order_shipments") or [])


Mode = Literal["legacy", "auto"]  # a request mid-call / the SDK's default, asked through the call's result


async def _delete(
    tmp_path: Path, state: SimulatorState, shipment: str, answer: Any, asked: list[str], mode: Mode = "legacy"
) -> Any:
    server = create_server(make_container(tmp_path, state=state))
    async with Client(
        server, raise_exceptions=True, mode=mode, elicitation_callback=answering(answer, asked)
    ) as c:
        return await c.call_tool("shipments_delete", {"order_id": ORDER, "shipment_id": shipment})


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_an_accepted_confirmation_deletes_the_shipment(tmp_path: Path, mode: Mode) -> None:
    state, shipment = _state()
    asked: list[str] = []
    result = await _delete(
        tmp_path, state, shipment, ElicitResult(action="accept", content={"confirm": True}), asked, mode
    )
    assert not result.is_error, result.content
    assert asked == [f"Delete shipment {shipment} of order {ORDER} permanently?"]
    assert _shipments(state) == []


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_declined_confirmation_says_so_and_deletes_nothing(tmp_path: Path, mode: Mode) -> None:
    state, shipment = _state()
    asked: list[str] = []
    result = await _delete(tmp_path, state, shipment, ElicitResult(action="decline"), asked, mode)
    assert asked == [f"Delete shipment {shipment} of order {ORDER} permanently?"]
    assert error_text(result) == (
        f"The person declined deleting shipment {shipment} of order {ORDER}; nothing was deleted. "
        "Do not retry without asking them."
    )
    assert len(_shipments(state)) == 1


async def test_a_client_that_cannot_be_asked_is_told_how_to_confirm(tmp_path: Path) -> None:
    state, shipment = _state()
    result = await _delete(tmp_path, state, shipment, ErrorData(code=-32600, message="no elicitation"), [])
    assert error_text(result).startswith(
        f"Nothing was done: deleting shipment {shipment} of order {ORDER} needs"
    )
    assert len(_shipments(state)) == 1
