"""UpdateOrder, CreateOrder and DeleteOrder: state is asserted (what was written, what the other
writer left, sleeps, audit records, cache contents), never call sequences.

Most tests run a use case on fakes (a racing fake gateway, a fake cache, a fake clock and a fake
audit log); the last section runs all three on the in-process simulator with a memory cache.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest

from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.adapters.memory_rate_limiter import MemoryRateLimiter
from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock
from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.adapters.sqlite_idempotency import SqliteIdempotencyRecords
from orderdesk_mcp.domain.cache_keys import generation_key, idempotency_key, order_key
from orderdesk_mcp.domain.cached_orders import order_to_cache
from orderdesk_mcp.domain.commands import CreateOrderCommand, DeleteOrderCommand, UpdateOrderCommand
from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.context import CallContext, call_context
from orderdesk_mcp.domain.errors import (
    ConcurrentModification,
    ConfirmationRequired,
    IdempotencyMismatch,
    IdempotencyUnavailable,
    InvalidRequest,
    MergeRejected,
    OrderNotFound,
    OutcomeUnknown,
    RateLimited,
    StaleFingerprint,
    UpdateConflict,
    UpstreamRejected,
    UpstreamUnavailable,
    WriteInProgress,
)
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.results import CreatedOrder
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.use_cases.create_order import CreateOrder, generated_source_id
from orderdesk_mcp.domain.use_cases.delete_order import DeleteOrder
from orderdesk_mcp.domain.use_cases.resilient_gateway import ResilientOrderGateway
from orderdesk_mcp.domain.use_cases.update_order import UpdateOrder
from tests.fake_cache import FakeOrderCache
from tests.fake_writers import RacingOrderGateway
from tests.fakes import FakeAuditLog, FakeClock

pytestmark = pytest.mark.anyio

STORE_ID = "100001"
STORE = StoreRef(tenant="acme", store_id=STORE_ID)
NEW: dict[str, Any] = {
    "email": "ada@example.com",
    "shipping": {"first_name": "Ada", "last_name": "Lovelace"},
    "order_items": [{"name": "Mug", "code": "MUG-1", "price": 9.5, "quantity": 1}],
}
ORDER: dict[str, Any] = {
    "id": "500001",
    "source_id": "A-1",
    "email": "ada@example.com",
    "date_updated": "2026-01-01 00:00:00",
    "order_total": 21.5,
    "folder_id": 1,
    "shipping": {"first_name": "Ada", "last_name": "Lovelace", "city": "London", "phone": "1"},
    "order_items": [{"id": "1", "name": "Mug", "price": 9.5, "quantity": 1}],
    "order_metadata": {"fraud_score": 0},
    "x_unmodelled": {"kept": [1, 2, 3]},
}


# --- UpdateOrder on fakes -------------------------------------------------------------------------


class UpdateWorld:
    def __init__(self, jitter: float = 1.0) -> None:
        self.clock = FakeClock()
        self.gateway = RacingOrderGateway({"500001": ORDER})
        self.cache = FakeOrderCache(self.clock)
        self.audit = FakeAuditLog()
        self.update = UpdateOrder(
            gateway=self.gateway, cache=self.cache, audit=self.audit, clock=self.clock,
            policy=ConflictPolicy(), lock=MemoryWriteLock(clock=self.clock), jitter=lambda: jitter,
        )  # fmt: skip

    @property
    def puts(self) -> list[dict[str, Any]]:
        return [doc for kind, _, doc in self.gateway.writes if kind == "replace" and doc is not None]

    @property
    def stored(self) -> dict[str, Any]:
        return self.gateway.docs["500001"]

    @property
    def invalidated(self) -> bool:
        return self.cache.counters.get(generation_key(STORE), 0) > 0


def update_cmd(changes: dict[str, Any], **kw: Any) -> UpdateOrderCommand:
    return UpdateOrderCommand.parse(STORE, "500001", changes, **kw)


async def test_the_put_is_the_whole_fetched_order_with_only_the_named_keys_changed() -> None:
    world = UpdateWorld()
    result = await world.update(update_cmd({"email": "new@example.com", "shipping": {"city": "Paris"}}))
    expected = copy.deepcopy(ORDER)
    expected["email"] = "new@example.com"
    expected["shipping"]["city"] = "Paris"
    assert world.puts == [expected]
    assert (result.changed_fields, result.attempts, result.dry_run) == (("email", "shipping.city"), 1, False)
    assert [(c.field, c.before, c.after) for c in result.diff] == [
        ("email", "ada@example.com", "new@example.com"),
        ("shipping.city", "London", "Paris"),
    ]
    assert result.order.fingerprint == Order.from_document(expected).fingerprint
    assert world.gateway.calls == {"fetch": 1, "replace": 1}  # one GET, one PUT: no re-read


async def test_a_writer_outside_the_service_in_the_gap_between_read_and_put_is_overwritten() -> None:
    # The documented limit: OrderDesk offers nothing to detect a write in that one round trip.
    world = UpdateWorld()
    world.gateway.race_after_read("500001", times=1)
    result = await world.update(update_cmd({"email": "new@example.com"}))
    assert (result.attempts, world.gateway.calls) == (1, {"fetch": 1, "replace": 1})
    assert "tag_name" not in world.stored


async def test_a_409_means_one_retry_onto_a_fresh_read_and_the_other_writers_fields_survive() -> None:
    world = UpdateWorld(jitter=0.5)
    world.gateway.race_after_read("500001", times=1)
    world.gateway.fail_next("replace", ConcurrentModification("500001"))
    result = await world.update(update_cmd({"email": "new@example.com"}))
    assert result.attempts == 2
    assert world.clock.sleeps == [0.25]
    (put,) = world.puts
    assert put["email"] == "new@example.com"
    assert put["tag_name"].startswith("other-")  # the other writer's change was merged onto, not lost
    assert put["order_metadata"] == {"fraud_score": 0, "picked_by": "warehouse"}
    (record,) = world.audit.records
    assert (record.outcome, record.attempts, record.tool, record.tenant, record.store_id) == (
        "ok", 2, "orders_update", "acme", "100001",
    )  # fmt: skip
    assert [(c.field, c.before, c.after) for c in record.changes] == [
        ("email", "ada@example.com", "new@example.com")
    ]


async def test_an_order_that_keeps_changing_gives_up_after_five_attempts_without_writing() -> None:
    world = UpdateWorld(jitter=0.5)
    world.gateway.race_after_read("500001", times=None)
    world.gateway.fail_next("replace", *[ConcurrentModification("500001") for _ in range(5)])
    with pytest.raises(UpdateConflict) as caught:
        await world.update(update_cmd({"email": "new@example.com"}))
    assert str(caught.value) == (
        "Order 500001 kept changing while we tried to update it (5 attempts; fields that kept changing: "
        "date_updated, order_metadata.picked_by, tag_name). Nothing was written; read it again and retry."
    )
    assert world.puts == []
    assert world.clock.sleeps == [0.25, 0.5, 1.0, 2.0]  # full jitter under the 0.5, 1, 2, 4 s ceilings
    assert world.stored["email"] == "ada@example.com"
    (record,) = world.audit.records
    assert (record.outcome, record.attempts, record.error) == ("error", 5, str(caught.value))
    assert [c.field for c in record.changes] == ["email"]
    assert world.invalidated  # a refused PUT may still have reached OrderDesk


async def test_the_backoff_ceilings_are_half_one_two_four_seconds_and_jitter_is_clamped() -> None:
    world = UpdateWorld(jitter=7.0)
    world.gateway.fail_next("replace", *[ConcurrentModification("500001") for _ in range(5)])
    with pytest.raises(UpdateConflict):
        await world.update(update_cmd({"email": "new@example.com"}))
    assert world.clock.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert ConflictPolicy(attempts=6).delay(5, jitter=1.0) == 8.0


async def test_an_upstream_409_is_retried_and_the_order_still_written_once() -> None:
    world = UpdateWorld(jitter=0.0)
    world.gateway.fail_next("replace", ConcurrentModification("500001"))
    result = await world.update(update_cmd({"tag_name": "vip"}))
    assert (result.attempts, world.clock.sleeps) == (2, [0.0])
    assert [p["tag_name"] for p in world.puts] == ["vip"]
    assert world.invalidated


async def test_409_every_time_ends_in_a_conflict_and_still_invalidates_the_cache() -> None:
    world = UpdateWorld(jitter=0.0)
    world.gateway.fail_next("replace", *[ConcurrentModification("500001") for _ in range(5)])
    with pytest.raises(UpdateConflict) as caught:
        await world.update(update_cmd({"tag_name": "vip"}))
    assert "(5 attempts; fields that kept changing: unknown fields)" in str(caught.value)
    assert world.invalidated  # a refused PUT may still have reached OrderDesk


async def test_an_expected_fingerprint_refuses_instead_of_retrying_when_the_order_moves() -> None:
    world = UpdateWorld()
    fingerprint = Order.from_document(ORDER).fingerprint
    world.gateway.race_after_read("500001", times=1)
    world.gateway.fail_next("replace", ConcurrentModification("500001"))
    with pytest.raises(StaleFingerprint) as caught:
        await world.update(update_cmd({"email": "new@example.com"}, expected_fingerprint=fingerprint))
    assert str(caught.value) == (
        "Order 500001 changed since you read it (changed: date_updated, order_metadata.picked_by, tag_name). "
        "Nothing was written; read it again with orders_get and retry with the new fingerprint."
    )
    assert world.puts == []
    assert world.clock.sleeps == [0.5]  # the 409's wait, then a read that shows the order moved


async def test_an_expected_fingerprint_is_compared_with_the_merge_base_read() -> None:
    world = UpdateWorld()
    fingerprint = Order.from_document(ORDER).fingerprint
    world.stored["tag_name"] = "moved"
    with pytest.raises(StaleFingerprint):
        await world.update(update_cmd({"email": "new@example.com"}, expected_fingerprint=fingerprint))
    assert world.gateway.calls == {"fetch": 1}


async def test_a_stale_fingerprint_names_the_fields_when_the_read_is_still_cached() -> None:
    world = UpdateWorld()
    seen = Order.from_document(ORDER)
    await world.cache.set(order_key(STORE, "500001"), order_to_cache(seen), ttl=60)
    world.stored["shipping"]["city"] = "Leeds"
    with pytest.raises(StaleFingerprint) as caught:
        await world.update(update_cmd({"email": "x@example.com"}, expected_fingerprint=seen.fingerprint))
    assert caught.value.changed_fields == ("shipping.city",)
    assert world.puts == []


async def test_a_stale_fingerprint_without_the_earlier_read_says_so_without_guessing_fields() -> None:
    world = UpdateWorld()
    with pytest.raises(StaleFingerprint) as caught:
        await world.update(update_cmd({"email": "x@example.com"}, expected_fingerprint="0" * 32))
    assert str(caught.value) == (
        "Order 500001 changed since you read it. "
        "Nothing was written; read it again with orders_get and retry with the new fingerprint."
    )
    assert [r.outcome for r in world.audit.records] == ["error"]


async def test_a_matching_fingerprint_writes() -> None:
    world = UpdateWorld()
    fingerprint = Order.from_document(ORDER).fingerprint
    await world.update(update_cmd({"tag_name": "ok"}, expected_fingerprint=fingerprint))
    assert [p["tag_name"] for p in world.puts] == ["ok"]


async def test_dry_run_returns_the_diff_and_writes_nothing() -> None:
    world = UpdateWorld()
    result = await world.update(update_cmd({"shipping": {"phone": None}, "order_notes": []}, dry_run=True))
    assert [(c.field, c.before, c.after) for c in result.diff] == [
        ("order_notes", None, []),
        ("shipping.phone", "1", None),
    ]
    assert result.dry_run is True
    assert world.puts == []
    assert world.gateway.calls == {"fetch": 1}
    assert not world.invalidated
    assert [r.outcome for r in world.audit.records] == ["dry_run"]


async def test_an_update_that_changes_nothing_sends_no_put() -> None:
    world = UpdateWorld()
    result = await world.update(update_cmd({"email": "ada@example.com", "shipping": {"city": "London"}}))
    assert (result.changed_fields, world.puts) == ((), [])
    assert [r.outcome for r in world.audit.records] == ["noop"]


async def test_a_saved_order_missing_a_merged_value_is_retried_then_a_clear_error() -> None:
    world = UpdateWorld(jitter=0.0)
    world.gateway.drop_on_save = {"tag_name"}
    with pytest.raises(UpstreamRejected) as caught:
        await world.update(update_cmd({"tag_name": "vip", "email": "new@example.com"}))
    assert str(caught.value) == (
        "OrderDesk rejected the request: the order was saved without the new tag_name; "
        "read it with orders_get to see what OrderDesk kept"
    )
    assert world.gateway.calls == {"fetch": 5, "replace": 5}
    assert world.invalidated
    assert [(r.outcome, r.attempts) for r in world.audit.records] == [("error", 5)]


async def test_a_save_without_the_merged_values_once_is_retried_onto_a_fresh_read() -> None:
    world = UpdateWorld(jitter=0.0)
    world.gateway.drop_on_save, world.gateway.drop_saves = {"tag_name"}, 1
    result = await world.update(update_cmd({"tag_name": "vip"}))
    assert (result.attempts, world.stored["tag_name"]) == (2, "vip")
    assert world.gateway.calls == {"fetch": 2, "replace": 2}


async def test_orderdesk_normalising_items_and_numbers_is_not_mistaken_for_a_lost_write() -> None:
    world = UpdateWorld()
    world.gateway.normalise = True
    items = [*ORDER["order_items"], {"name": "Spoon", "price": 2, "quantity": 3}]
    result = await world.update(update_cmd({"order_items": items}))
    assert [i.get("id") for i in result.order.doc["order_items"]] == ["1", "77001"]
    assert result.order.doc["order_items"][1]["price"] == "2"


async def test_refused_keys_and_values_are_audited_without_any_request() -> None:
    world = UpdateWorld()
    with pytest.raises(MergeRejected):
        await world.update(update_cmd({"order_total": 1}))
    with pytest.raises(InvalidRequest):
        await world.update(update_cmd({"payment_status": "Paid"}))
    assert world.gateway.calls == {}
    assert [(r.outcome, r.order_id) for r in world.audit.records] == [("error", "500001")] * 2


async def test_an_address_key_the_order_already_has_may_be_changed_even_if_undocumented() -> None:
    world = UpdateWorld()
    world.stored["shipping"]["county"] = "Kent"
    await world.update(update_cmd({"shipping": {"county": "Surrey"}}))
    assert world.puts[0]["shipping"]["county"] == "Surrey"
    with pytest.raises(InvalidRequest) as caught:
        await world.update(update_cmd({"customer": {"county": "Surrey"}}))
    assert "customer has no field county" in str(caught.value)


async def test_a_missing_order_is_not_found_and_audited() -> None:
    world = UpdateWorld()
    with pytest.raises(OrderNotFound):
        await world.update(UpdateOrderCommand.parse(STORE, "999", {"email": "a@example.com"}))
    assert world.audit.records[0].error == "Order 999 was not found in store 100001."


async def test_a_successful_update_drops_the_cached_order_and_bumps_the_list_generation() -> None:
    world = UpdateWorld()
    key = order_key(STORE, "500001")
    await world.cache.set(key, order_to_cache(Order.from_document(ORDER)), ttl=60)
    await world.update(update_cmd({"email": "z@example.com"}))
    assert await world.cache.get(key) is None
    assert key in world.cache.deleted
    assert world.cache.counters[generation_key(STORE)] == 1


async def test_a_put_whose_answer_was_lost_but_which_landed_is_reported_done_without_a_second_put() -> None:
    world = UpdateWorld()
    world.gateway.lose_replace_answers = 1
    result = await world.update(update_cmd({"email": "new@example.com"}))
    assert world.stored["email"] == "new@example.com"
    assert (result.attempts, result.changed_fields) == (2, ("email",))
    assert world.gateway.calls == {"fetch": 2, "replace": 1}  # re-read, saw our values, no blind re-send
    assert [r.outcome for r in world.audit.records] == ["ok"]


async def test_a_put_whose_outcome_is_unknown_and_which_did_not_land_is_retried_as_a_conflict() -> None:
    world = UpdateWorld(jitter=1.0)
    world.gateway.race_after_read("500001", times=2)
    world.gateway.fail_next("replace", UpstreamUnavailable("timed out", maybe_sent=True))
    result = await world.update(update_cmd({"email": "new@example.com"}))
    assert (result.attempts, world.clock.sleeps) == (2, [0.5])
    assert world.gateway.calls == {"fetch": 2, "replace": 2}
    (put,) = world.puts
    assert put["email"] == "new@example.com"
    assert put["order_metadata"]["picked_by"] == "warehouse"  # merged onto the re-read, not re-sent blind


async def test_a_put_refused_with_429_or_503_is_retried_after_a_fresh_read_and_merge() -> None:
    world = UpdateWorld(jitter=0.0)
    world.gateway.fail_next("replace", RateLimited("100001", 3.0), UpstreamUnavailable("HTTP 503"))
    result = await world.update(update_cmd({"email": "new@example.com"}))
    assert result.attempts == 3
    assert world.clock.sleeps == [3.0, 0.0]  # OrderDesk's retry-after is honoured
    assert world.gateway.calls == {"fetch": 3, "replace": 3}


async def test_no_wait_between_rounds_runs_past_the_call_deadline() -> None:
    world = UpdateWorld(jitter=1.0)
    world.gateway.fail_next("replace", *[ConcurrentModification("500001") for _ in range(5)])
    ctx = CallContext(correlation_id="c", deadline=world.clock.monotonic() + 2.0, timeout=2.0)
    with call_context(ctx), pytest.raises(UpdateConflict) as caught:
        await world.update(update_cmd({"tag_name": "vip"}))
    assert caught.value.attempts == 3
    assert world.clock.sleeps == [0.5, 1.0]  # the next wait (2 s) would end past the deadline


class YieldingGateway(RacingOrderGateway):
    """Every request yields first, so concurrent updates interleave as over a network."""

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        await anyio.lowlevel.checkpoint()
        return await super().fetch(store, order_id)

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        await anyio.lowlevel.checkpoint()
        return await super().replace(store, order_id, doc)


async def test_concurrent_updates_of_one_order_each_setting_its_own_key_all_survive() -> None:
    world = UpdateWorld()
    world.gateway = YieldingGateway({"500001": ORDER})
    world.update = UpdateOrder(
        gateway=world.gateway, cache=world.cache, audit=world.audit, clock=world.clock,
        policy=ConflictPolicy(), lock=MemoryWriteLock(clock=world.clock),
    )  # fmt: skip

    async def one(key: str) -> None:
        result = await world.update(update_cmd({"order_metadata": {key: "set"}}))
        assert result.attempts == 1

    async with anyio.create_task_group() as tasks:
        for n in range(10):
            tasks.start_soon(one, f"k{n}")
    assert world.stored["order_metadata"] == {"fraud_score": 0} | {f"k{n}": "set" for n in range(10)}
    assert world.gateway.calls == {"fetch": 10, "replace": 10}


async def test_a_lock_held_past_the_deadline_is_a_clear_write_in_progress_error() -> None:
    world = UpdateWorld()
    lock = MemoryWriteLock(clock=world.clock)
    world.update = UpdateOrder(
        gateway=world.gateway, cache=world.cache, audit=world.audit, clock=world.clock,
        policy=ConflictPolicy(), lock=lock,
    )  # fmt: skip
    held, done = anyio.Event(), anyio.Event()

    async def other_writer() -> None:
        async with lock.hold(STORE, "order:500001"):
            held.set()
            await done.wait()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(other_writer)
        await held.wait()
        ctx = CallContext(correlation_id="c", deadline=world.clock.monotonic() + 0.01, timeout=0.01)
        with call_context(ctx), pytest.raises(WriteInProgress) as caught:
            await world.update(update_cmd({"tag_name": "vip"}))
        done.set()
    assert str(caught.value) == "Another agent is changing order 500001 right now; try again in a moment."
    assert world.gateway.calls == {}


class TimedGateway(RacingOrderGateway):
    """Records when (on the fake clock) each request was sent."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__({"500001": ORDER})
        self.clock = clock
        self.sent: list[tuple[str, float]] = []

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        self.sent.append(("GET", self.clock.monotonic()))
        return await super().fetch(store, order_id)

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        self.sent.append(("PUT", self.clock.monotonic()))
        return await super().replace(store, order_id, doc)


