"""DeleteOrder: confirmation first, then delete, invalidate and audit."""

from __future__ import annotations

import pytest

from orderdesk_mcp.domain.cache_keys import generation_key, order_key
from orderdesk_mcp.domain.commands import DeleteOrderCommand
from orderdesk_mcp.domain.context import CallContext, call_context
from orderdesk_mcp.domain.errors import ConfirmationRequired, OrderNotFound
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.use_cases.delete_order import DeleteOrder
from tests.fake_cache import FakeOrderCache
from tests.fake_writers import RacingOrderGateway
from tests.fakes import FakeAuditLog, FakeClock

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="acme", store_id="100001")


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.gateway = RacingOrderGateway({"500002": {"id": "500002", "email": "a@example.com"}})
        self.cache = FakeOrderCache(self.clock)
        self.audit = FakeAuditLog()
        self.delete = DeleteOrder(gateway=self.gateway, cache=self.cache, audit=self.audit, clock=self.clock)


async def test_without_confirm_nothing_is_deleted_and_the_message_says_how() -> None:
    world = World()
    with pytest.raises(ConfirmationRequired) as caught:
        await world.delete(DeleteOrderCommand.parse(STORE, "500002"))
    assert str(caught.value) == (
        "Nothing was done: deleting order 500002 needs confirmation. "
        "Call orders_delete again with confirm: true to delete it permanently."
    )
    assert "500002" in world.gateway.docs
    assert world.gateway.calls == {}


async def test_a_confirmed_delete_deletes_invalidates_and_audits() -> None:
    world = World()
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
    world = World()
    with pytest.raises(OrderNotFound) as caught:
        await world.delete(DeleteOrderCommand.parse(STORE, "999", confirm=True))
    assert str(caught.value) == "Order 999 was not found in store 100001."
    assert [(r.outcome, r.error) for r in world.audit.records] == [("error", str(caught.value))]
