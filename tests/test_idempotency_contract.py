"""The IdempotencyRecords contract, run against the SQLite file and a real Redis alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from orderdesk_mcp.adapters.redis_cache import redis_client_from_url
from orderdesk_mcp.adapters.redis_idempotency import RedisIdempotencyRecords
from orderdesk_mcp.adapters.sqlite_idempotency import SqliteIdempotencyRecords
from orderdesk_mcp.domain.errors import IdempotencyUnavailable
from orderdesk_mcp.ports.idempotency import IdempotencyRecords
from tests.conftest import RedisServer
from tests.fakes import FakeClock

pytestmark = pytest.mark.anyio

_sqlite: IdempotencyRecords = SqliteIdempotencyRecords(path=Path("unused"), clock=FakeClock())


class RecordsUnderTest:
    """Records plus a way to let time pass: the fake clock for SQLite, real time for Redis."""

    def __init__(self, records: IdempotencyRecords, clock: FakeClock | None) -> None:
        self.records = records
        self._clock = clock

    async def elapse(self, seconds: float) -> None:
        if self._clock is not None:
            self._clock.advance(seconds)
        else:
            await anyio.sleep(seconds)


@pytest.fixture(params=["sqlite", "redis"])
async def subject(
    request: pytest.FixtureRequest, redis_url: str, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[RecordsUnderTest]:
    if request.param == "sqlite":
        clock = FakeClock()
        async with SqliteIdempotencyRecords(path=tmp_path / "idempotency.sqlite3", clock=clock) as records:
            yield RecordsUnderTest(records, clock)
        return
    client = redis_client_from_url(redis_url)
    try:
        async with RedisIdempotencyRecords(client=client, prefix=redis_prefix) as redis_records:
            yield RecordsUnderTest(redis_records, None)
        leftovers = [key async for key in client.scan_iter(match=redis_prefix + "*")]
        if leftovers:
            await client.delete(*leftovers)
    finally:
        await client.aclose()


RECORD = {"state": "done", "body": "abc", "order": {"id": "500001", "items": [1, 2.5, None, True]}}


async def test_an_absent_key_reads_as_none(subject: RecordsUnderTest) -> None:
    assert await subject.records.get("k:absent") is None


async def test_a_set_record_reads_back_equal(subject: RecordsUnderTest) -> None:
    await subject.records.set("k:1", RECORD, ttl=60)
    assert await subject.records.get("k:1") == RECORD


async def test_only_the_first_add_claims_a_key(subject: RecordsUnderTest) -> None:
    first = await subject.records.add("k:claim", {"state": "pending"}, ttl=60)
    second = await subject.records.add("k:claim", {"state": "other"}, ttl=60)
    assert (first, second) == (True, False)
    assert await subject.records.get("k:claim") == {"state": "pending"}


async def test_concurrent_adds_give_exactly_one_claim(subject: RecordsUnderTest) -> None:
    wins: list[bool] = []

    async def claim(n: int) -> None:
        wins.append(await subject.records.add("k:race", {"n": n}, ttl=60))

    async with anyio.create_task_group() as tg:
        for n in range(8):
            tg.start_soon(claim, n)
    assert sorted(wins) == [False] * 7 + [True]


async def test_set_overwrites_a_claimed_record(subject: RecordsUnderTest) -> None:
    await subject.records.add("k:over", {"state": "pending"}, ttl=60)
    await subject.records.set("k:over", RECORD, ttl=60)
    assert await subject.records.get("k:over") == RECORD


async def test_delete_frees_a_key_for_a_new_claim(subject: RecordsUnderTest) -> None:
    await subject.records.add("k:del", {"state": "pending"}, ttl=60)
    await subject.records.delete("k:del", "k:never-there")
    assert await subject.records.get("k:del") is None
    assert await subject.records.add("k:del", {"state": "again"}, ttl=60) is True


async def test_a_record_expires_after_its_ttl_and_can_be_claimed_again(subject: RecordsUnderTest) -> None:
    await subject.records.add("k:ttl", {"state": "pending"}, ttl=0.05)
    await subject.elapse(0.2)
    assert await subject.records.get("k:ttl") is None
    assert await subject.records.add("k:ttl", {"state": "new"}, ttl=60) is True


async def test_a_record_lives_until_its_ttl(subject: RecordsUnderTest) -> None:
    await subject.records.set("k:live", RECORD, ttl=30)
    await subject.elapse(0.05)
    assert await subject.records.get("k:live") == RECORD


async def test_sqlite_records_survive_reopening_the_file(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "idempotency.sqlite3"
    async with SqliteIdempotencyRecords(path=path, clock=clock) as first:
        assert await first.add("k", RECORD, ttl=3600) is True
    async with SqliteIdempotencyRecords(path=path, clock=clock) as second:
        assert await second.get("k") == RECORD
        assert await second.add("k", {"state": "pending"}, ttl=3600) is False


async def test_sqlite_ttl_follows_the_wall_clock_across_a_reopen(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "idempotency.sqlite3"
    async with SqliteIdempotencyRecords(path=path, clock=clock) as first:
        await first.set("k", RECORD, ttl=100)
    clock.advance(101)
    async with SqliteIdempotencyRecords(path=path, clock=clock) as second:
        assert await second.get("k") is None


async def test_the_sqlite_file_is_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "data" / "idempotency.sqlite3"
    async with SqliteIdempotencyRecords(path=path, clock=FakeClock()) as records:
        await records.set("k", RECORD, ttl=10)
    assert path.stat().st_mode & 0o077 == 0


async def test_redis_down_is_unavailable_never_absent(private_redis: RedisServer, redis_prefix: str) -> None:
    client = redis_client_from_url(private_redis.url)
    try:
        records = RedisIdempotencyRecords(client=client, prefix=redis_prefix)
        await records.set("k", RECORD, ttl=60)
        private_redis.stop()
        for attempt in (records.get("k"), records.add("k", RECORD, ttl=60), records.set("k", RECORD, ttl=1)):
            with pytest.raises(IdempotencyUnavailable) as caught:
                await attempt
            assert str(caught.value) == (
                "Could not safely use idempotency key 'k' (its record store cannot be reached right now); "
                "nothing was created. Try again shortly."
            )
    finally:
        await client.aclose()


async def test_sqlite_records_create_no_file_until_first_used(tmp_path: Path) -> None:
    path = tmp_path / "idempotency.sqlite3"
    async with SqliteIdempotencyRecords(path=path, clock=FakeClock()) as records:
        assert not path.exists()
        assert await records.get("k") is None
    assert path.exists()


async def test_sqlite_records_that_cannot_be_opened_are_unavailable_never_absent(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    async with SqliteIdempotencyRecords(path=blocker / "idempotency.sqlite3", clock=FakeClock()) as records:
        with pytest.raises(IdempotencyUnavailable) as caught:
            await records.add("k", RECORD, ttl=60)
    assert str(caught.value) == (
        "Could not safely use idempotency key 'k' (its record store cannot be used right now); "
        "nothing was created. Try again shortly."
    )