async def test_both_tokens_are_taken_before_the_read_so_nothing_waits_between_read_and_put() -> None:
    clock = FakeClock()
    inner = TimedGateway(clock)
    limiter = MemoryRateLimiter(burst=1, per_second=1.0, clock=clock)  # one token now, the next in 1 s
    gateway = ResilientOrderGateway(inner=inner, limiter=limiter, clock=clock, policy=RetryPolicy())
    update = UpdateOrder(
        gateway=gateway, cache=FakeOrderCache(clock), audit=FakeAuditLog(), clock=clock,
        policy=ConflictPolicy(), lock=MemoryWriteLock(clock=clock), resilience=gateway.resilience,
    )  # fmt: skip
    await update(update_cmd({"email": "new@example.com"}))
    (get_kind, read_at), (put_kind, put_at) = inner.sent
    assert (get_kind, put_kind) == ("GET", "PUT")
    assert read_at == put_at == clock.sleeps[0] + 1_000.0  # the wait for the second token came first


async def test_a_put_orderdesk_refuses_outright_is_reported_at_once_without_another_round() -> None:
    world = UpdateWorld()
    world.gateway.fail_next("replace", UpstreamRejected("order_items is required", status=400))
    with pytest.raises(UpstreamRejected) as caught:
        await world.update(update_cmd({"tag_name": "vip"}))
    assert str(caught.value) == "OrderDesk rejected the request: order_items is required"
    assert world.gateway.calls == {"fetch": 1, "replace": 1}
    assert world.invalidated  # it was sent: OrderDesk may have applied part of it


