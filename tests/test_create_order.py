"""CreateOrder: validation before any request, idempotency keys, and reconciliation by source_id."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from orderdesk_mcp.adapters.sqlite_idempotency import SqliteIdempotencyRecords
from orderdesk_mcp.domain.cache_keys import generation_key, idempotency_key
from orderdesk_mcp.domain.commands import CreateOrderCommand
from orderdesk_mcp.domain.errors import (
    IdempotencyMismatch,
    IdempotencyUnavailable,
    InvalidRequest,
    OutcomeUnknown,
    UpstreamRejected,
    UpstreamUnavailable,
)
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.results import CreatedOrder
from orderdesk_mcp.domain.use_cases.create_order import CreateOrder, generated_source_id
from tests.fake_cache import FakeOrderCache
from tests.fake_writers import RacingOrderGateway
from tests.fakes import FakeAuditLog, FakeClock

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="acme", store_id="100001")
NEW: dict[str, Any] = {
    "email": "ada@example.com",
    "shipping": {"first_name": "Ada", "last_name": "Lovelace"},
    "order_items": [{"name": "Mug", "code": "MUG-1", "price": 9.5, "quantity": 1}],
}


class World:
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


def cmd(order: dict[str, Any] = NEW, key: str | None = None) -> CreateOrderCommand:
    return CreateOrderCommand.parse(STORE, order, idempotency_key=key)


async def test_every_missing_or_wrong_field_is_named_before_any_request() -> None:
    world = World()
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
        await world.create(cmd(bad))
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
    world = World()
    order = {"customer": {"company": "Engines Ltd"}, "order_items": [{"name": "x", "delivery_type": "drone"}]}
    with pytest.raises(InvalidRequest) as caught:
        await world.create(cmd(order))
    assert str(caught.value) == (
        "Invalid request: order_items[0].delivery_type must be one of ship, noship, download, future."
    )
    result = await world.create(cmd(order | {"order_items": [{"name": "x", "delivery_type": "noship"}]}))
    assert result.created is True


async def test_a_generated_source_id_comes_from_the_key_and_a_given_one_is_kept() -> None:
    world = World()
    keyed = await world.create(cmd(key="order-42"))
    given = await world.create(cmd(NEW | {"source_id": "SHOP-9"}))
    random_one = await world.create(cmd())
    assert keyed.order.view.source_id == generated_source_id("order-42")
    assert generated_source_id("order-42").startswith("odmcp-")
    assert len(generated_source_id("x")) == 22
    assert given.order.view.source_id == "SHOP-9"
    assert random_one.order.view.source_id.startswith("odmcp-")
    assert world.cache.counters[generation_key(STORE)] == 3  # every create retires cached list pages


async def test_a_repeated_key_replays_the_first_result_without_creating_again() -> None:
    world = World()
    first = await world.create(cmd(key="k"))
    again = await world.create(cmd(key="k"))
    assert (first.created, again.created) == (True, False)
    assert again.order.id == first.order.id
    assert again.order.fingerprint == first.order.fingerprint
    assert len(world.created) == 1
    assert [r.outcome for r in world.audit.records] == ["ok", "replayed"]
    assert {c.field for c in world.audit.records[0].changes} >= {"email", "order_items", "source_id"}


async def test_the_same_key_with_another_body_is_refused() -> None:
    world = World()
    await world.create(cmd(key="k"))
    with pytest.raises(IdempotencyMismatch) as caught:
        await world.create(cmd(NEW | {"email": "b@example.com"}, key="k"))
    assert str(caught.value) == (
        "Idempotency key 'k' was already used for a different order; use a new key for a new order."
    )
    assert len(world.created) == 1


async def test_a_hundred_concurrent_creates_with_one_key_make_one_order() -> None:
    world = World()
    results: list[CreatedOrder] = []

    async def one() -> None:
        results.append(await world.create(cmd(key="same")))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(one)
    assert len(world.created) == 1
    assert (len(results), sum(r.created for r in results)) == (100, 1)
    assert {r.order.id for r in results} == {world.created[0]["id"]}


async def test_a_lost_answer_after_the_create_arrived_is_reconciled_by_source_id() -> None:
    world = World()
    world.gateway.lose_create_answers = 1
    result = await world.create(cmd(key="lost"))
    assert result.created is True
    assert len(world.created) == 1
    assert result.order.id == world.created[0]["id"]
    assert world.gateway.calls == {"create": 1, "list_page": 1}


async def test_a_lost_request_that_never_arrived_is_sent_once_more() -> None:
    world = World()
    world.gateway.lose_create_requests = 1
    result = await world.create(cmd())
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
    world = World({"7": other})
    world.gateway.lose_create_requests = 1
    result = await world.create(cmd(NEW | {"source_id": "SHOP-9"}))
    assert result.order.id != "7"
    assert len(world.created) == 1


async def test_an_unresolved_outcome_leaves_the_key_uncertain_and_the_retry_finds_the_order() -> None:
    world = World()
    world.gateway.lose_create_answers = 1
    world.gateway.fail_next("list_page", UpstreamUnavailable("connection refused"))
    with pytest.raises(OutcomeUnknown) as caught:
        await world.create(cmd(key="flaky"))
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
    retry = await world.create(cmd(key="flaky"))
    assert (retry.created, retry.order.id) == (False, world.created[0]["id"])
    assert len(world.created) == 1
    assert [r.outcome for r in world.audit.records] == ["error", "replayed"]


async def test_a_refused_create_frees_its_key() -> None:
    world = World()
    world.gateway.fail_next("create", UpstreamRejected("Duplicate order"))
    with pytest.raises(UpstreamRejected):
        await world.create(cmd(key="k"))
    assert await world.records.get(idempotency_key(STORE, "k")) is None
    assert (await world.create(cmd(key="k"))).created is True


async def test_a_claim_whose_owner_vanished_is_taken_over_after_the_lease() -> None:
    world = World()
    stale = {"state": "pending", "body": _body(NEW), "since": world.clock.time() - 600}
    await world.records.set(idempotency_key(STORE, "k"), stale, ttl=86_400)
    result = await world.create(cmd(key="k"))
    assert result.created is True
    assert world.gateway.calls == {"list_page": 1, "create": 1}  # looked for it before creating


async def test_a_create_still_in_flight_elsewhere_is_waited_for_then_reported() -> None:
    world = World()
    pending = {"state": "pending", "body": _body(NEW), "since": world.clock.time()}
    await world.records.set(idempotency_key(STORE, "k"), pending, ttl=86_400)
    with pytest.raises(IdempotencyUnavailable) as caught:
        await world.create(cmd(key="k"))
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
    world = World()
    async with SqliteIdempotencyRecords(path=blocker / "idempotency.sqlite3", clock=world.clock) as records:
        create = CreateOrder(
            gateway=world.gateway, cache=world.cache, records=records, audit=world.audit, clock=world.clock
        )
        with pytest.raises(IdempotencyUnavailable) as caught:
            await create(cmd(key="k-9"))
    assert str(caught.value) == (
        "Could not safely use idempotency key 'k-9' (its record store cannot be used right now); "
        "nothing was created. Try again shortly."
    )
    assert world.gateway.calls == {}
