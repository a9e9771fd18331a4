"""``orders_add_note`` with an idempotency key when the record store fails: the caller's own key, the
right words, and a note that was added is reported added.

With Redis unreachable the error named the record's internal key
(``'tenant:default:store:100001:idempotency:…'``) and said "nothing was created" of a note. And when
the record could not be saved after OrderDesk added the note, the call failed as if nothing happened.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock
from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.domain.errors import IdempotencyUnavailable
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.reach_commands import AddNoteCommand
from orderdesk_mcp.domain.use_cases.add_order_note import AddOrderNote
from tests.fakes import FakeAuditLog, FakeClock

pytestmark = pytest.mark.anyio

STORE_ID = "100001"
STORE = StoreRef(tenant="default", store_id=STORE_ID)


class Records(MemoryOrderCache):
    """Idempotency records that fail as the Redis adapter does: naming the internal record key."""

    failing: set[str] = set()

    def _check(self, op: str, key: str) -> None:
        if op in self.failing:
            raise IdempotencyUnavailable(key, "its record store cannot be reached right now")

    async def add(self, key: str, value: Any, *, ttl: float) -> bool:
        self._check("add", key)
        return await super().add(key, value, ttl=ttl)

    async def set(self, key: str, value: Any, *, ttl: float) -> None:
        self._check("set", key)
        await super().set(key, value, ttl=ttl)


def _note(records: Records, lock: MemoryWriteLock | None = None) -> tuple[AddOrderNote, SimulatorState]:
    state = SimulatorState()
    state.faults.rate_limit_enabled = False
    state.add_store(STORE_ID, "k")
    state.seed_samples(STORE_ID, 2)
    clock = FakeClock()
    note = AddOrderNote(
        actions=SimulatedOrderGateway(state), records=records, cache=MemoryOrderCache(clock=clock),
        audit=FakeAuditLog(), clock=clock, lock=lock or MemoryWriteLock(clock=clock),
    )  # fmt: skip
    return note, state


async def test_an_unreachable_record_store_names_the_callers_key_and_says_no_note_was_added() -> None:
    records = Records(clock=FakeClock())
    records.failing = {"add"}
    note, state = _note(records)
    with pytest.raises(IdempotencyUnavailable) as caught:
        await note(AddNoteCommand.parse(STORE, "500001", "hi", idempotency_key="n1"))
    assert str(caught.value) == (
        "Could not safely use idempotency key 'n1' (its record store cannot be reached right now); "
        "no note was added. Try again shortly."
    )
    assert state.history(STORE_ID, "500001") == []


async def test_a_note_added_whose_record_could_not_be_saved_is_reported_added() -> None:
    records = Records(clock=FakeClock())
    records.failing = {"set"}
    note, state = _note(records)
    result = await note(AddNoteCommand.parse(STORE, "500001", "hi", idempotency_key="n1"))
    assert (result.note, result.history_count) == ("hi", 1)
    assert [h["note"] for h in state.history(STORE_ID, "500001")] == ["hi"]
    records.failing = set()
    with pytest.raises(IdempotencyUnavailable) as caught:  # a repeat is refused, never a second note
        await note(AddNoteCommand.parse(STORE, "500001", "hi", idempotency_key="n1"))
    assert "a note with this key is still being added" in str(caught.value)
    assert len(state.history(STORE_ID, "500001")) == 1


async def test_a_note_stopped_while_it_waits_for_the_order_lock_leaves_its_key_free() -> None:
    # The key was claimed before the lock was taken: a call cancelled while it waited (its deadline, the
    # client) marked the key "not confirmed" for a note never sent, and a retry was refused.
    records = Records(clock=FakeClock())
    note, state = _note(records)
    lock = note._lock
    assert lock is not None
    release = anyio.Event()

    async def update_holding_the_order() -> None:
        async with lock.hold(STORE, "order:500001"):
            await release.wait()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(update_holding_the_order)
        await anyio.wait_all_tasks_blocked()
        with anyio.move_on_after(0.05):
            await note(AddNoteCommand.parse(STORE, "500001", "hi", idempotency_key="n1"))
        release.set()
    assert state.history(STORE_ID, "500001") == []
    result = await note(AddNoteCommand.parse(STORE, "500001", "hi", idempotency_key="n1"))
    assert (result.note, result.history_count) == ("hi", 1)
