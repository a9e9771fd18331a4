"""The Redis lock under faults on the way to Redis: a late answer, a link that goes down, a
cancelled call, a lease that ran out. Real Redis throughout; the faults come from a loopback
proxy standing for one replica's network path, so the adapter meets them where it would.

Each case was a confirmed bug: two replicas writing one order at once (a failed poll taken for
"Redis is down" while another replica held the lock), a lock nobody held that kept every
replica out for a whole lease (a SET that landed without its answer), and a lost lease nobody
heard of.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
import redis.asyncio

from orderdesk_mcp.adapters.redis_cache import redis_client_from_url
from orderdesk_mcp.adapters.redis_write_lock import RedisWriteLock
from orderdesk_mcp.domain.context import CallContext, call_context
from orderdesk_mcp.domain.errors import WriteInProgress
from orderdesk_mcp.domain.order import StoreRef
from tests.conftest import RedisServer, patient_redis
from tests.fakes import FakeClock

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="acme", store_id="100001")
BUSY = "Another agent is changing order 1 right now; try again in a moment."
OP_TIMEOUT = 0.25  # the replica under test gives up on a Redis answer after this (real) time
LATE = 0.75  # a late answer: well past OP_TIMEOUT


@dataclass
class Fault:
    """What happens to the ``nth`` request of ``command`` from now on (1 = the next one)."""

    command: bytes
    nth: int = 1
    before: Callable[[], Awaitable[object]] | None = None  # run before the request goes through
    late: float = 0.0  # its answer is held back this long...
    cut: bool = False  # ...or the link goes down instead: connections closed, new ones refused
    reset: bool = False  # ...or Redis runs it and this one connection drops before the answer


class SlowLink:
    """A TCP proxy on loopback between one replica's Redis client and Redis, with one fault
    armed at a time, and every answer held back ``slow`` seconds while that is set."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()
        self._fault: Fault | None = None
        self._seen = 0
        self.slow = 0.0
        self.url = ""

    def arm(self, fault: Fault) -> None:
        self._fault, self._seen = fault, 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.url = f"redis://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/0"

    def cut(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.transport.abort()

    async def stop(self) -> None:
        self.cut()
        for pump in self._pumps:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _relay(self, from_client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        from_redis, to_redis = await asyncio.open_connection(*self._upstream)
        self._writers.update((to_client, to_redis))
        late = [0.0]  # for the next answer on this connection
        pumps = (
            self._requests(from_client, to_redis, late, to_client),
            self._answers(from_redis, to_client, late),
        )
        for pump in pumps:
            task = asyncio.ensure_future(pump)
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _requests(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        late: list[float],
        client: asyncio.StreamWriter,
    ) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            while data := await source.read(65536):
                fault = self._fault
                if fault is not None and b"$%d\r\n%s\r\n" % (len(fault.command), fault.command) in data:
                    self._seen += 1
                    if self._seen == fault.nth:
                        self._fault = None
                        if fault.before is not None:
                            await fault.before()
                        if fault.cut:
                            self.cut()
                            return
                        if fault.reset:
                            late[0] = 60.0  # its answer is held back, then dropped with the link
                            sink.write(data)
                            await sink.drain()
                            await asyncio.sleep(0.05)  # Redis has run it by now
                            sink.transport.abort()
                            client.transport.abort()
                            return
                        late[0] = fault.late
                sink.write(data)
                await sink.drain()
        sink.close()

    async def _answers(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, late: list[float]
    ) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            while data := await source.read(65536):
                delay, late[0] = late[0] or self.slow, 0.0
                if delay:
                    await asyncio.sleep(delay)
                sink.write(data)
                await sink.drain()
        sink.close()


@pytest.fixture
def server_url(request: pytest.FixtureRequest, redis_url: str) -> str:
    """The session's Redis, or with ``indirect`` "fresh" one of the test's own (no scripts cached)."""
    if getattr(request, "param", None) == "fresh":
        server: RedisServer = request.getfixturevalue("private_redis")
        return server.url
    return redis_url


@pytest.fixture
async def admin(server_url: str, redis_prefix: str) -> AsyncIterator[redis.asyncio.Redis]:
    """A patient client straight to Redis: it plays the other replica and inspects the key."""
    async with patient_redis(server_url, redis_prefix) as client:
        yield client


@pytest.fixture
async def link(server_url: str) -> AsyncIterator[SlowLink]:
    proxy = SlowLink(server_url)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


@pytest.fixture
def clock() -> FakeClock:
    """The replica's clock: its polls sleep on it (instantly) and its deadlines are read on it."""
    return FakeClock()


@pytest.fixture(params=["entered", "not-entered"])
async def replica(
    request: pytest.FixtureRequest, link: SlowLink, redis_prefix: str, clock: FakeClock
) -> AsyncIterator[RedisWriteLock]:
    """The replica under test: its Redis is behind the link; its clock is fake (deadlines, polls).

    Entered, as the server's lifespan enters it, it releases in the background; not entered,
    before the block ends. Either way no lock may be left behind.
    """
    client = redis_client_from_url(link.url, timeout=5.0)
    try:
        await client.ping()  # connected before any fault is armed
        lock = RedisWriteLock(client=client, clock=clock, prefix=redis_prefix, op_timeout=OP_TIMEOUT)
        if request.param == "not-entered":
            yield lock
            return
        async with lock:
            yield lock
    finally:
        await client.aclose()


async def released(admin: redis.asyncio.Redis, key: str) -> bool:
    """Whether ``key`` is gone, once a release in the background had its op_timeout to land."""
    with anyio.move_on_after(OP_TIMEOUT * 2):
        while await admin.exists(key):
            await anyio.sleep(0.001)
    return not await admin.exists(key)


def deadline_in(seconds: float, clock: FakeClock) -> CallContext:
    return CallContext(correlation_id="c", deadline=clock.monotonic() + seconds, timeout=seconds)


@pytest.mark.parametrize(
    "fault",
    [Fault(b"EVAL", nth=2, late=LATE), Fault(b"EVAL", nth=2, cut=True)],
    ids=["one-poll-answered-late", "redis-gone-while-waiting"],
)
async def test_a_failed_poll_while_another_replica_holds_the_lock_is_no_licence_to_write(
    fault: Fault, replica: RedisWriteLock, clock: FakeClock, link: SlowLink, admin: redis.asyncio.Redis
) -> None:
    # The first poll finds the lock held; a later one fails. The holder may still be writing, so
    # the wait goes on to the deadline, however many polls fail, and ends in the usual error.
    key = replica.key(STORE, "order:1")
    await admin.set(key, b"another-replica", px=10_000)
    link.arm(fault)
    with (
        anyio.fail_after(5),
        call_context(deadline_in(0.5, clock)),
        pytest.raises(WriteInProgress) as caught,
    ):
        async with replica.hold(STORE, "order:1"):
            pytest.fail("wrote while another replica held the lock")
    assert str(caught.value) == BUSY
    assert await admin.get(key) == b"another-replica"


async def test_a_lock_our_own_resent_set_finds_taken_is_recognized_as_ours(
    replica: RedisWriteLock, clock: FakeClock, link: SlowLink, admin: redis.asyncio.Redis
) -> None:
    # redis-py re-sends a command once after a dropped connection: the SET NX ran, its answer was
    # lost, and the re-sent one finds the key taken, by our own token. That read as another
    # replica's lock: the write waited to its deadline and the key stayed for its whole lease.
    key = replica.key(STORE, "order:1")
    link.arm(Fault(b"EVAL", reset=True))
    with anyio.fail_after(5), call_context(deadline_in(0.5, clock)):
        async with replica.hold(STORE, "order:1"):
            assert await admin.get(key) is not None
    assert await released(admin, key)


async def test_a_later_poll_the_client_re_sent_finds_our_own_token_and_takes_the_lock(
    replica: RedisWriteLock, clock: FakeClock, link: SlowLink, admin: redis.asyncio.Redis
) -> None:
    # Another replica holds the lock and lets go just as our second poll lands; that poll's answer
    # is lost and redis-py re-sends it. A SET NX re-sent found our own token and read "taken": the
    # write waited to its deadline and our token stayed for its whole lease (found in review).
    key = replica.key(STORE, "order:1")
    await admin.set(key, b"another-replica", px=10_000)
    link.arm(Fault(b"EVAL", nth=2, reset=True, before=lambda: admin.delete(key)))
    with anyio.fail_after(5), call_context(deadline_in(0.5, clock)):
        async with replica.hold(STORE, "order:1"):
            held = await admin.get(key)
    assert held not in (None, b"another-replica")
    assert await released(admin, key)


async def test_an_unanswered_ownership_check_is_made_again_rather_than_read_as_not_ours(
    replica: RedisWriteLock, clock: FakeClock, link: SlowLink, admin: redis.asyncio.Redis
) -> None:
    # As above, but the one check of our token (the renew script) is answered after op_timeout: that
    # read as "not ours", the check was never made again, the write waited to its deadline and our
    # token stayed for its whole lease.
    key = replica.key(STORE, "order:1")

    async def then_a_late_check() -> None:
        link.arm(Fault(b"EVAL", late=LATE))

    link.arm(Fault(b"EVAL", reset=True, before=then_a_late_check))
    with anyio.fail_after(5), call_context(deadline_in(0.5, clock)):
        async with replica.hold(STORE, "order:1"):
            pass
    assert await released(admin, key)


async def test_a_lock_taken_by_a_set_whose_answer_was_lost_is_released_after_the_write(
    replica: RedisWriteLock, clock: FakeClock, link: SlowLink, admin: redis.asyncio.Redis
) -> None:
    # The SET landed but its answer came after op_timeout: Redis looked down, so the write went
    # ahead on the in-process lock, and the token it left kept every replica out for a lease.
    key = replica.key(STORE, "order:1")
    link.arm(Fault(b"EVAL", late=LATE))
    with anyio.fail_after(5), call_context(deadline_in(5, clock)):
        async with replica.hold(STORE, "order:1"):
            pass
    assert await released(admin, key)


async def test_a_lock_taken_by_a_set_whose_answer_was_lost_while_waiting_is_recognized_as_ours(
    replica: RedisWriteLock, clock: FakeClock, link: SlowLink, admin: redis.asyncio.Redis
) -> None:
    # The other replica lets go just as our poll lands; that poll's answer is lost, and every
    # later poll finds the lock held: by our own token, not by another writer.
    key = replica.key(STORE, "order:1")
    await admin.set(key, b"another-replica", px=10_000)
    link.arm(Fault(b"EVAL", nth=2, before=lambda: admin.delete(key), late=LATE))
    with anyio.fail_after(5), call_context(deadline_in(5, clock)):
        async with replica.hold(STORE, "order:1"):
            assert await admin.get(key) not in (None, b"another-replica")
    assert await released(admin, key)


async def test_a_call_cancelled_while_its_set_is_in_flight_leaves_no_lock_behind(
    replica: RedisWriteLock, clock: FakeClock, link: SlowLink, admin: redis.asyncio.Redis
) -> None:
    # The agent cancelled the call (or its deadline passed) between the SET and its answer.
    key = replica.key(STORE, "order:1")
    link.arm(Fault(b"EVAL", late=LATE))
    with anyio.fail_after(5), call_context(deadline_in(5, clock)):
        with anyio.move_on_after(OP_TIMEOUT / 2) as cancelled:
            async with replica.hold(STORE, "order:1"):
                pytest.fail("wrote although the call was cancelled")
        assert cancelled.cancelled_caught
    assert await released(admin, key)


@pytest.mark.parametrize("server_url", ["fresh"], indirect=True)
async def test_a_call_cancelled_on_a_slow_link_leaves_no_lock_behind(
    replica: RedisWriteLock, clock: FakeClock, link: SlowLink, admin: redis.asyncio.Redis
) -> None:
    # Every answer comes in time, only slowly. Cut off mid-SET, the release had to reconnect
    # first (redis-py drops a connection whose answer it stopped waiting for), and with its
    # script not yet cached on a fresh Redis it took more round trips again: more than
    # op_timeout, so the lock stayed for its whole lease.
    key = replica.key(STORE, "order:1")
    link.slow = OP_TIMEOUT * 0.6  # in time, but three round trips are not
    with anyio.fail_after(5), call_context(deadline_in(5, clock)):
        with anyio.move_on_after(OP_TIMEOUT / 5) as cancelled:
            async with replica.hold(STORE, "order:1"):
                pytest.fail("wrote although the call was cancelled")
        assert cancelled.cancelled_caught
    link.slow = 0.0
    assert await released(admin, key)


async def test_a_renewal_that_finds_the_lease_lost_warns_once(
    admin: redis.asyncio.Redis, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="orderdesk_mcp.adapters.redis_write_lock")
    lock = RedisWriteLock(client=admin, clock=FakeClock(), prefix=redis_prefix, lease=9.0)
    key = lock.key(STORE, "order:1")

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]

    with anyio.fail_after(1):
        async with lock, lock.hold(STORE, "order:1"):
            await admin.pexpire(key, 500)
            while int(await admin.pttl(key)) <= 500:
                await anyio.sleep(0.001)  # renewed (on the fake clock): a held lease is no warning
            assert warnings() == []
            # This process stalled past its lease, and another took the lock.
            await admin.set(key, b"another-replica", px=10_000)
            while not warnings():
                await anyio.sleep(0.001)
            await anyio.sleep(0.02)  # renewal rounds that would warn again
    assert warnings() == [
        f"Redis write lock {key} was lost before its write finished (lease of 9.0 s ran out); "
        "another process may be writing the same resource"
    ]
    assert await admin.get(key) == b"another-replica"


# Releases off the write's path (the adapter entered, as the lifespan enters it).


@asynccontextmanager
async def behind_link(
    link: SlowLink, prefix: str, *, clock: FakeClock | None = None, op_timeout: float = 5.0
) -> AsyncIterator[RedisWriteLock]:
    """A lock (not entered) whose Redis is behind ``link``, on a client of its own closed afterwards."""
    client = redis_client_from_url(link.url, timeout=5.0)
    try:
        yield RedisWriteLock(client=client, clock=clock or FakeClock(), prefix=prefix, op_timeout=op_timeout)
    finally:
        await client.aclose()


class Gate:
    """Holds the next request of a command at the link until opened."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()

    async def wait(self) -> None:
        await self.opened.wait()


async def test_a_write_ends_without_waiting_for_its_release_which_then_lands(
    link: SlowLink, admin: redis.asyncio.Redis, redis_prefix: str
) -> None:
    gate = Gate()
    async with behind_link(link, redis_prefix) as lock:
        key = lock.key(STORE, "order:1")
        with anyio.fail_after(5):
            async with lock:
                async with lock.hold(STORE, "order:1"):
                    token = await admin.get(key)
                    link.arm(Fault(b"EVAL", before=gate.wait))  # the release waits at the link
                # The block ended although the release has not reached Redis: the key is still ours.
                assert token is not None
                assert await admin.get(key) == token
                gate.opened.set()
                await lock.releases_landed()
                assert await admin.get(key) is None


async def test_the_next_holder_in_this_process_waits_for_the_release_instead_of_polling(
    link: SlowLink, admin: redis.asyncio.Redis, redis_prefix: str
) -> None:
    # Polling while our own previous release was still on its way found its token, read it as
    # another holder and slept: a wait counted against the call where nobody else held the lock.
    gate, clock = Gate(), FakeClock()
    call = deadline_in(5, clock)
    async with behind_link(link, redis_prefix, clock=clock) as lock:
        key = lock.key(STORE, "order:1")
        with anyio.fail_after(5):
            async with lock:
                async with lock.hold(STORE, "order:1"):
                    link.arm(Fault(b"EVAL", before=gate.wait))
                first = await admin.get(key)

                async def open_later() -> None:
                    await anyio.sleep(0.05)
                    gate.opened.set()

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(open_later)
                    with call_context(call):
                        async with lock.hold(STORE, "order:1"):
                            second = await admin.get(key)
    assert first is not None
    assert second not in (None, first)
    assert call.stats.lock_wait_seconds == 0


async def test_a_server_stopped_by_cancellation_still_lands_its_releases(
    link: SlowLink, admin: redis.asyncio.Redis, redis_prefix: str
) -> None:
    # A server stopped by cancellation while a release is on its way: dropped, the key would keep
    # every replica out for its lease.
    async with behind_link(link, redis_prefix) as lock:
        key = lock.key(STORE, "order:1")
        with anyio.fail_after(5), anyio.CancelScope() as stopping:
            async with lock:
                async with lock.hold(STORE, "order:1"):
                    link.arm(Fault(b"EVAL", before=lambda: asyncio.sleep(0.05)))
                stopping.cancel()
        assert await admin.get(key) is None


class _ReleaseRaises(redis.asyncio.Redis):
    """A client whose compare-and-delete raises something other than a Redis failure."""

    async def eval(self, script: str, numkeys: int, *keys_and_args: Any) -> Any:
        if "redis.call('del'" in script:
            raise ValueError("not a Redis failure")
        return await super().eval(script, numkeys, *keys_and_args)


async def test_a_release_that_raises_is_logged_and_the_lock_keeps_working(
    redis_url: str, redis_prefix: str, admin: redis.asyncio.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    # Raised in the background task, it cancelled the adapter's task group: lease renewals and
    # later releases stopped, and leaving the adapter raised it.
    caplog.set_level(logging.ERROR, logger="orderdesk_mcp.adapters.redis_write_lock")
    client = _ReleaseRaises.from_url(redis_url)
    try:
        lock = RedisWriteLock(client=client, clock=FakeClock(), prefix=redis_prefix, op_timeout=5.0)
        with anyio.fail_after(5):
            async with lock:
                for resource in ("order:1", "order:2"):
                    async with lock.hold(STORE, resource):
                        assert await admin.exists(lock.key(STORE, resource))
                    await lock.releases_landed()
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert errors == [
            f"Redis write lock {lock.key(STORE, r)}: the release failed; its lease ends it"
            for r in ("order:1", "order:2")
        ]
    finally:
        await client.aclose()


async def test_waiting_for_our_own_release_stops_at_the_calls_deadline(
    link: SlowLink, admin: redis.asyncio.Redis, redis_prefix: str
) -> None:
    # The previous holder's release is on its way through a slow link (op_timeout to fail). The next
    # holder waited for it whatever its deadline, then polled: it wrote 2 x op_timeout past its
    # deadline instead of being told another write was in progress (found in review).
    clock = FakeClock()
    async with behind_link(link, redis_prefix, clock=clock, op_timeout=OP_TIMEOUT) as lock:
        with anyio.fail_after(5):
            async with lock:
                async with lock.hold(STORE, "order:1"):
                    link.arm(Fault(b"EVAL", late=LATE))  # the release's answer comes too late
                started = anyio.current_time()
                call = deadline_in(OP_TIMEOUT / 5, clock)
                with call_context(call), pytest.raises(WriteInProgress) as caught:
                    async with lock.hold(STORE, "order:1"):
                        pytest.fail("wrote past the call's deadline")
                waited = anyio.current_time() - started
    assert str(caught.value) == BUSY
    assert waited < OP_TIMEOUT