# --- CreateOrder on fakes -------------------------------------------------------------------------


class CreateWorld:
    def __init__(self, orders: dict[str, dict[str, Any]] | None = None) -> None:
        self.clock = FakeClock()
        self.gateway = RacingOrderGateway(orders)
        self.cache = FakeOrderCache(self.clock)
        self.records = FakeOrderCache(self.clock)  # satisfies IdempotencyRecords structurally
        self.audit = FakeAuditLog()
        self.create = CreateOrder(
            gateway=self.gateway, cache=self.cache, records=self.records, audit=self.audit, clock=self.clock
        )

    @property
    def created(self) -> list[dict[str, Any]]:
        return [doc for kind, _, doc in self.gateway.writes if kind == "create" and doc is not None]


def create_cmd(order: dict[str, Any] = NEW, key: str | None = None) -> CreateOrderCommand:
    return CreateOrderCommand.parse(STORE, order, idempotency_key=key)


async def test_every_missing_or_wrong_field_is_named_before_any_request() -> None:
    world = CreateWorld()
    bad = {
        "id": "1",
        "order_total": 3,
        "date_added": "2026-01-01 00:00:00",
        "emial": "x",
        "folder_id": "New",
        "payment_status": "Paid",
        "shipping": {"first_name": "Ada"},
        "order_items": [],
    }
    with pytest.raises(InvalidRequest) as caught:
        await world.create(create_cmd(bad))
    assert str(caught.value) == (
        "Invalid request: date_added is set by OrderDesk and cannot be given; "
        "id is set by OrderDesk and cannot be given; order_total is set by OrderDesk and cannot be given; "
        "unknown field 'emial'; order_items needs at least one item; "
        "shipping or customer needs a first_name and last_name, or a company; "
        "folder_id must be a positive integer (a folder id from the store's folders); "
        "payment_status must be one of Approved, Authorized, Captured, Fully Refunded, Partially Refunded, "
        "Pending, Rejected, Voided."
    )
    assert world.gateway.calls == {}
    assert [r.outcome for r in world.audit.records] == ["error"]


