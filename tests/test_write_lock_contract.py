"""The WriteLock contract, run against the in-process lock and the Redis lock (real Redis) alike,
then what only the Redis lock promises: holder-only release, leases, and life without Redis."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
import pytest
import redis.asyncio

from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock
from orderdesk_mcp.adapters.redis_cache import redis_client_from_url
from orderdesk_mcp.adapters.redis_write_lock import RedisWriteLock
from orderdesk_mcp.domain.context import CallContext, call_context
from orderdesk_mcp.domain.errors import WriteInProgress
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.ports.write_lock import WriteLock
from tests.conftest import RedisServer, patient_redis
from tests.fakes import FakeClock

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="acme", store_id="100001")
OTHER_STORE = StoreRef(tenant="acme", store_id="100002")

_memory: WriteLock = MemoryWriteLock(clock=FakeClock())


@pytest.fixture
async def client(redis_url: str, redis_prefix: str) -> AsyncIterator[redis.asyncio.Redis]:
    # Patient: a slow answer must not become the (tested) fallback to the in-process lock alone,
    # which would let two "processes" overlap.
    async with patient_redis(redis_url, redis_prefix) as client:
        yield client


class LockUnderTest:
    def __init__(self, lock: WriteLock, clock: FakeClock) -> None:
        self.lock = lock
        self.clock = clock

    def hold(self, store: StoreRef, resource: str) -> AbstractAsyncContextManager[None]:
        return self.lock.hold(store, resource)


@pytest.fixture(params=["memory", "redis"])
async def lock(
    request: pytest.FixtureRequest, client: redis.asyncio.Redis, redis_prefix: str
) -> AsyncIterator[LockUnderTest]:
    clock = FakeClock()
    if request.param == "memory":
        async with MemoryWriteLock(clock=clock) as memory:
            yield LockUnderTest(memory, clock)
        return
    async with RedisWriteLock(client=client, clock=clock, prefix=redis_prefix, op_timeout=5.0) as shared:
        yield LockUnderTest(shared, clock)


def deadline_in(seconds: float, clock: FakeClock | None = None) -> CallContext:
    now = clock.monotonic() if clock is not None else FakeClock().monotonic()
    return CallContext(correlation_id="c", deadline=now + seconds, timeout=seconds)


async def most_holders_at_once(lock: WriteLock, writers: int, *, within: float) -> tuple[int, int]:
    """``writers`` tasks hold order:1 of STORE at once: (the most inside together, those left inside)."""
    inside, most = 0, 0

    async def writer() -> None:
        nonlocal inside, most
        async with lock.hold(STORE, "order:1"):
            inside += 1
            most = max(most, inside)
            await anyio.lowlevel.checkpoint()
            inside -= 1

    with anyio.fail_after(within):
        async with anyio.create_task_group() as tasks:
            for _ in range(writers):
                tasks.start_soon(writer)
    return most, inside


async def test_holders_of_one_resource_never_overlap(lock: LockUnderTest) -> None:
    assert await most_holders_at_once(lock.lock, 20, within=5) == (1, 0)


@asynccontextmanager
async def held_by_another_task(lock: LockUnderTest, resource: str) -> AsyncIterator[None]:
    """``resource`` of STORE held by another task for as long as the block runs (5 s at most)."""
    held, done = anyio.Event(), anyio.Event()

    async def holder() -> None:
        async with lock.hold(STORE, resource):
            held.set()
            await done.wait()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(holder)
            await held.wait()
            try:
                yield
            finally:
                done.set()


async def test_other_resources_and_other_stores_do_not_wait(lock: LockUnderTest) -> None:
    async with held_by_another_task(lock, "order:1"):
        with anyio.fail_after(1):  # a wait for order:1 of STORE would never end
            async with lock.hold(STORE, "order:2"), lock.hold(OTHER_STORE, "order:1"):
                pass


async def test_two_tenants_on_one_orderdesk_store_share_its_locks(lock: LockUnderTest) -> None:
    # Regression: locks were per tenant and store, so two tenants the operator configured on one
    # OrderDesk store updated the same order at once and one update was lost.
    other_tenant = StoreRef(tenant="globex", store_id=STORE.store_id)
    async with held_by_another_task(lock, "order:1"):
        with call_context(deadline_in(0.05, lock.clock)), pytest.raises(WriteInProgress):
            async with lock.hold(other_tenant, "order:1"):
                pytest.fail("a second tenant of the store was given the lock")


async def test_a_lock_held_past_the_deadline_is_a_write_in_progress_error(lock: LockUnderTest) -> None:
    async with held_by_another_task(lock, "order:7"):
        ctx = deadline_in(0.05, lock.clock)
        with call_context(ctx), pytest.raises(WriteInProgress) as caught:
            async with lock.hold(STORE, "order:7"):
                pytest.fail("the lock was given to a second holder")
    assert str(caught.value) == "Another agent is changing order 7 right now; try again in a moment."


async def test_the_lock_is_released_when_the_holder_fails(lock: LockUnderTest) -> None:
    with pytest.raises(ValueError, match="boom"):
        async with lock.hold(STORE, "order:1"):
            raise ValueError("boom")
    with anyio.fail_after(5), call_context(deadline_in(0.05, lock.clock)):
        async with lock.hold(STORE, "order:1"):
            pass


async def test_the_wait_for_a_held_lock_is_recorded_in_the_call_stats(lock: LockUnderTest) -> None:
    ctx = CallContext(correlation_id="c")
    released = anyio.Event()

    async def holder(started: anyio.Event) -> None:
        async with lock.hold(STORE, "order:1"):
            started.set()
            await anyio.sleep(0.01)
            lock.clock.advance(0.25)  # the time the waiter spends, on the clock port
        released.set()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            started = anyio.Event()
            tasks.start_soon(holder, started)
            await started.wait()
            with call_context(ctx):
                async with lock.hold(STORE, "order:1"):
                    assert released.is_set()
    assert ctx.stats.lock_wait_seconds > 0


class TickingClock(FakeClock):
    """Every reading is 1 ms after the last, as on a real clock across a Redis round trip."""

    def monotonic(self) -> float:
        self.advance(0.001)
        return super().monotonic()


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_a_free_lock_is_not_counted_as_a_wait(
    kind: str, client: redis.asyncio.Redis, redis_prefix: str
) -> None:
    # The Redis lock counted its own SET round trip, so every write with Redis configured showed
    # up in orderdesk_write_lock_waits_total as having waited for another writer.
    clock = TickingClock()
    subject: WriteLock
    if kind == "memory":
        subject = MemoryWriteLock(clock=clock)
    else:
        subject = RedisWriteLock(client=client, clock=clock, prefix=redis_prefix, op_timeout=5.0)
    ctx = CallContext(correlation_id="c")
    with call_context(ctx):
        async with subject.hold(STORE, "order:1"):
            pass
    assert ctx.stats.lock_wait_seconds == 0


# What only the shared lock promises.


async def test_only_the_holder_releases_its_lock(client: redis.asyncio.Redis, redis_prefix: str) -> None:
    lock = RedisWriteLock(client=client, clock=FakeClock(), prefix=redis_prefix)
    key = lock.key(STORE, "order:1")
    async with lock.hold(STORE, "order:1"):
        # Our lease ran out and another process took the lock: our release must not free it.
        await client.set(key, b"someone-else", px=10_000)
    assert await client.get(key) == b"someone-else"


async def test_a_live_holder_keeps_its_lock_past_the_lease(
    client: redis.asyncio.Redis, redis_prefix: str
) -> None:
    lock = RedisWriteLock(client=client, clock=FakeClock(), prefix=redis_prefix, lease=9.0)
    key = lock.key(STORE, "order:1")
    async with lock, lock.hold(STORE, "order:1"):
        token = await client.get(key)
        await client.pexpire(key, 500)  # nearly run out
        with anyio.fail_after(5):
            while int(await client.pttl(key)) <= 500:
                await anyio.lowlevel.checkpoint()  # the renewal runs on the (fake) clock
        assert await client.get(key) == token
    assert await client.get(key) is None


async def test_a_dead_holders_lock_expires_with_its_lease(
    client: redis.asyncio.Redis, redis_prefix: str
) -> None:
    lock = RedisWriteLock(client=client, clock=FakeClock(), prefix=redis_prefix)
    key = lock.key(STORE, "order:1")
    await client.set(key, b"a-process-that-died", px=30)  # it will never release or renew
    with anyio.fail_after(5):
        async with lock.hold(STORE, "order:1"):
            assert await client.get(key) != b"a-process-that-died"


async def test_two_processes_sharing_redis_are_serialized(redis_url: str, redis_prefix: str) -> None:
    first, second = (redis_client_from_url(redis_url, timeout=5.0) for _ in range(2))
    try:
        # Two adapters with their own clients stand for two processes: no in-process lock is shared.
        locks = [
            RedisWriteLock(client=c, clock=FakeClock(), prefix=redis_prefix, op_timeout=5.0)
            for c in (first, second)
        ]
        inside, most = 0, 0

        async def writer(lock: RedisWriteLock) -> None:
            nonlocal inside, most
            async with lock.hold(STORE, "order:1"):
                inside += 1
                most = max(most, inside)
                await anyio.sleep(0.001)
                inside -= 1

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tasks:
                for n in range(20):
                    tasks.start_soon(writer, locks[n % 2])
        assert most == 1
    finally:
        await first.aclose()
        await second.aclose()


async def test_without_redis_writers_are_serialized_in_process_with_one_warning(
    private_redis: RedisServer, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = redis_client_from_url(private_redis.url)
    private_redis.stop()
    try:
        lock = RedisWriteLock(client=client, clock=FakeClock(), prefix=redis_prefix)
        caplog.set_level(logging.WARNING, logger="orderdesk_mcp.adapters.redis_write_lock")
        most, _ = await most_holders_at_once(lock, 5, within=10)
        assert most == 1
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert warnings[0].startswith("Redis write lock unavailable (")
        assert warnings[0].endswith(
            "writes are serialized within this process only until Redis answers again"
        )
    finally:
        await client.aclose()


async def test_an_error_inside_the_lifespan_passes_through_the_redis_lock_unwrapped(
    client: redis.asyncio.Redis, redis_prefix: str
) -> None:
    with pytest.raises(ValueError, match="the tool failed"):
        async with RedisWriteLock(client=client, clock=FakeClock(), prefix=redis_prefix):
            raise ValueError("the tool failed")
