"""Every write of an order goes through the order's write lock, history notes and shipment deletes too.

An update's answer fills the cache inside its lock, and the fill is kept only if the order's write
counter still holds the update's own bump. That is safe only if no other write of the same order
can land between the update's PUT and its fill: a shipment delete that did (it took no lock) had its
invalidation run before the update's, so the update cached a document that still listed the deleted
shipment, and ``orders_get`` served it for the whole TTL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock
from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.domain.cache_stats import CacheStats
from orderdesk_mcp.domain.commands import GetOrderCommand, UpdateOrderCommand
from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.reach_commands import AddNoteCommand, AddShipmentCommand, DeleteShipmentCommand
from orderdesk_mcp.domain.use_cases.add_order_note import AddOrderNote
from orderdesk_mcp.domain.use_cases.add_shipment import AddShipment
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.domain.use_cases.delete_shipment import DeleteShipment
from orderdesk_mcp.domain.use_cases.get_order import GetOrder
from orderdesk_mcp.domain.use_cases.update_order import UpdateOrder
from tests.fakes import FakeAuditLog, FakeClock

pytestmark = pytest.mark.anyio

STORE_ID = "100001"
STORE = StoreRef(tenant="default", store_id=STORE_ID)
ORDER = "500001"


class World:
    def __init__(self) -> None:
        self.state = SimulatorState()
        self.state.faults.rate_limit_enabled = False
        self.state.add_store(STORE_ID, "k")
        self.state.seed_samples(STORE_ID, 2)
        self.clock = FakeClock()
        self.cache = MemoryOrderCache(clock=self.clock)
        self.audit = FakeAuditLog()
        self.lock = MemoryWriteLock(clock=self.clock)
        self.gateway = SimulatedOrderGateway(self.state)
        self.invalidations = Invalidations(cache=self.cache, clock=self.clock, ttl=300.0)

    def delete_shipment(self) -> DeleteShipment:
        return DeleteShipment(
            shipments=self.gateway, cache=self.cache, audit=self.audit, clock=self.clock,
            invalidations=self.invalidations, lock=self.lock,
        )  # fmt: skip

    def note(self) -> AddOrderNote:
        return AddOrderNote(
            actions=self.gateway, records=self.cache, cache=self.cache, audit=self.audit, clock=self.clock,
            invalidations=self.invalidations, lock=self.lock,
        )  # fmt: skip

    async def shipment_id(self) -> str:
        add = AddShipment(
            shipments=self.gateway, gateway=self.gateway, lock=self.lock, cache=self.cache, audit=self.audit,
            clock=self.clock, invalidations=self.invalidations,
        )  # fmt: skip
        cmd = AddShipmentCommand.parse(STORE, ORDER, tracking_number="1Z999", carrier_code="UPS")
        return (await add(cmd)).shipment.id

    def shipments(self) -> list[Any]:
        return list(self.state.orders(STORE_ID)[ORDER].get("order_shipments") or [])


async def _while_the_order_is_locked(world: World, write: Any) -> tuple[bool, bool]:
    """Run ``write`` while another writer holds the order's lock: (done while held, done after release)."""
    held, release = anyio.Event(), anyio.Event()
    done = anyio.Event()

    async def other_writer() -> None:
        async with world.lock.hold(STORE, f"order:{ORDER}"):
            held.set()
            await release.wait()

    async def writer() -> None:
        await write()
        done.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(other_writer)
        await held.wait()
        tasks.start_soon(writer)
        await anyio.wait_all_tasks_blocked()
        done_while_held = done.is_set()
        release.set()
    return done_while_held, done.is_set()


async def test_a_shipment_delete_waits_for_the_order_lock() -> None:
    world = World()
    shipment = await world.shipment_id()
    cmd = DeleteShipmentCommand.parse(STORE, ORDER, shipment, confirm=True)
    assert await _while_the_order_is_locked(world, lambda: world.delete_shipment()(cmd)) == (False, True)
    assert world.shipments() == []


async def test_a_history_note_waits_for_the_order_lock() -> None:
    world = World()
    cmd = AddNoteCommand.parse(STORE, ORDER, "Customer called")
    assert await _while_the_order_is_locked(world, lambda: world.note()(cmd)) == (False, True)
    assert [h["note"] for h in world.state.history(STORE_ID, ORDER)] == ["Customer called"]


class _SlowAfterThePut(SimulatedOrderGateway):
    """The PUT is applied; its caller gets the answer a moment later (the audit record's append)."""

    def __init__(self, state: SimulatorState) -> None:
        super().__init__(state)
        self.answered = anyio.Event()

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        saved = await super().replace(store, order_id, doc)
        self.answered.set()
        for _ in range(200):  # room for a writer that takes no lock to finish entirely
            await anyio.lowlevel.checkpoint()
        return saved


async def test_a_shipment_deleted_as_an_update_of_its_order_finishes_is_not_served_from_the_cache() -> None:
    world = World()
    shipment = await world.shipment_id()
    slow = _SlowAfterThePut(world.state)
    update = UpdateOrder(
        gateway=slow, cache=world.cache, audit=world.audit, clock=world.clock, policy=ConflictPolicy(),
        lock=world.lock, invalidations=world.invalidations,
    )  # fmt: skip
    get = GetOrder(
        gateway=world.gateway, cache=world.cache, ttl=300.0, stats=CacheStats(),
        invalidations=world.invalidations,
    )  # fmt: skip

    async def delete_once_the_put_is_answered() -> None:
        await slow.answered.wait()
        await world.delete_shipment()(DeleteShipmentCommand.parse(STORE, ORDER, shipment, confirm=True))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(delete_once_the_put_is_answered)
        await update(UpdateOrderCommand.parse(STORE, ORDER, {"email": "new@example.com"}))
    assert world.shipments() == []
    served = await get(GetOrderCommand.parse(STORE, ORDER))
    assert served.doc.get("order_shipments") in (None, [])
    assert served.doc["email"] == "new@example.com"
