"""UpdateOrder, CreateOrder and DeleteOrder on the in-process simulator, a memory cache, a fake
clock and a fake audit log: state is asserted (what was written, audit records, sleeps)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock
from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.domain.cache_keys import generation_key, order_key
from orderdesk_mcp.domain.cached_orders import order_to_cache
from orderdesk_mcp.domain.commands import CreateOrderCommand, DeleteOrderCommand, UpdateOrderCommand
from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.errors import (
    ConfirmationRequired,
    IdempotencyMismatch,
    InvalidRequest,
    OrderNotFound,
    OutcomeUnknown,
    StaleFingerprint,
    UpdateConflict,
)
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.use_cases.create_order import CreateOrder
from orderdesk_mcp.domain.use_cases.delete_order import DeleteOrder
from orderdesk_mcp.domain.use_cases.update_order import UpdateOrder
from tests.fakes import FakeAuditLog, FakeClock

pytestmark = pytest.mark.anyio

STORE_ID = "100001"
STORE = StoreRef(tenant="default", store_id=STORE_ID)
NEW: dict[str, Any] = {
    "email": "ada@example.com",
    "shipping": {"first_name": "Ada", "last_name": "Lovelace"},
    "order_items": [{"name": "Mug", "price": 9.5, "quantity": 1}],
}


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.state = SimulatorState(clock=self.clock)
        self.state.faults.rate_limit_enabled = False
        self.state.add_store(STORE_ID, "key")
        self.state.seed_samples(STORE_ID, 5)
        self.gateway = SimulatedOrderGateway(self.state)
        self.cache = MemoryOrderCache(clock=self.clock)
        self.records = MemoryOrderCache(clock=self.clock)
        self.audit = FakeAuditLog()

    def update(self, jitter: float = 1.0) -> UpdateOrder:
        return UpdateOrder(
            gateway=self.gateway, cache=self.cache, audit=self.audit, clock=self.clock,
            policy=ConflictPolicy(), lock=MemoryWriteLock(clock=self.clock), jitter=lambda: jitter,
        )  # fmt: skip

    def create(self) -> CreateOrder:
        return CreateOrder(
            gateway=self.gateway, cache=self.cache, records=self.records, audit=self.audit, clock=self.clock
        )

    def delete(self) -> DeleteOrder:
        return DeleteOrder(gateway=self.gateway, cache=self.cache, audit=self.audit, clock=self.clock)

    def doc(self, order_id: str = "500001") -> dict[str, Any]:
        return self.state.orders(STORE_ID)[order_id]


def _update(changes: dict[str, Any], **kw: Any) -> UpdateOrderCommand:
    return UpdateOrderCommand.parse(STORE, "500001", changes, **kw)


async def test_an_update_retries_once_after_another_writer_and_keeps_their_field() -> None:
    world = World()
    world.state.faults.change_after_read("500001", times=1)
    world.state.faults.conflict_next_put(1)  # the round ends on a 409; the next one reads the edit
    result = await world.update(jitter=0.5)(_update({"email": "new@example.com"}))
    assert result.attempts == 2
    assert world.doc()["email"] == "new@example.com"
    assert world.doc()["order_metadata"]["external_edit"] == 1  # the other writer's change survived
    assert world.clock.sleeps == [0.25]
    (record,) = world.audit.records
    assert (record.outcome, record.attempts, record.changes[0].field) == ("ok", 2, "email")


async def test_an_order_that_never_stops_changing_gives_up_after_5_attempts_naming_the_fields() -> None:
    world = World()
    world.state.faults.change_after_read("500001", times=None)
    world.state.faults.conflict_next_put(5)
    before = dict(world.doc())
    with pytest.raises(UpdateConflict) as caught:
        await world.update(jitter=1.0)(_update({"email": "new@example.com"}))
    assert str(caught.value) == (
        "Order 500001 kept changing while we tried to update it (5 attempts; fields that kept changing: "
        "date_updated, order_metadata.external_edit). Nothing was written; read it again and retry."
    )
    assert world.clock.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert world.doc()["email"] == before["email"]
    assert [(r.outcome, r.attempts) for r in world.audit.records] == [("error", 5)]


async def test_a_put_dropped_after_it_was_applied_is_reported_done_without_resending_it() -> None:
    world = World()
    # Armed right after the read, so the next request (our PUT) is applied and its answer lost.
    arm: Any = lambda doc: world.state.faults.drop_next(1, after_processing=True)  # noqa: E731
    world.state.faults.change_after_read("500001", times=1, mutate=arm)
    result = await world.update()(_update({"tag_name": "landed"}))
    assert (result.attempts, result.changed_fields, world.doc()["tag_name"]) == (2, ("tag_name",), "landed")
    assert [r.outcome for r in world.audit.records] == ["ok"]


async def test_an_upstream_409_once_is_retried() -> None:
    world = World()
    world.state.faults.conflict_next_put(1)
    result = await world.update(jitter=0.0)(_update({"tag_name": "vip"}))
    assert (result.attempts, world.doc()["tag_name"]) == (2, "vip")


async def test_an_update_invalidates_the_cached_order_and_list_pages() -> None:
    world = World()
    key = order_key(STORE, "500001")
    await world.cache.set(key, {"doc": {"id": "500001"}, "fingerprint": "x"}, ttl=60)
    generation = await world.cache.get_counter(generation_key(STORE))
    await world.update()(_update({"email": "z@example.com"}))
    assert await world.cache.get(key) is None
    assert await world.cache.get_counter(generation_key(STORE)) == generation + 1


async def test_dry_run_and_no_op_updates_write_nothing() -> None:
    world = World()
    writes_before = world.doc()["date_updated"]
    dry = await world.update()(_update({"shipping": {"city": "Paris"}}, dry_run=True))
    same = await world.update()(_update({"email": world.doc()["email"]}))
    assert [(c.field, c.after) for c in dry.diff] == [("shipping.city", "Paris")]
    assert dry.dry_run is True
    assert same.changed_fields == ()
    assert world.doc()["date_updated"] == writes_before
    assert not any(r.method == "PUT" for r in world.state.requests)
    assert [r.outcome for r in world.audit.records] == ["dry_run", "noop"]


async def test_a_stale_fingerprint_is_refused_with_the_fields_that_changed() -> None:
    world = World()
    seen = Order.from_document(dict(world.doc()))
    await world.cache.set(order_key(STORE, "500001"), order_to_cache(seen), ttl=60)
    world.doc()["email"] = "someone-else@example.com"
    with pytest.raises(StaleFingerprint) as caught:
        await world.update()(_update({"tag_name": "x"}, expected_fingerprint=seen.fingerprint))
    assert str(caught.value) == (
        "Order 500001 changed since you read it (changed: email). Nothing was written; read it again with "
        "orders_get and retry with the new fingerprint."
    )
    assert world.doc().get("tag_name") != "x"


async def test_a_matching_fingerprint_lets_the_update_through() -> None:
    world = World()
    fingerprint = Order.from_document(dict(world.doc())).fingerprint
    result = await world.update()(_update({"tag_name": "ok"}, expected_fingerprint=fingerprint))
    assert result.order.doc["tag_name"] == "ok"


async def test_an_update_of_a_missing_order_is_not_found_and_audited() -> None:
    world = World()
    with pytest.raises(OrderNotFound):
        await world.update()(UpdateOrderCommand.parse(STORE, "999999", {"email": "a@example.com"}))
    assert world.audit.records[0].error == f"Order 999999 was not found in store {STORE_ID}."


async def test_create_names_every_problem_before_sending() -> None:
    world = World()
    with pytest.raises(InvalidRequest) as caught:
        await world.create()(CreateOrderCommand.parse(STORE, {"order_total": 3, "emial": "x"}))
    assert str(caught.value) == (
        "Invalid request: order_total is set by OrderDesk and cannot be given; unknown field 'emial'; "
        "order_items needs at least one item; "
        "shipping or customer needs a first_name and last_name, or a company."
    )
    assert world.state.requests == []
    assert len(world.state.orders(STORE_ID)) == 5


async def test_a_hundred_concurrent_creates_with_one_key_create_one_order() -> None:
    world = World()
    results = []

    async def one() -> None:
        results.append(await world.create()(CreateOrderCommand.parse(STORE, NEW, idempotency_key="same")))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(one)
    assert len(world.state.orders(STORE_ID)) == 6
    assert sum(r.created for r in results) == 1
    assert len({r.order.id for r in results}) == 1
    assert sorted({r.outcome for r in world.audit.records}) == ["ok", "replayed"]


async def test_the_same_key_with_another_body_is_refused() -> None:
    world = World()
    await world.create()(CreateOrderCommand.parse(STORE, NEW, idempotency_key="k"))
    with pytest.raises(IdempotencyMismatch) as caught:
        await world.create()(
            CreateOrderCommand.parse(STORE, NEW | {"email": "b@example.com"}, idempotency_key="k")
        )
    assert str(caught.value) == (
        "Idempotency key 'k' was already used for a different order; use a new key for a new order."
    )


class _DropsAfterCreate(SimulatedOrderGateway):
    """The create reaches OrderDesk, but the answer is lost."""

    async def create(self, store: StoreRef, doc: Any) -> Order:
        await super().create(store, doc)
        raise OutcomeUnknown("order creation", "connection lost")


async def test_a_create_whose_answer_was_lost_is_found_by_source_id_not_duplicated() -> None:
    world = World()
    world.gateway = _DropsAfterCreate(world.state)
    result = await world.create()(CreateOrderCommand.parse(STORE, NEW, idempotency_key="lost"))
    assert result.created is True
    assert len(world.state.orders(STORE_ID)) == 6
    assert result.order.view.source_id.startswith("odmcp-")


async def test_delete_needs_confirmation_then_deletes_and_invalidates() -> None:
    world = World()
    with pytest.raises(ConfirmationRequired) as caught:
        await world.delete()(DeleteOrderCommand.parse(STORE, "500002"))
    assert str(caught.value) == (
        "Nothing was done: deleting order 500002 needs confirmation. "
        "Call orders_delete again with confirm: true to delete it permanently."
    )
    assert "500002" in world.state.orders(STORE_ID)
    await world.delete()(DeleteOrderCommand.parse(STORE, "500002", confirm=True))
    assert "500002" not in world.state.orders(STORE_ID)
    with pytest.raises(OrderNotFound):
        await world.delete()(DeleteOrderCommand.parse(STORE, "500002", confirm=True))
    assert [r.outcome for r in world.audit.records] == ["ok", "error"]