async def test_item_enums_and_a_company_instead_of_names_are_checked() -> None:
    world = CreateWorld()
    order = {"customer": {"company": "Engines Ltd"}, "order_items": [{"name": "x", "delivery_type": "drone"}]}
    with pytest.raises(InvalidRequest) as caught:
        await world.create(create_cmd(order))
    assert str(caught.value) == (
        "Invalid request: order_items[0].delivery_type must be one of ship, noship, download, future."
    )
    result = await world.create(
        create_cmd(order | {"order_items": [{"name": "x", "delivery_type": "noship"}]})
    )
    assert result.created is True


async def test_a_generated_source_id_comes_from_the_key_and_a_given_one_is_kept() -> None:
    world = CreateWorld()
    keyed = await world.create(create_cmd(key="order-42"))
    given = await world.create(create_cmd(NEW | {"source_id": "SHOP-9"}))
    random_one = await world.create(create_cmd())
    assert keyed.order.view.source_id == generated_source_id("order-42")
    assert generated_source_id("order-42").startswith("odmcp-")
    assert len(generated_source_id("x")) == 22
    assert given.order.view.source_id == "SHOP-9"
    assert random_one.order.view.source_id.startswith("odmcp-")
    assert world.cache.counters[generation_key(STORE)] == 3  # every create retires cached list pages


