"""An ``attempt`` record before every upstream write of orders_move, orders_add_note, shipments_add,
shipments_delete, inventory_update and inventory_adjust_stock, and its outcome after (as for the
order writes): end to end through the real mcp.Client, server, container and simulator."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from dependency_injector import providers

from orderdesk_mcp.adapters.jsonl_audit_log import JsonlAuditLog
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.use_cases.audited_write import NOT_SENT
from orderdesk_mcp.entrypoints.cli import main
from orderdesk_mcp.entrypoints.container import Container
from orderdesk_mcp.ports.audit import AuditRecord
from tests.fakes import FakeAuditLog, FakeClock
from tests.mcp_harness import STORE, error_text, make_container, mcp_client, seeded_state

pytestmark = pytest.mark.anyio

UNAVAILABLE = "OrderDesk is unavailable right now (HTTP 503); try again in a minute."
LOST = "OrderDesk is unavailable right now (connection lost); try again in a minute."

# (tool, order_id, resource, outcome, error) of one attempt and the outcome written after it
Bracket = tuple[str, str | None, str | None, str, str | None]


def _container(tmp_path: Path, state: SimulatorState) -> Container:
    container = make_container(tmp_path, state=state, audit_values="full")
    container.jitter.override(providers.Object(lambda: 0.0))  # retries without waiting
    return container


def _brackets(path: Path) -> list[Bracket]:
    """Every attempt in the log with its outcome, oldest first; each attempt has exactly one."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    found: list[Bracket] = []
    for record in records:
        if record["outcome"] != "attempt":
            continue
        assert record["attempt_id"], record
        first, outcome = (r for r in records if r["attempt_id"] == record["attempt_id"])
        assert first is record  # the attempt, then exactly one outcome after it
        assert outcome["outcome"] != "attempt"
        named = ("tool", "order_id", "resource")
        assert [outcome[k] for k in named] == [record[k] for k in named], (record, outcome)
        found.append((record["tool"], record["order_id"], record["resource"], outcome["outcome"],
                      outcome["error"]))  # fmt: skip
    return found


