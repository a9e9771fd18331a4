"""Idempotency records keep no order data and no note text, and a replay is the real thing.

A record lives 24 hours in SQLite or Redis. It used to keep the created order (and a note's
text) with card data redacted, and a replay answered with that copy: ``[redacted]`` in place of
ordinary numbers that happen to pass the Luhn check (a 13-digit ``source_id``, an EAN item
code, an Amazon order number in a note), beside the real order's fingerprint. An agent that
copied an item back from the replay wrote ``[redacted]`` into OrderDesk. Now a create's record
keeps only the order id and a replay reads the order from OrderDesk; a note's record keeps no
text and a replay shows the caller's own note (the same text: its hash matched).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.adapters.redis_cache import redis_client_from_url
from orderdesk_mcp.adapters.redis_idempotency import RedisIdempotencyRecords
from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.adapters.sqlite_idempotency import SqliteIdempotencyRecords
from orderdesk_mcp.domain.commands import CreateOrderCommand
from orderdesk_mcp.domain.errors import IdempotentOrderGone, IdempotentOrderUnreadable, UpstreamUnavailable
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.reach_commands import AddNoteCommand
from orderdesk_mcp.domain.use_cases.add_order_note import AddOrderNote
from orderdesk_mcp.domain.use_cases.create_order import CreateOrder
from orderdesk_mcp.ports.idempotency import IdempotencyRecords
from tests.fakes import FakeAuditLog, FakeClock, FakeOrderGateway

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="acme", store_id="100001")
# Card data, and ordinary numbers that pass the Luhn check by chance (the review's examples).
NEW_ORDER: dict[str, Any] = {
    "email": "idem.canary@example.com",
    "source_id": "5580869402848",
    "cc_number": "4111111111111111",
    "cc_exp": "02/2029",
    "shipping": {"first_name": "Ada", "last_name": "C"},
    "order_notes": [{"content": "card 4012888888881881; Amazon order 113-1234567-1234507"}],
    "order_items": [{"name": "Glue", "price": 10, "quantity": 1, "code": "4006381333932"}],
}
NOTE = "card 4012888888881881 cvv 737; Amazon order 113-1234567-1234507"
NOT_KEPT = ("4111111111111111", "4012888888881881", "02/2029", "idem.canary", "4006381333932", "Amazon")


class _Stored:
    def __init__(self, records: IdempotencyRecords, raw: Callable[[], Awaitable[str]]) -> None:
        self.records, self.raw = records, raw


@asynccontextmanager
async def _durable_records(kind: str, tmp_path: Path, redis_url: str, prefix: str) -> AsyncIterator[_Stored]:
    """Real idempotency records, and a way to read every byte they keep."""
    clock = FakeClock()
    if kind == "sqlite":
        path = tmp_path / "idempotency.sqlite3"
        async with SqliteIdempotencyRecords(path=path, clock=clock) as records:

            async def raw() -> str:
                kept = b"".join(p.read_bytes() for p in tmp_path.glob("idempotency.sqlite3*"))
                with sqlite3.connect(path) as db:
                    kept += b"".join(row[0] for row in db.execute("SELECT value FROM idempotency"))
                return kept.decode("latin-1")

            yield _Stored(records, raw)
        return
    client = redis_client_from_url(redis_url)
    try:
        async with RedisIdempotencyRecords(client=client, prefix=prefix) as redis_records:

            async def raw() -> str:
                keys = [key async for key in client.scan_iter(match=prefix + "*")]
                return "".join(v.decode() for v in await client.mget(keys) if isinstance(v, bytes))

            yield _Stored(redis_records, raw)
        leftovers = [key async for key in client.scan_iter(match=prefix + "*")]
        if leftovers:
            await client.delete(*leftovers)
    finally:
        await client.aclose()


def _world(records: IdempotencyRecords) -> tuple[SimulatorState, SimulatedOrderGateway, FakeClock]:
    state = SimulatorState()
    state.faults.rate_limit_enabled = False
    state.add_store(STORE.store_id, "k")
    state.seed_samples(STORE.store_id, 2)
    return state, SimulatedOrderGateway(state), FakeClock()


def _create(records: IdempotencyRecords, gateway: SimulatedOrderGateway, clock: FakeClock) -> CreateOrder:
    cache = MemoryOrderCache(clock=clock)
    return CreateOrder(gateway=gateway, cache=cache, records=records, audit=FakeAuditLog(), clock=clock)


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_a_create_replay_is_the_order_as_orderdesk_holds_it_and_the_record_keeps_none_of_it(
    kind: str, tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    async with _durable_records(kind, tmp_path, redis_url, redis_prefix) as stored:
        state, gateway, clock = _world(stored.records)
        create = _create(stored.records, gateway, clock)
        first = await create(CreateOrderCommand.parse(STORE, NEW_ORDER, idempotency_key="k-1"))
        raw = await stored.raw()
        again = await create(CreateOrderCommand.parse(STORE, NEW_ORDER, idempotency_key="k-1"))
    assert (first.created, again.created) == (True, False)
    assert [secret for secret in NOT_KEPT if secret in raw] == []
    assert first.order.id in raw
    assert again.order.doc == first.order.doc  # whole: no [redacted] in place of ordinary numbers
    assert again.order.fingerprint == first.order.fingerprint
    assert (
        len([o for o in state.orders(STORE.store_id).values() if o.get("source_id") == "5580869402848"]) == 1
    )


async def test_a_create_replay_shows_the_order_as_it_is_now(tmp_path: Path, redis_url: str) -> None:
    async with _durable_records("sqlite", tmp_path, redis_url, "unused:") as stored:
        state, gateway, clock = _world(stored.records)
        create = _create(stored.records, gateway, clock)
        first = await create(CreateOrderCommand.parse(STORE, NEW_ORDER, idempotency_key="k-3"))
        state.orders(STORE.store_id)[first.order.id]["tag_name"] = "vip"  # changed since, outside us
        again = await create(CreateOrderCommand.parse(STORE, NEW_ORDER, idempotency_key="k-3"))
    assert again.order.doc["tag_name"] == "vip"
    assert again.order.fingerprint != first.order.fingerprint


async def test_a_create_replay_of_an_order_deleted_since_says_so(tmp_path: Path, redis_url: str) -> None:
    async with _durable_records("sqlite", tmp_path, redis_url, "unused:") as stored:
        state, gateway, clock = _world(stored.records)
        create = _create(stored.records, gateway, clock)
        first = await create(CreateOrderCommand.parse(STORE, NEW_ORDER, idempotency_key="k-4"))
        del state.orders(STORE.store_id)[first.order.id]
        with pytest.raises(IdempotentOrderGone) as caught:
            await create(CreateOrderCommand.parse(STORE, NEW_ORDER, idempotency_key="k-4"))
    assert str(caught.value) == (
        f"Idempotency key 'k-4' already created order {first.order.id}, which is no longer in OrderDesk "
        "(deleted since); nothing was created. Use a new key to create it again."
    )


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_a_note_replay_is_the_callers_note_and_the_record_keeps_no_text(
    kind: str, tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    async with _durable_records(kind, tmp_path, redis_url, redis_prefix) as stored:
        state, gateway, clock = _world(stored.records)
        add_note = AddOrderNote(
            actions=gateway, records=stored.records, cache=MemoryOrderCache(clock=clock),
            audit=FakeAuditLog(), clock=clock,
        )  # fmt: skip
        order_id = next(iter(state.orders(STORE.store_id)))
        cmd = AddNoteCommand.parse(STORE, order_id, NOTE, idempotency_key="n-1")
        first = await add_note(cmd)
        raw = await stored.raw()
        again = await add_note(cmd)
    assert [
        secret
        for secret in ("4012888888881881", "737", "Amazon")
        if secret in raw.replace(first.fingerprint, "")
    ] == []
    assert again == first
    assert [h["note"] for h in state.history(STORE.store_id, order_id)] == [NOTE]


async def test_a_create_replay_while_orderdesk_is_down_names_the_order_it_made(tmp_path: Path) -> None:
    # A replay reads the order from OrderDesk; when that fails the agent must still learn the order
    # exists (a bare "unavailable" invited a create with a new key), and the audit log must not
    # record the replay as a failed create of the whole body.
    gateway, clock, audit = FakeOrderGateway(), FakeClock(), FakeAuditLog()
    async with _durable_records("sqlite", tmp_path, "unused", "unused:") as stored:
        cache = MemoryOrderCache(clock=clock)
        create = CreateOrder(gateway=gateway, cache=cache, records=stored.records, audit=audit, clock=clock)
        first = await create(CreateOrderCommand.parse(STORE, NEW_ORDER, idempotency_key="k-5"))
        gateway.fail_next("fetch", UpstreamUnavailable("HTTP 503"))
        with pytest.raises(IdempotentOrderUnreadable) as caught:
            await create(CreateOrderCommand.parse(STORE, NEW_ORDER, idempotency_key="k-5"))
    assert str(caught.value) == (
        f"Idempotency key 'k-5' already created order {first.order.id}; it could not be read from OrderDesk "
        "just now (OrderDesk is unavailable right now (HTTP 503); try again in a minute). Do not create it "
        "again: read it with orders_get in a moment."
    )
    replay = audit.records[-1]
    assert (replay.order_id, replay.outcome, replay.changes) == (first.order.id, "error", ())
    assert len(gateway.writes) == 1
