"""Inventory writes keep issue 12's guarantee, through the real ``ResilientInventoryGateway``.

The item's lock is held from the merge-base read to the verifying read; the read's and the
PUT's tokens are taken before the read, so an empty bucket never waits between them; and a
PUT answered by a 429, a 5xx or a lost connection is never re-sent as it was: the next round
reads the item again and re-applies the change. ``log`` is the upstream request sequence
(with the stock each GET read and each PUT sent), the clock's waits and the sales made in
OrderDesk meanwhile (a sale lands during the first wait).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.adapters.memory_rate_limiter import MemoryRateLimiter
from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock
from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.errors import (
    OrderDeskError,
    OutcomeUnknown,
    RateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from orderdesk_mcp.domain.inventory import InventoryItem
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.reach_commands import AdjustStockCommand, UpdateItemCommand
from orderdesk_mcp.domain.reach_errors import StaleItemFingerprint
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.use_cases.adjust_stock import AdjustStock
from orderdesk_mcp.domain.use_cases.resilient_inventory import ResilientInventoryGateway
from orderdesk_mcp.domain.use_cases.update_inventory_item import UpdateInventoryItem
from tests.fake_inventory import FakeInventoryGateway
from tests.fakes import FakeAuditLog, FakeClock

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="default", store_id="100001")
MUG = {"id": 2501, "name": "Mug", "code": "MUG-1", "price": 9.5, "stock": 10, "x_bin": {"aisle": [4, "b"]}}


class Upstream(FakeInventoryGateway):
    """The fake inventory, logging each request; a PUT may be made to land and still fail."""

    def __init__(self, log: list[str]) -> None:
        super().__init__({"2501": MUG})
        self.log = log
        self.land_then_fail: list[OrderDeskError] = []

    def sale(self) -> None:
        self.items["2501"]["stock"] -= 1
        self.log.append(f"sale {self.items['2501']['stock']}")

    async def fetch_item(self, store: StoreRef, item_id: str) -> InventoryItem:
        item = await super().fetch_item(store, item_id)
        self.log.append(f"GET {item.stock}")
        return item

    async def replace_item(self, store: StoreRef, item_id: str, doc: Mapping[str, Any]) -> None:
        self.log.append(f"PUT {doc['stock']}")
        await super().replace_item(store, item_id, doc)
        if self.land_then_fail:
            raise self.land_then_fail.pop(0)  # saved, but the answer never came back


class Clock(FakeClock):
    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log
        self.during_first_wait: Callable[[], None] | None = None

    async def sleep(self, seconds: float) -> None:
        self.log.append("wait")
        hook, self.during_first_wait = self.during_first_wait, None
        if hook is not None:
            hook()
        await super().sleep(seconds)


class World:
    def __init__(self, *, burst: int = 20, per_second: float = 3.0) -> None:
        self.log: list[str] = []
        self.clock = Clock(self.log)
        self.upstream = Upstream(self.log)
        self.gateway = ResilientInventoryGateway(
            inner=self.upstream,
            limiter=MemoryRateLimiter(clock=self.clock, burst=burst, per_second=per_second),
            clock=self.clock,
            policy=RetryPolicy(),
            jitter=lambda: 0.5,
        )
        self.cache = MemoryOrderCache(clock=self.clock)
        self.audit = FakeAuditLog()
        self.lock = MemoryWriteLock(clock=self.clock)

    def adjust(self) -> AdjustStock:
        return AdjustStock(
            inventory=self.gateway, lock=self.lock, cache=self.cache, audit=self.audit, clock=self.clock,
            resilience=self.gateway.resilience,
        )  # fmt: skip

    def update(self) -> UpdateInventoryItem:
        return UpdateInventoryItem(
            inventory=self.gateway, lock=self.lock, cache=self.cache, audit=self.audit, clock=self.clock,
            resilience=self.gateway.resilience,
        )  # fmt: skip

    def a_sale_during_the_first_wait(self) -> None:
        self.clock.during_first_wait = self.upstream.sale

    @property
    def stock(self) -> Any:
        return self.upstream.items["2501"]["stock"]

    @property
    def requests(self) -> list[str]:
        return [entry for entry in self.log if entry != "wait"]


def plus_five() -> AdjustStockCommand:
    return AdjustStockCommand.parse(STORE, item_id=2501, delta=5)


# -- a failed PUT is re-read and re-applied, never re-sent blind ---------------------------------


async def test_adjust_after_a_503_on_its_put_reads_again_and_applies_the_delta_to_the_new_stock() -> None:
    world = World()
    world.upstream.fail_next("replace_item", UpstreamUnavailable("HTTP 503"))
    world.a_sale_during_the_first_wait()  # 10 -> 9 while the failed PUT waits for its retry
    result = await world.adjust()(plus_five())
    assert world.log == ["GET 10", "PUT 15", "wait", "sale 9", "GET 9", "PUT 14", "GET 14"]
    assert world.stock == 14
    assert (result.stock_before, result.stock_after) == (9, 14)
    record = world.audit.records[-1]
    assert (record.outcome, record.attempts) == ("ok", 2)
    assert [(c.field, c.before, c.after) for c in record.changes] == [("stock", 9, 14)]


@pytest.mark.parametrize(
    "failure",
    [
        RateLimited("100001", 2.0),
        UpstreamUnavailable("HTTP 502"),
    ],
    ids=["429", "502"],
)
async def test_every_retryable_put_failure_ends_the_round_and_the_next_one_reads_again(
    failure: OrderDeskError,
) -> None:
    world = World()
    world.upstream.fail_next("replace_item", failure)
    world.a_sale_during_the_first_wait()
    await world.adjust()(plus_five())
    assert world.requests == ["GET 10", "PUT 15", "sale 9", "GET 9", "PUT 14", "GET 14"]
    assert world.stock == 14
    if isinstance(failure, RateLimited):
        assert world.clock.sleeps[0] >= 2.0  # OrderDesk's retry-after is honoured before the re-read


async def test_an_adjustment_whose_answer_was_lost_while_the_stock_moved_too_is_an_unknown_outcome() -> None:
    world = World()
    world.upstream.fail_next("replace_item", UpstreamUnavailable("connection lost", maybe_sent=True))
    world.a_sale_during_the_first_wait()  # it did not land, but a sale did: 10 -> 9
    with pytest.raises(OutcomeUnknown) as caught:
        await world.adjust()(plus_five())
    assert str(caught.value) == (
        "OrderDesk did not confirm the stock adjustment of inventory item 2501 (its answer was lost; "
        "the stock was 10, we sent 15, it is now 9); it may or may not have happened."
    )
    assert world.requests == ["GET 10", "PUT 15", "sale 9", "GET 9"]  # never applied a second time
    assert world.stock == 9
    assert world.audit.records[-1].outcome == "error"


async def test_a_lost_adjustment_whose_stock_reads_unchanged_is_an_unknown_outcome() -> None:
    # Unchanged may mean ours never landed, or landed and was undone by an equal and opposite change
    # (a sale of 5 after our +5): applying the delta again could count it twice.
    world = World()
    world.upstream.fail_next("replace_item", UpstreamUnavailable("connection lost", maybe_sent=True))
    with pytest.raises(OutcomeUnknown) as caught:
        await world.adjust()(plus_five())
    assert str(caught.value) == (
        "OrderDesk did not confirm the stock adjustment of inventory item 2501 (its answer was lost; "
        "the stock was 10, we sent 15, it is now 10); it may or may not have happened."
    )
    assert world.requests == ["GET 10", "PUT 15", "GET 10"]  # never sent a second time
    assert world.stock == 10


async def test_update_after_a_503_on_its_put_merges_its_changes_onto_a_fresh_read() -> None:
    world = World()
    world.upstream.fail_next("replace_item", UpstreamUnavailable("HTTP 503"))
    world.a_sale_during_the_first_wait()
    result = await world.update()(UpdateItemCommand.parse(STORE, 2501, {"name": "Big mug"}))
    assert world.log == ["GET 10", "PUT 10", "wait", "sale 9", "GET 9", "PUT 9", "GET 9"]
    assert world.upstream.items["2501"] == MUG | {"name": "Big mug", "stock": 9}  # the sale is kept
    assert result.changed_fields == ("name",)
    assert world.audit.records[-1].outcome == "ok"


async def test_a_put_that_landed_before_its_answer_was_lost_is_not_applied_twice() -> None:
    # The stock reads what we sent, but that proves nothing (a restock of 5 after a PUT that did not
    # land reads the same, found in review): never sent again, and never reported done either.
    world = World()
    world.upstream.land_then_fail.append(UpstreamUnavailable("connection lost", maybe_sent=True))
    with pytest.raises(OutcomeUnknown) as caught:
        await world.adjust()(plus_five())
    assert "the stock was 10, we sent 15, it is now 15" in str(caught.value)
    assert world.log == ["GET 10", "PUT 15", "wait", "GET 15"]
    assert world.stock == 15
    assert world.audit.records[-1].outcome == "error"


async def test_an_update_whose_put_landed_before_its_answer_was_lost_is_not_sent_again() -> None:
    world = World()
    world.upstream.land_then_fail.append(UpstreamUnavailable("connection lost", maybe_sent=True))
    result = await world.update()(UpdateItemCommand.parse(STORE, 2501, {"name": "Big mug"}))
    assert world.log == ["GET 10", "PUT 10", "wait", "GET 10"]
    assert result.item.doc == MUG | {"name": "Big mug"}
    assert result.changed_fields == ("name",)


async def test_a_put_failing_every_round_gives_up_after_the_order_paths_attempts() -> None:
    world = World()
    attempts = ConflictPolicy().attempts
    world.upstream.fail_next("replace_item", *(UpstreamUnavailable("HTTP 503") for _ in range(attempts)))
    with pytest.raises(UpstreamUnavailable):
        await world.adjust()(plus_five())
    assert world.requests == ["GET 10", "PUT 15"] * attempts
    assert world.stock == 10
    record = world.audit.records[-1]
    assert (record.outcome, record.attempts) == ("error", attempts)


async def test_a_refused_put_is_raised_at_once_and_not_retried() -> None:
    world = World()
    world.upstream.fail_next("replace_item", UpstreamRejected("stock must be a number", status=400))
    with pytest.raises(UpstreamRejected, match="stock must be a number"):
        await world.adjust()(plus_five())
    assert world.log == ["GET 10", "PUT 15"]
    assert world.audit.records[-1].outcome == "error"


async def test_an_update_with_a_fingerprint_is_refused_when_the_item_moved_between_its_reads() -> None:
    world = World()
    fingerprint = InventoryItem.from_document(MUG).fingerprint
    world.upstream.fail_next("replace_item", UpstreamUnavailable("HTTP 503"))
    world.a_sale_during_the_first_wait()
    with pytest.raises(StaleItemFingerprint) as caught:
        await world.update()(
            UpdateItemCommand.parse(STORE, 2501, {"name": "Big mug"}, expected_fingerprint=fingerprint)
        )
    assert caught.value.changed_fields == ("stock",)
    assert world.requests == ["GET 10", "PUT 10", "sale 9", "GET 9"]
    assert world.upstream.items["2501"] == MUG | {"stock": 9}


# -- the read's and the PUT's tokens are taken before the read -----------------------------------


async def test_adjust_with_an_empty_bucket_waits_before_its_read_never_between_read_and_put() -> None:
    world = World(burst=1, per_second=1.0)
    world.a_sale_during_the_first_wait()
    result = await world.adjust()(plus_five())
    assert world.log == ["wait", "sale 9", "GET 9", "PUT 14", "wait", "GET 14"]
    assert world.stock == 14
    assert (result.stock_before, result.stock_after) == (9, 14)


async def test_update_with_an_empty_bucket_waits_before_its_read_never_between_read_and_put() -> None:
    world = World(burst=1, per_second=1.0)
    world.a_sale_during_the_first_wait()
    await world.update()(UpdateItemCommand.parse(STORE, 2501, {"name": "Big mug"}))
    assert world.log == ["wait", "sale 9", "GET 9", "PUT 9", "wait", "GET 9"]
    assert world.upstream.items["2501"] == MUG | {"name": "Big mug", "stock": 9}


async def test_a_simple_adjustment_is_one_get_one_put_and_the_verifying_get() -> None:
    world = World()
    await world.adjust()(plus_five())
    assert world.log == ["GET 10", "PUT 15", "GET 15"]
    assert world.audit.records[-1].attempts == 1
