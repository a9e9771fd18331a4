"""``orders_add_note`` with an idempotency key when the record store fails: the caller's own key, the
right words, and a note that was added is reported added.

With Redis unreachable the error named the record's internal key
(``'tenant:default:store:100001:idempotency:…'``) and said "nothing was created" of a note. And when
the record could not be saved after OrderDesk added the note, the call failed as if nothing happened.
"""

from __future__ import annotations

from typing import Any

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


def _note(records: Records) -> tuple[AddOrderNote, SimulatorState]:
    state = SimulatorState()
    state.faults.rate_limit_enabled = False
    state.add_store(STORE_ID, "k")
    state.seed_samples(STORE_ID, 2)
    clock = FakeClock()
    note = AddOrderNote(
        actions=SimulatedOrderGateway(state), records=records, cache=MemoryOrderCache(clock=clock),
        audit=FakeAuditLog(), clock=clock, lock=MemoryWriteLock(clock=clock),
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