async def test_a_repeated_key_replays_the_first_result_without_creating_again() -> None:
    world = CreateWorld()
    first = await world.create(create_cmd(key="k"))
    again = await world.create(create_cmd(key="k"))
    assert (first.created, again.created) == (True, False)
    assert again.order.id == first.order.id
    assert again.order.fingerprint == first.order.fingerprint
    assert len(world.created) == 1
    assert [r.outcome for r in world.audit.records] == ["ok", "replayed"]
    assert {c.field for c in world.audit.records[0].changes} >= {"email", "order_items", "source_id"}


async def test_the_same_key_with_another_body_is_refused() -> None:
    world = CreateWorld()
    await world.create(create_cmd(key="k"))
    with pytest.raises(IdempotencyMismatch) as caught:
        await world.create(create_cmd(NEW | {"email": "b@example.com"}, key="k"))
    assert str(caught.value) == (
        "Idempotency key 'k' was already used for a different order; use a new key for a new order."
    )
    assert len(world.created) == 1


async def test_a_hundred_concurrent_creates_with_one_key_make_one_order() -> None:
    world = CreateWorld()
    results: list[CreatedOrder] = []

    async def one() -> None:
        results.append(await world.create(create_cmd(key="same")))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(one)
    assert len(world.created) == 1
    assert (len(results), sum(r.created for r in results)) == (100, 1)
    assert {r.order.id for r in results} == {world.created[0]["id"]}


