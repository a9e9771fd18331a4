"""An update's audit ``attempt`` is on disk before its PUT, but appended while the merge base is read.

The attempt record (an append and an fsync: 5 to 19 ms measured with 30 concurrent updates on this
machine) was written between the GET and the PUT, widening the window in which a writer outside
this service can land unseen; the issue asks that nothing wait there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import pytest

from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock
from orderdesk_mcp.domain.commands import UpdateOrderCommand
from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.errors import AuditUnavailable
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.use_cases.audited_write import NOT_SENT, AuditedWrite
from orderdesk_mcp.domain.use_cases.update_order import UpdateOrder
from orderdesk_mcp.ports.audit import AuditRecord
from tests.fake_cache import FakeOrderCache
from tests.fakes import FakeAuditLog, FakeClock, FakeOrderGateway

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="default", store_id="100001")
DOC = {"id": "500001", "email": "old@example.com", "order_items": [{"name": "Mug", "quantity": 1}]}


class SlowDisk(FakeAuditLog):
    """An audit log whose ``attempt`` append takes until ``synced`` is set (its fsync)."""

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events
        self.synced = anyio.Event()
        self.broken = False

    async def append(self, record: AuditRecord) -> None:
        self.events.append(f"append {record.outcome}")
        if record.outcome == "attempt":
            if self.broken:
                raise OSError(28, "No space left on device")
            await self.synced.wait()
        await super().append(record)


class Upstream(FakeOrderGateway):
    """OrderDesk: the disk finishes its fsync while the GET is on the wire."""

    def __init__(self, disk: SlowDisk) -> None:
        super().__init__({"500001": DOC})
        self._disk = disk

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        self._disk.events.append("GET")
        await anyio.lowlevel.checkpoint()
        self._disk.synced.set()
        return await super().fetch(store, order_id)

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        self._disk.events.append("PUT")
        return await super().replace(store, order_id, doc)


def _update(disk: SlowDisk, gateway: Upstream) -> UpdateOrder:
    clock = FakeClock()
    return UpdateOrder(
        gateway=gateway, cache=FakeOrderCache(clock), audit=disk, clock=clock, policy=ConflictPolicy(),
        lock=MemoryWriteLock(clock=clock), audited=AuditedWrite(audit=disk, clock=clock),
    )  # fmt: skip


async def test_the_attempt_is_appended_while_the_merge_base_is_read() -> None:
    events: list[str] = []
    disk = SlowDisk(events)
    update = _update(disk, Upstream(disk))
    await update(UpdateOrderCommand.parse(STORE, "500001", {"email": "new@example.com"}))
    assert events == ["append attempt", "GET", "PUT", "append ok", "append ok"]  # the last: the update's own
    attempt, outcome = disk.records[0], disk.records[1]
    assert (attempt.outcome, outcome.outcome, outcome.attempt_id) == ("attempt", "ok", attempt.attempt_id)


async def test_an_update_with_nothing_to_send_closes_its_attempt_as_not_sent() -> None:
    events: list[str] = []
    disk = SlowDisk(events)
    update = _update(disk, Upstream(disk))
    result = await update(UpdateOrderCommand.parse(STORE, "500001", {"email": "old@example.com"}))
    assert result.changed_fields == ()
    assert events == ["append attempt", "GET", "append error", "append noop"]
    attempt, outcome = disk.records[0], disk.records[1]
    assert (outcome.attempt_id, outcome.error) == (attempt.attempt_id, NOT_SENT)


async def test_an_attempt_that_cannot_be_recorded_sends_nothing() -> None:
    events: list[str] = []
    disk = SlowDisk(events)
    disk.broken = True
    gateway = Upstream(disk)
    with pytest.raises(AuditUnavailable):
        await _update(disk, gateway)(UpdateOrderCommand.parse(STORE, "500001", {"email": "new@example.com"}))
    assert "PUT" not in events
    assert gateway.docs["500001"]["email"] == "old@example.com"


class _Damaged(FakeAuditLog):
    """An audit log whose last line was cut off (a crash mid-append): appending fails, not with OSError."""

    async def append(self, record: AuditRecord) -> None:
        raise ValueError("Input data was truncated")


async def test_an_attempt_that_fails_otherwise_than_with_oserror_is_the_same_clear_error() -> None:
    # Any other error of the append killed its task and reached the caller as an exception group.
    audited = AuditedWrite(audit=_Damaged(), clock=FakeClock())
    sent: list[str] = []

    async def put() -> None:
        sent.append("PUT")

    with pytest.raises(AuditUnavailable):
        async with audited.ahead(STORE, "orders_update", order_id="500001") as pending:
            await pending.send(put)
    assert sent == []


async def test_a_call_cancelled_as_its_attempt_starts_closes_it_and_stays_usable() -> None:
    # Cancelled on entering ahead(), the attempt's task group was left entered: the next cancel scope
    # exit raised "Attempted to exit a cancel scope that isn't the current task's", and the attempt,
    # appended all the same, had no outcome.
    disk = FakeAuditLog()
    audited = AuditedWrite(audit=disk, clock=FakeClock())
    with anyio.CancelScope() as scope:
        scope.cancel()
        async with audited.ahead(STORE, "orders_update", order_id="500001") as pending:
            await pending.send(anyio.lowlevel.checkpoint)
    assert scope.cancelled_caught
    await anyio.sleep(0)  # this task is not left cancelled
    assert [(r.outcome, r.error) for r in disk.records] == [("attempt", None), ("error", NOT_SENT)]
    assert disk.records[0].attempt_id == disk.records[1].attempt_id


class _Yields(FakeAuditLog):
    """An audit log whose append waits its turn (the real one takes a lock and a thread)."""

    async def append(self, record: AuditRecord) -> None:
        await anyio.lowlevel.checkpoint()
        await super().append(record)


async def test_the_outcome_of_a_write_that_landed_is_recorded_even_when_the_call_is_cancelled() -> None:
    disk = _Yields()
    audited = AuditedWrite(audit=disk, clock=FakeClock())
    with anyio.CancelScope() as scope:
        async with audited.ahead(STORE, "orders_update", order_id="500001") as pending:

            async def put_then_cancelled() -> None:
                scope.cancel()  # the call is cancelled just as OrderDesk answers

            await pending.send(put_then_cancelled)
    assert [r.outcome for r in disk.records] == ["attempt", "ok"]