def _verified(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``orderdesk-mcp audit verify``: the chain is intact and no attempt is left without an outcome."""
    records = len(path.read_text().splitlines())
    capsys.readouterr()
    assert main(["audit", "verify", "--path", str(path)]) == 0
    assert capsys.readouterr().out == f"audit log {path}: {records} records, chain intact\n"


def _with_shipment(state: SimulatorState, order_id: str) -> str:
    state.add_shipment(STORE, order_id, {"tracking_number": "OLD-1", "carrier_code": "UPS"})
    return str(state.orders(STORE)[order_id]["order_shipments"][-1]["id"])


def _call(tool: str, *, records: int = 1) -> list[tuple[str, str, bool]]:
    return [(tool, "attempt", True), (tool, "ok", True), *[(tool, "ok", False)] * records]


async def test_every_write_tool_leaves_an_attempt_and_its_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = seeded_state(5)
    for order_id in ("500002", "500003"):
        state.orders(STORE)[order_id]["folder_id"] = 1  # New: both are sent, in one request
    path = tmp_path / "audit.jsonl"
    async with mcp_client(_container(tmp_path, state)) as client:
        calls: list[tuple[str, dict[str, Any]]] = [
            ("orders_move", {"order_ids": ["500001"], "folder": "Prepared"}),
            ("orders_move", {"order_ids": ["500002", "500003"], "folder": "Closed"}),
            ("orders_add_note", {"order_id": "500004", "note": "Customer called"}),
            ("shipments_add", {"order_id": "500001", "tracking_number": "1Z999", "carrier_code": "UPS"}),
        ]
        for tool, args in calls:
            assert not (await client.call_tool(tool, args)).is_error, tool
        shipment_id = state.orders(STORE)["500001"]["order_shipments"][0]["id"]
        later: list[tuple[str, dict[str, Any]]] = [
            ("shipments_delete", {"order_id": "500001", "shipment_id": shipment_id, "confirm": True}),
            ("inventory_update", {"item_id": 2501, "changes": {"price": 12.5}}),
            ("inventory_adjust_stock", {"item_id": 2502, "delta": 3, "reason": "delivery"}),
        ]
        for tool, args in later:
            assert not (await client.call_tool(tool, args)).is_error, tool
    assert _brackets(path) == [
        ("orders_move", "500001", "orders:500001", "ok", None),
        ("orders_move", None, "orders:500002,500003", "ok", None),  # one attempt for both orders
        ("orders_add_note", "500004", None, "ok", None),
        ("shipments_add", "500001", None, "ok", None),
        ("shipments_delete", "500001", f"shipment:{shipment_id}", "ok", None),
        ("inventory_update", None, "inventory:2501", "ok", None),
        ("inventory_adjust_stock", None, "inventory:2502", "ok", None),
    ]
    # the attempt, its outcome, then the use case's own record(s) of the call (a move: one an order)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    written = [(r["tool"], r["outcome"], r["attempt_id"] is not None) for r in records]
    assert written == [
        *_call("orders_move"), *_call("orders_move", records=2), *_call("orders_add_note"),
        *_call("shipments_add"), *_call("shipments_delete"), *_call("inventory_update"),
        *_call("inventory_adjust_stock"),
    ]  # fmt: skip
    _verified(path, capsys)


Arrange = Callable[[SimulatorState], tuple[dict[str, Any], list[Bracket]]]


def _move(state: SimulatorState) -> tuple[dict[str, Any], list[Bracket]]:
    state.faults.fail_next(1, path_prefix="/move-orders")
    args = {"order_ids": ["500001"], "folder": "Prepared"}
    return args, [("orders_move", "500001", "orders:500001", "error", UNAVAILABLE)]


def _note(state: SimulatorState) -> tuple[dict[str, Any], list[Bracket]]:
    state.faults.fail_next(1, path_prefix="/orders/500004/order-history")
    return {"order_id": "500004", "note": "hi"}, [("orders_add_note", "500004", None, "error", UNAVAILABLE)]


def _add_shipment(state: SimulatorState) -> tuple[dict[str, Any], list[Bracket]]:
    state.faults.drop_next(1, method="POST", path_prefix="/orders/500001/shipments")
    args = {"order_id": "500001", "tracking_number": "1Z1", "carrier_code": "UPS"}
    # the lost answer is reconciled by a read, and the POST sent again: a second attempt
    return args, [
        ("shipments_add", "500001", None, "error", LOST),
        ("shipments_add", "500001", None, "ok", None),
    ]


def _delete_shipment(state: SimulatorState) -> tuple[dict[str, Any], list[Bracket]]:
    shipment_id = _with_shipment(state, "500002")
    # four DELETEs (the resilient layer's retries of the one call) all fail: one attempt
    state.faults.fail_next(4, path_prefix=f"/orders/500002/shipments/{shipment_id}")
    args = {"order_id": "500002", "shipment_id": shipment_id, "confirm": True}
    return args, [("shipments_delete", "500002", f"shipment:{shipment_id}", "error", UNAVAILABLE)]


def _update_item(state: SimulatorState) -> tuple[dict[str, Any], list[Bracket]]:
    state.faults.drop_next(1, method="PUT", path_prefix="/inventory-items/2501")
    # the next round reads the item again and sends a new PUT: a second attempt
    return {"item_id": 2501, "changes": {"price": 12.5}}, [
        ("inventory_update", None, "inventory:2501", "error", LOST),
        ("inventory_update", None, "inventory:2501", "ok", None),
    ]


def _adjust_stock(state: SimulatorState) -> tuple[dict[str, Any], list[Bracket]]:
    state.faults.drop_next(1, method="PUT", path_prefix="/inventory-items/2502")
    # Lost: the next round reads the stock, cannot tell whether ours landed, and sends nothing more.
    return {"item_id": 2502, "delta": 3}, [
        ("inventory_adjust_stock", None, "inventory:2502", "error", LOST),
        ("inventory_adjust_stock", None, "inventory:2502", "error", NOT_SENT),
    ]


@pytest.mark.parametrize(
    ("tool", "arrange"),
    [
        ("orders_move", _move),
        ("orders_add_note", _note),
        ("shipments_add", _add_shipment),
        ("shipments_delete", _delete_shipment),
        ("inventory_update", _update_item),
        ("inventory_adjust_stock", _adjust_stock),
    ],
)
async def test_a_failed_upstream_write_leaves_its_attempt_and_an_error_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tool: str, arrange: Arrange
) -> None:
    state = seeded_state(5)
    args, expected = arrange(state)
    async with mcp_client(_container(tmp_path, state)) as client:
        await client.call_tool(tool, args)
    assert state.faults.pending() == 0  # the fault hit the write
    path = tmp_path / "audit.jsonl"
    assert _brackets(path) == expected
    _verified(path, capsys)


class _AttemptsRefused(JsonlAuditLog):
    """An audit log that cannot append an ``attempt`` record (a full disk, say); others are kept."""

    async def append(self, record: AuditRecord) -> None:
        if record.outcome == "attempt":
            raise OSError(28, "No space left on device")
        await super().append(record)


WRITES: list[tuple[str, dict[str, Any]]] = [
    ("orders_move", {"order_ids": ["500001"], "folder": "Prepared"}),
    ("orders_add_note", {"order_id": "500004", "note": "hi"}),
    ("shipments_add", {"order_id": "500001", "tracking_number": "1Z1", "carrier_code": "UPS"}),
    ("shipments_delete", {"order_id": "500002", "confirm": True}),  # shipment_id: the seeded one
    ("inventory_update", {"item_id": 2501, "changes": {"price": 12.5}}),
    ("inventory_adjust_stock", {"item_id": 2502, "delta": 3}),
]


@pytest.mark.parametrize(("tool", "args"), WRITES, ids=[tool for tool, _ in WRITES])
async def test_a_write_whose_attempt_cannot_be_recorded_is_never_sent(
    tmp_path: Path, tool: str, args: dict[str, Any]
) -> None:
    state = seeded_state(5)
    if tool == "shipments_delete":
        args = args | {"shipment_id": _with_shipment(state, "500002")}
    orders, inventory = copy.deepcopy(state.orders(STORE)), copy.deepcopy(state.inventory(STORE))
    container = _container(tmp_path, state)
    container.audit.override(providers.Object(_AttemptsRefused(tmp_path / "audit.jsonl")))
    async with mcp_client(container) as client:
        result = await client.call_tool(tool, args)
    assert state.orders(STORE) == orders  # folders, history notes and shipments as they were
    assert state.inventory(STORE) == inventory
    assert error_text(result) == (
        f"{tool} was not sent to OrderDesk: the audit log could not record it (the server's data directory "
        "may be full or read-only). Tell the person who runs this server."
    )


async def test_a_write_cancelled_in_flight_still_records_that_it_stopped() -> None:
    from orderdesk_mcp.domain.use_cases.audited_ports import AuditedShipmentGateway

    store = StoreRef(tenant="acme", store_id="100001")
    started = anyio.Event()

    class _Hangs:
        async def shipments(self, store: StoreRef, order_id: str) -> tuple[Any, ...]:
            return ()

        async def add_shipment(self, store: StoreRef, order_id: str, shipment: Any) -> None:
            raise AssertionError("not called")

        async def delete_shipment(self, store: StoreRef, order_id: str, shipment_id: str) -> None:
            started.set()
            await anyio.sleep_forever()

    audit = FakeAuditLog()
    shipments = AuditedShipmentGateway(inner=_Hangs(), audit=audit, clock=FakeClock())
    async with anyio.create_task_group() as tg:
        tg.start_soon(shipments.delete_shipment, store, "500001", "700001")
        await started.wait()
        tg.cancel_scope.cancel()
    assert [(r.tool, r.outcome, r.order_id, r.resource, r.error) for r in audit.records] == [
        ("shipments_delete", "attempt", "500001", "shipment:700001", None),
        ("shipments_delete", "error", "500001", "shipment:700001", "stopped: CancelledError"),
    ]
    assert audit.records[0].attempt_id == audit.records[1].attempt_id