async def test_a_lost_answer_after_the_create_arrived_is_reconciled_by_source_id() -> None:
    world = CreateWorld()
    world.gateway.lose_create_answers = 1
    result = await world.create(create_cmd(key="lost"))
    assert result.created is True
    assert len(world.created) == 1
    assert result.order.id == world.created[0]["id"]
    assert world.gateway.calls == {"create": 1, "list_page": 1}


async def test_a_lost_request_that_never_arrived_is_sent_once_more() -> None:
    world = CreateWorld()
    world.gateway.lose_create_requests = 1
    result = await world.create(create_cmd())
    assert len(world.created) == 1
    assert result.order.view.source_id == world.created[0]["source_id"]
    assert world.gateway.calls == {"create": 2, "list_page": 1}


async def test_an_order_found_by_a_shared_source_id_but_different_content_is_not_taken() -> None:
    other = {
        "id": "7",
        "source_id": "SHOP-9",
        "email": "someone@example.com",
        "order_items": [{"name": "Hat"}],
    }
    world = CreateWorld({"7": other})
    world.gateway.lose_create_requests = 1
    result = await world.create(create_cmd(NEW | {"source_id": "SHOP-9"}))
    assert result.order.id != "7"
    assert len(world.created) == 1


async def test_an_unresolved_outcome_leaves_the_key_uncertain_and_the_retry_finds_the_order() -> None:
    world = CreateWorld()
    world.gateway.lose_create_answers = 1
    world.gateway.fail_next("list_page", UpstreamUnavailable("connection refused"))
    with pytest.raises(OutcomeUnknown) as caught:
        await world.create(create_cmd(key="flaky"))
    assert str(caught.value) == (
        "OrderDesk did not confirm the order creation (connection reset before an answer); "
        "it may or may not have happened. It was sent with source_id 'odmcp-"
        + hashlib.sha256(b"flaky").hexdigest()[:16]
        + "': look for it with orders_list by that source_id, "
        "and do not send it again without the same idempotency_key."
    )
    assert len(world.created) == 1  # it did arrive
    record = await world.records.get(idempotency_key(STORE, "flaky"))
    assert record is not None
    assert record["state"] == "uncertain"
    retry = await world.create(create_cmd(key="flaky"))
    assert (retry.created, retry.order.id) == (False, world.created[0]["id"])
    assert len(world.created) == 1
    assert [r.outcome for r in world.audit.records] == ["error", "replayed"]


async def test_a_refused_create_frees_its_key() -> None:
    world = CreateWorld()
    world.gateway.fail_next("create", UpstreamRejected("Duplicate order"))
    with pytest.raises(UpstreamRejected):
        await world.create(create_cmd(key="k"))
    assert await world.records.get(idempotency_key(STORE, "k")) is None
    assert (await world.create(create_cmd(key="k"))).created is True


async def test_a_claim_whose_owner_vanished_is_taken_over_after_the_lease() -> None:
    world = CreateWorld()
    stale = {"state": "pending", "body": _body(NEW), "since": world.clock.time() - 600}
    await world.records.set(idempotency_key(STORE, "k"), stale, ttl=86_400)
    result = await world.create(create_cmd(key="k"))
    assert result.created is True
    assert world.gateway.calls == {"list_page": 1, "create": 1}  # looked for it before creating


