"""UpdateOrder on a racing fake gateway, a fake cache, a fake clock and a fake audit log.

State is asserted: what was PUT, what the other writer left, sleeps, audit records, cache.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import anyio
import pytest

from orderdesk_mcp.adapters.memory_rate_limiter import MemoryRateLimiter
from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock
from orderdesk_mcp.domain.cache_keys import generation_key, order_key
from orderdesk_mcp.domain.cached_orders import order_to_cache
from orderdesk_mcp.domain.commands import UpdateOrderCommand
from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.context import CallContext, call_context
from orderdesk_mcp.domain.errors import (
    ConcurrentModification,
    InvalidRequest,
    MergeRejected,
    OrderNotFound,
    RateLimited,
    StaleFingerprint,
    UpdateConflict,
    UpstreamRejected,
    UpstreamUnavailable,
    WriteInProgress,
)
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.use_cases.resilient_gateway import ResilientOrderGateway
from orderdesk_mcp.domain.use_cases.update_order import UpdateOrder
from tests.fake_cache import FakeOrderCache
from tests.fake_writers import RacingOrderGateway
from tests.fakes import FakeAuditLog, FakeClock

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="acme", store_id="100001")
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


class World:
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


def cmd(changes: dict[str, Any], **kw: Any) -> UpdateOrderCommand:
    return UpdateOrderCommand.parse(STORE, "500001", changes, **kw)


async def test_the_put_is_the_whole_fetched_order_with_only_the_named_keys_changed() -> None:
    world = World()
    result = await world.update(cmd({"email": "new@example.com", "shipping": {"city": "Paris"}}))
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
    world = World()
    world.gateway.race_after_read("500001", times=1)
    result = await world.update(cmd({"email": "new@example.com"}))
    assert (result.attempts, world.gateway.calls) == (1, {"fetch": 1, "replace": 1})
    assert "tag_name" not in world.stored


async def test_a_409_means_one_retry_onto_a_fresh_read_and_the_other_writers_fields_survive() -> None:
    world = World(jitter=0.5)
    world.gateway.race_after_read("500001", times=1)
    world.gateway.fail_next("replace", ConcurrentModification("500001"))
    result = await world.update(cmd({"email": "new@example.com"}))
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
    world = World(jitter=0.5)
    world.gateway.race_after_read("500001", times=None)
    world.gateway.fail_next("replace", *[ConcurrentModification("500001") for _ in range(5)])
    with pytest.raises(UpdateConflict) as caught:
        await world.update(cmd({"email": "new@example.com"}))
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
    world = World(jitter=7.0)
    world.gateway.fail_next("replace", *[ConcurrentModification("500001") for _ in range(5)])
    with pytest.raises(UpdateConflict):
        await world.update(cmd({"email": "new@example.com"}))
    assert world.clock.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert ConflictPolicy(attempts=6).delay(5, jitter=1.0) == 8.0


async def test_an_upstream_409_is_retried_and_the_order_still_written_once() -> None:
    world = World(jitter=0.0)
    world.gateway.fail_next("replace", ConcurrentModification("500001"))
    result = await world.update(cmd({"tag_name": "vip"}))
    assert (result.attempts, world.clock.sleeps) == (2, [0.0])
    assert [p["tag_name"] for p in world.puts] == ["vip"]
    assert world.invalidated


async def test_409_every_time_ends_in_a_conflict_and_still_invalidates_the_cache() -> None:
    world = World(jitter=0.0)
    world.gateway.fail_next("replace", *[ConcurrentModification("500001") for _ in range(5)])
    with pytest.raises(UpdateConflict) as caught:
        await world.update(cmd({"tag_name": "vip"}))
    assert "(5 attempts; fields that kept changing: unknown fields)" in str(caught.value)
    assert world.invalidated  # a refused PUT may still have reached OrderDesk


async def test_an_expected_fingerprint_refuses_instead_of_retrying_when_the_order_moves() -> None:
    world = World()
    fingerprint = Order.from_document(ORDER).fingerprint
    world.gateway.race_after_read("500001", times=1)
    world.gateway.fail_next("replace", ConcurrentModification("500001"))
    with pytest.raises(StaleFingerprint) as caught:
        await world.update(cmd({"email": "new@example.com"}, expected_fingerprint=fingerprint))
    assert str(caught.value) == (
        "Order 500001 changed since you read it (changed: date_updated, order_metadata.picked_by, tag_name). "
        "Nothing was written; read it again with orders_get and retry with the new fingerprint."
    )
    assert world.puts == []
    assert world.clock.sleeps == [0.5]  # the 409's wait, then a read that shows the order moved


async def test_an_expected_fingerprint_is_compared_with_the_merge_base_read() -> None:
    world = World()
    fingerprint = Order.from_document(ORDER).fingerprint
    world.stored["tag_name"] = "moved"
    with pytest.raises(StaleFingerprint):
        await world.update(cmd({"email": "new@example.com"}, expected_fingerprint=fingerprint))
    assert world.gateway.calls == {"fetch": 1}


async def test_a_stale_fingerprint_names_the_fields_when_the_read_is_still_cached() -> None:
    world = World()
    seen = Order.from_document(ORDER)
    await world.cache.set(order_key(STORE, "500001"), order_to_cache(seen), ttl=60)
    world.stored["shipping"]["city"] = "Leeds"
    with pytest.raises(StaleFingerprint) as caught:
        await world.update(cmd({"email": "x@example.com"}, expected_fingerprint=seen.fingerprint))
    assert caught.value.changed_fields == ("shipping.city",)
    assert world.puts == []


async def test_a_stale_fingerprint_without_the_earlier_read_says_so_without_guessing_fields() -> None:
    world = World()
    with pytest.raises(StaleFingerprint) as caught:
        await world.update(cmd({"email": "x@example.com"}, expected_fingerprint="0" * 32))
    assert str(caught.value) == (
        "Order 500001 changed since you read it. "
        "Nothing was written; read it again with orders_get and retry with the new fingerprint."
    )
    assert [r.outcome for r in world.audit.records] == ["error"]


async def test_a_matching_fingerprint_writes() -> None:
    world = World()
    fingerprint = Order.from_document(ORDER).fingerprint
    await world.update(cmd({"tag_name": "ok"}, expected_fingerprint=fingerprint))
    assert [p["tag_name"] for p in world.puts] == ["ok"]


async def test_dry_run_returns_the_diff_and_writes_nothing() -> None:
    world = World()
    result = await world.update(cmd({"shipping": {"phone": None}, "order_notes": []}, dry_run=True))
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
    world = World()
    result = await world.update(cmd({"email": "ada@example.com", "shipping": {"city": "London"}}))
    assert (result.changed_fields, world.puts) == ((), [])
    assert [r.outcome for r in world.audit.records] == ["noop"]


async def test_a_saved_order_missing_a_merged_value_is_retried_then_a_clear_error() -> None:
    world = World(jitter=0.0)
    world.gateway.drop_on_save = {"tag_name"}
    with pytest.raises(UpstreamRejected) as caught:
        await world.update(cmd({"tag_name": "vip", "email": "new@example.com"}))
    assert str(caught.value) == (
        "OrderDesk rejected the request: the order was saved without the new tag_name; "
        "read it with orders_get to see what OrderDesk kept"
    )
    assert world.gateway.calls == {"fetch": 5, "replace": 5}
    assert world.invalidated
    assert [(r.outcome, r.attempts) for r in world.audit.records] == [("error", 5)]


async def test_a_save_without_the_merged_values_once_is_retried_onto_a_fresh_read() -> None:
    world = World(jitter=0.0)
    world.gateway.drop_on_save, world.gateway.drop_saves = {"tag_name"}, 1
    result = await world.update(cmd({"tag_name": "vip"}))
    assert (result.attempts, world.stored["tag_name"]) == (2, "vip")
    assert world.gateway.calls == {"fetch": 2, "replace": 2}


async def test_orderdesk_normalising_items_and_numbers_is_not_mistaken_for_a_lost_write() -> None:
    world = World()
    world.gateway.normalise = True
    items = [*ORDER["order_items"], {"name": "Spoon", "price": 2, "quantity": 3}]
    result = await world.update(cmd({"order_items": items}))
    assert [i.get("id") for i in result.order.doc["order_items"]] == ["1", "77001"]
    assert result.order.doc["order_items"][1]["price"] == "2"


async def test_refused_keys_and_values_are_audited_without_any_request() -> None:
    world = World()
    with pytest.raises(MergeRejected):
        await world.update(cmd({"order_total": 1}))
    with pytest.raises(InvalidRequest):
        await world.update(cmd({"payment_status": "Paid"}))
    assert world.gateway.calls == {}
    assert [(r.outcome, r.order_id) for r in world.audit.records] == [("error", "500001")] * 2


async def test_an_address_key_the_order_already_has_may_be_changed_even_if_undocumented() -> None:
    world = World()
    world.stored["shipping"]["county"] = "Kent"
    await world.update(cmd({"shipping": {"county": "Surrey"}}))
    assert world.puts[0]["shipping"]["county"] == "Surrey"
    with pytest.raises(InvalidRequest) as caught:
        await world.update(cmd({"customer": {"county": "Surrey"}}))
    assert "customer has no field county" in str(caught.value)


async def test_a_missing_order_is_not_found_and_audited() -> None:
    world = World()
    with pytest.raises(OrderNotFound):
        await world.update(UpdateOrderCommand.parse(STORE, "999", {"email": "a@example.com"}))
    assert world.audit.records[0].error == "Order 999 was not found in store 100001."


async def test_a_successful_update_drops_the_cached_order_and_bumps_the_list_generation() -> None:
    world = World()
    key = order_key(STORE, "500001")
    await world.cache.set(key, order_to_cache(Order.from_document(ORDER)), ttl=60)
    await world.update(cmd({"email": "z@example.com"}))
    assert await world.cache.get(key) is None
    assert key in world.cache.deleted
    assert world.cache.counters[generation_key(STORE)] == 1


async def test_a_put_whose_answer_was_lost_but_which_landed_is_reported_done_without_a_second_put() -> None:
    world = World()
    world.gateway.lose_replace_answers = 1
    result = await world.update(cmd({"email": "new@example.com"}))
    assert world.stored["email"] == "new@example.com"
    assert (result.attempts, result.changed_fields) == (2, ("email",))
    assert world.gateway.calls == {"fetch": 2, "replace": 1}  # re-read, saw our values, no blind re-send
    assert [r.outcome for r in world.audit.records] == ["ok"]


async def test_a_put_whose_outcome_is_unknown_and_which_did_not_land_is_retried_as_a_conflict() -> None:
    world = World(jitter=1.0)
    world.gateway.race_after_read("500001", times=2)
    world.gateway.fail_next("replace", UpstreamUnavailable("timed out", maybe_sent=True))
    result = await world.update(cmd({"email": "new@example.com"}))
    assert (result.attempts, world.clock.sleeps) == (2, [0.5])
    assert world.gateway.calls == {"fetch": 2, "replace": 2}
    (put,) = world.puts
    assert put["email"] == "new@example.com"
    assert put["order_metadata"]["picked_by"] == "warehouse"  # merged onto the re-read, not re-sent blind


async def test_a_put_refused_with_429_or_503_is_retried_after_a_fresh_read_and_merge() -> None:
    world = World(jitter=0.0)
    world.gateway.fail_next("replace", RateLimited("100001", 3.0), UpstreamUnavailable("HTTP 503"))
    result = await world.update(cmd({"email": "new@example.com"}))
    assert result.attempts == 3
    assert world.clock.sleeps == [3.0, 0.0]  # OrderDesk's retry-after is honoured
    assert world.gateway.calls == {"fetch": 3, "replace": 3}


async def test_no_wait_between_rounds_runs_past_the_call_deadline() -> None:
    world = World(jitter=1.0)
    world.gateway.fail_next("replace", *[ConcurrentModification("500001") for _ in range(5)])
    ctx = CallContext(correlation_id="c", deadline=world.clock.monotonic() + 2.0, timeout=2.0)
    with call_context(ctx), pytest.raises(UpdateConflict) as caught:
        await world.update(cmd({"tag_name": "vip"}))
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
    world = World()
    world.gateway = YieldingGateway({"500001": ORDER})
    world.update = UpdateOrder(
        gateway=world.gateway, cache=world.cache, audit=world.audit, clock=world.clock,
        policy=ConflictPolicy(), lock=MemoryWriteLock(clock=world.clock),
    )  # fmt: skip

    async def one(key: str) -> None:
        result = await world.update(cmd({"order_metadata": {key: "set"}}))
        assert result.attempts == 1

    async with anyio.create_task_group() as tasks:
        for n in range(10):
            tasks.start_soon(one, f"k{n}")
    assert world.stored["order_metadata"] == {"fraud_score": 0} | {f"k{n}": "set" for n in range(10)}
    assert world.gateway.calls == {"fetch": 10, "replace": 10}


async def test_a_lock_held_past_the_deadline_is_a_clear_write_in_progress_error() -> None:
    world = World()
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
            await world.update(cmd({"tag_name": "vip"}))
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
    await update(cmd({"email": "new@example.com"}))
    (get_kind, read_at), (put_kind, put_at) = inner.sent
    assert (get_kind, put_kind) == ("GET", "PUT")
    assert read_at == put_at == clock.sleeps[0] + 1_000.0  # the wait for the second token came first


async def test_a_put_orderdesk_refuses_outright_is_reported_at_once_without_another_round() -> None:
    world = World()
    world.gateway.fail_next("replace", UpstreamRejected("order_items is required", status=400))
    with pytest.raises(UpstreamRejected) as caught:
        await world.update(cmd({"tag_name": "vip"}))
    assert str(caught.value) == "OrderDesk rejected the request: order_items is required"
    assert world.gateway.calls == {"fetch": 1, "replace": 1}
    assert world.invalidated  # it was sent: OrderDesk may have applied part of it