async def test_a_create_still_in_flight_elsewhere_is_waited_for_then_reported() -> None:
    world = CreateWorld()
    pending = {"state": "pending", "body": _body(NEW), "since": world.clock.time()}
    await world.records.set(idempotency_key(STORE, "k"), pending, ttl=86_400)
    with pytest.raises(IdempotencyUnavailable) as caught:
        await world.create(create_cmd(key="k"))
    assert str(caught.value) == (
        "Could not safely use idempotency key 'k' (a create with this key is still in progress); "
        "nothing was created. Try again shortly."
    )
    assert sum(world.clock.sleeps) == pytest.approx(10.0)
    assert world.created == []


def _body(order: dict[str, Any]) -> str:
    canonical = json.dumps(order, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def test_unreachable_idempotency_records_refuse_the_create_naming_the_callers_key(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    world = CreateWorld()
    async with SqliteIdempotencyRecords(path=blocker / "idempotency.sqlite3", clock=world.clock) as records:
        create = CreateOrder(
            gateway=world.gateway, cache=world.cache, records=records, audit=world.audit, clock=world.clock
        )
        with pytest.raises(IdempotencyUnavailable) as caught:
            await create(create_cmd(key="k-9"))
    assert str(caught.value) == (
        "Could not safely use idempotency key 'k-9' (its record store cannot be used right now); "
        "nothing was created. Try again shortly."
    )
    assert world.gateway.calls == {}


# --- DeleteOrder on fakes -------------------------------------------------------------------------


class DeleteWorld:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.gateway = RacingOrderGateway({"500002": {"id": "500002", "email": "a@example.com"}})
        self.cache = FakeOrderCache(self.clock)
        self.audit = FakeAuditLog()
        self.lock = MemoryWriteLock(clock=self.clock)
        self.delete = DeleteOrder(
            gateway=self.gateway, cache=self.cache, audit=self.audit, clock=self.clock, lock=self.lock
        )


async def test_a_delete_waits_for_a_write_of_the_same_order_through_this_service_to_finish() -> None:
    world = DeleteWorld()
    holding, release = anyio.Event(), anyio.Event()

    async def writer_between_read_and_put() -> None:
        async with world.lock.hold(STORE, "order:500002"):
            holding.set()
            await release.wait()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(writer_between_read_and_put)
        await holding.wait()
        tasks.start_soon(world.delete, DeleteOrderCommand.parse(STORE, "500002", confirm=True))
        await anyio.wait_all_tasks_blocked()
        sent_while_held = list(world.gateway.writes)
        release.set()
    assert sent_while_held == []  # nothing deleted under the writer's feet
    assert world.gateway.writes == [("delete", "500002", None)]  # then the delete went through


async def test_without_confirm_nothing_is_deleted_and_the_message_says_how() -> None:
    world = DeleteWorld()
    with pytest.raises(ConfirmationRequired) as caught:
        await world.delete(DeleteOrderCommand.parse(STORE, "500002"))
    assert str(caught.value) == (
        "Nothing was done: deleting order 500002 needs confirmation. "
        "Call orders_delete again with confirm: true to delete it permanently."
    )
    assert "500002" in world.gateway.docs
    assert world.gateway.calls == {}


async def test_a_confirmed_delete_deletes_invalidates_and_audits() -> None:
    world = DeleteWorld()
    await world.cache.set(order_key(STORE, "500002"), {"doc": {}, "fingerprint": "f"}, ttl=60)
    with call_context(CallContext(correlation_id="corr-1")):
        result = await world.delete(DeleteOrderCommand.parse(STORE, 500002, confirm=True))
    assert result.order_id == "500002"
    assert world.gateway.writes == [("delete", "500002", None)]
    assert await world.cache.get(order_key(STORE, "500002")) is None
    assert world.cache.counters[generation_key(STORE)] == 1
    (record,) = world.audit.records
    assert (record.tool, record.order_id, record.outcome, record.correlation_id, record.time) == (
        "orders_delete", "500002", "ok", "corr-1", world.clock.time(),
    )  # fmt: skip


async def test_deleting_a_missing_order_is_not_found_and_audited() -> None:
    world = DeleteWorld()
    with pytest.raises(OrderNotFound) as caught:
        await world.delete(DeleteOrderCommand.parse(STORE, "999", confirm=True))
    assert str(caught.value) == "Order 999 was not found in store 100001."
    assert [(r.outcome, r.error) for r in world.audit.records] == [("error", str(caught.value))]


# --- All three on the in-process simulator --------------------------------------------------------


class SimWorld:
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


async def test_an_update_retries_once_after_another_writer_and_keeps_their_field() -> None:
    world = SimWorld()
    world.state.faults.change_after_read("500001", times=1)
    world.state.faults.conflict_next_put(1)  # the round ends on a 409; the next one reads the edit
    result = await world.update(jitter=0.5)(update_cmd({"email": "new@example.com"}))
    assert result.attempts == 2
    assert world.doc()["email"] == "new@example.com"
    assert world.doc()["order_metadata"]["external_edit"] == 1  # the other writer's change survived
    assert world.clock.sleeps == [0.25]
    (record,) = world.audit.records
    assert (record.outcome, record.attempts, record.changes[0].field) == ("ok", 2, "email")


async def test_an_order_that_never_stops_changing_gives_up_after_5_attempts_naming_the_fields() -> None:
    world = SimWorld()
    world.state.faults.change_after_read("500001", times=None)
    world.state.faults.conflict_next_put(5)
    before = dict(world.doc())
    with pytest.raises(UpdateConflict) as caught:
        await world.update(jitter=1.0)(update_cmd({"email": "new@example.com"}))
    assert str(caught.value) == (
        "Order 500001 kept changing while we tried to update it (5 attempts; fields that kept changing: "
        "date_updated, order_metadata.external_edit). Nothing was written; read it again and retry."
    )
    assert world.clock.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert world.doc()["email"] == before["email"]
    assert [(r.outcome, r.attempts) for r in world.audit.records] == [("error", 5)]


async def test_a_put_dropped_after_it_was_applied_is_reported_done_without_resending_it() -> None:
    world = SimWorld()
    # Armed right after the read, so the next request (our PUT) is applied and its answer lost.
    arm: Any = lambda doc: world.state.faults.drop_next(1, after_processing=True)  # noqa: E731
    world.state.faults.change_after_read("500001", times=1, mutate=arm)
    result = await world.update()(update_cmd({"tag_name": "landed"}))
    assert (result.attempts, result.changed_fields, world.doc()["tag_name"]) == (2, ("tag_name",), "landed")
    assert [r.outcome for r in world.audit.records] == ["ok"]


async def test_an_upstream_409_once_is_retried() -> None:
    world = SimWorld()
    world.state.faults.conflict_next_put(1)
    result = await world.update(jitter=0.0)(update_cmd({"tag_name": "vip"}))
    assert (result.attempts, world.doc()["tag_name"]) == (2, "vip")


async def test_an_update_invalidates_the_cached_order_and_list_pages() -> None:
    world = SimWorld()
    key = order_key(STORE, "500001")
    await world.cache.set(key, {"doc": {"id": "500001"}, "fingerprint": "x"}, ttl=60)
    generation = await world.cache.get_counter(generation_key(STORE))
    await world.update()(update_cmd({"email": "z@example.com"}))
    assert await world.cache.get(key) is None
    assert await world.cache.get_counter(generation_key(STORE)) == generation + 1


async def test_dry_run_and_no_op_updates_write_nothing() -> None:
    world = SimWorld()
    writes_before = world.doc()["date_updated"]
    dry = await world.update()(update_cmd({"shipping": {"city": "Paris"}}, dry_run=True))
    same = await world.update()(update_cmd({"email": world.doc()["email"]}))
    assert [(c.field, c.after) for c in dry.diff] == [("shipping.city", "Paris")]
    assert dry.dry_run is True
    assert same.changed_fields == ()
    assert world.doc()["date_updated"] == writes_before
    assert not any(r.method == "PUT" for r in world.state.requests)
    assert [r.outcome for r in world.audit.records] == ["dry_run", "noop"]


async def test_a_stale_fingerprint_is_refused_with_the_fields_that_changed() -> None:
    world = SimWorld()
    seen = Order.from_document(dict(world.doc()))
    await world.cache.set(order_key(STORE, "500001"), order_to_cache(seen), ttl=60)
    world.doc()["email"] = "someone-else@example.com"
    with pytest.raises(StaleFingerprint) as caught:
        await world.update()(update_cmd({"tag_name": "x"}, expected_fingerprint=seen.fingerprint))
    assert str(caught.value) == (
        "Order 500001 changed since you read it (changed: email). Nothing was written; read it again with "
        "orders_get and retry with the new fingerprint."
    )
    assert world.doc().get("tag_name") != "x"


async def test_a_matching_fingerprint_lets_the_update_through() -> None:
    world = SimWorld()
    fingerprint = Order.from_document(dict(world.doc())).fingerprint
    result = await world.update()(update_cmd({"tag_name": "ok"}, expected_fingerprint=fingerprint))
    assert result.order.doc["tag_name"] == "ok"


async def test_an_update_of_a_missing_order_is_not_found_and_audited() -> None:
    world = SimWorld()
    with pytest.raises(OrderNotFound):
        await world.update()(UpdateOrderCommand.parse(STORE, "999999", {"email": "a@example.com"}))
    assert world.audit.records[0].error == f"Order 999999 was not found in store {STORE_ID}."


async def test_create_names_every_problem_before_sending() -> None:
    world = SimWorld()
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
    world = SimWorld()
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


async def test_the_same_key_with_another_body_is_refused_by_the_simulator() -> None:
    world = SimWorld()
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
    world = SimWorld()
    world.gateway = _DropsAfterCreate(world.state)
    result = await world.create()(CreateOrderCommand.parse(STORE, NEW, idempotency_key="lost"))
    assert result.created is True
    assert len(world.state.orders(STORE_ID)) == 6
    assert result.order.view.source_id.startswith("odmcp-")


async def test_delete_needs_confirmation_then_deletes_and_invalidates() -> None:
    world = SimWorld()
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
