"""RedisWriteLock: the write-lock port across every process sharing one Redis.

- **Taken** by one Lua script that sets ``key`` to our token with a ``lease`` when it is free,
  or extends it when it already holds our token: the token is random per hold, so only its
  holder can release it (compare-and-delete, one script too) or extend it, and a poll the
  client re-sent after a dropped connection reads "ours", never "another holder".
- **Kept** while the holder lives: one renewal task per process (running while it holds any
  lock) extends the lease of every lock it holds every ``lease / 3`` seconds
  (compare-and-``PEXPIRE``), however long a PUT takes. It runs in the adapter's own task
  group (opened by ``async with``, as the lifespan does); an adapter that was never entered
  only has its lease.
- **Released** off the write's path, once the adapter is entered: the block ends at once and
  a background task deletes the token (one round trip the agent no longer waits for; an
  update returns that much sooner). This process's next holder of the key waits for that
  release, other replicas wait for it as for any holder, and leaving the adapter lets every
  release still on its way land. Not entered, the release runs before the block ends.
- **Lost with the holder**: a process that dies stops renewing, and its lock expires with
  its lease (``lease`` seconds at most).
- **Waited for** by polling (2 ms, doubling to 50 ms) at most until the call's deadline,
  then :class:`~orderdesk_mcp.domain.errors.WriteInProgress`. Writers of one process first
  queue on an in-process lock (:class:`MemoryWriteLock`), so only one of them polls Redis.
  A poll that fails once the lock was found held is no sign that its holder stopped writing:
  the wait goes on to the deadline, as for any held lock.
- **Redis unreachable** (the first poll fails: an error or a timeout of ``op_timeout``):
  the in-process lock alone serializes this process's writers, one warning is logged per
  outage, and nothing hangs. Replicas are then not serialized with each other until Redis
  answers again.
- **Lost answers**: a poll whose answer never came may have taken the lock all the same,
  so our token is deleted (compare-and-delete, within ``op_timeout``: the lease ends it if
  that fails too) when the write or the wait ends. A call cancelled mid-poll waits for its
  answer, then lets go.
- **Lost lease**: a renewal that finds the lock no longer ours (the holder stalled past its
  lease) logs one warning; the write goes on, as there is no fencing token to stop it.

Keys are ``prefix + "store:<s>:lock:<resource>"``: by OrderDesk store, not by tenant, since two
tenants the operator configured on one store write the same orders. The adapter does not own
the Redis client (the lifespan does).
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import redis.asyncio
from redis.exceptions import RedisError

from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock, describe_resource
from orderdesk_mcp.domain.background import BackgroundJob
from orderdesk_mcp.domain.context import current_call, record_lock_wait
from orderdesk_mcp.domain.errors import WriteInProgress
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.ports.clock import Clock

__all__ = ["RedisWriteLock"]

_log = logging.getLogger(__name__)
_FAILURES = (RedisError, TimeoutError, OSError)
_FIRST_POLL, _MAX_POLL = 0.002, 0.05
_FAILED = object()  # what ``_call`` returns when Redis did not answer

# Take the key if it is free or already ours (1), else 0: one round trip that a re-sent copy
# (redis-py re-sends a command once after a dropped connection) cannot mistake for another holder.
_ACQUIRE = (
    "local held = redis.call('get', KEYS[1]) "
    "if not held then redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[2]) return 1 end "
    "if held == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end return 0"
)
# Delete / extend the key only while it still holds our token.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
)


class RedisWriteLock(BackgroundJob):
    """A :class:`~orderdesk_mcp.ports.write_lock.WriteLock` shared through Redis.

    Entered, it renews the leases of the locks it holds in the background; leaving it stops
    that. The lifespan closes the Redis client it created.
    """

    def __init__(
        self,
        *,
        client: redis.asyncio.Redis,
        clock: Clock,
        prefix: str = "orderdesk:",
        lease: float = 10.0,
        op_timeout: float = 0.25,
    ) -> None:
        if lease <= 0:
            raise ValueError("the lock lease must be positive")
        self._client = client
        self._clock = clock
        self._prefix = prefix
        self._lease_ms = max(1, int(lease * 1000))
        self._op_timeout = op_timeout
        self._local = MemoryWriteLock(clock=clock)
        self._renew = client.register_script(_RENEW)
        self._failing = False
        self._held: dict[str, str] = {}  # key -> token of every lock this process holds
        self._releasing: dict[str, anyio.Event] = {}  # key -> set when our release of it has run

    async def releases_landed(self) -> None:
        """Return once every release this process has on its way has run (op_timeout at most each)."""
        for done in list(self._releasing.values()):
            await done.wait()

    def key(self, store: StoreRef, resource: str) -> str:
        """The Redis key of ``resource``'s lock (prefix included)."""
        return f"{self._prefix}store:{store.store_id}:lock:{resource}"

    @asynccontextmanager
    async def hold(self, store: StoreRef, resource: str) -> AsyncIterator[None]:
        async with self._local.hold(store, resource):
            key, token = self.key(store, resource), secrets.token_hex(16)
            releasing = self._releasing.get(key)
            if releasing is not None:  # our previous holder's release is still on its way
                await self._await_release(releasing, resource)
            if await self._acquire(key, token, resource):
                self._held[key] = token
                self._start_job(self._keep)  # renews the leases of every lock held
            try:
                yield
            finally:
                self._held.pop(key, None)
                # Unshared too: the SET that found Redis unreachable may have landed unanswered.
                if self._tasks is None:  # not entered: no task group to release in
                    await self._let_go(key, token)
                else:
                    self._release_later(self._tasks, key, token)

    async def _await_release(self, releasing: anyio.Event, resource: str) -> None:
        """Wait for this process's previous release of the key (polling now would find its token),
        op_timeout at most, and never past the call's deadline: then :class:`WriteInProgress`."""
        remaining = self._time_left(resource)
        with anyio.move_on_after(math.inf if remaining is None else remaining):
            await releasing.wait()
        if not releasing.is_set():
            raise WriteInProgress(describe_resource(resource))

    def _release_later(self, tasks: anyio.abc.TaskGroup, key: str, token: str) -> None:
        """Delete our token in the background, off the write's path.

        The write is done when the block ends, so the agent need not wait a round trip for the
        release. Until it lands, the key stays ours: another replica waits for it as for any
        holder, and this process's next holder of the key waits for it (in ``hold``). Leaving
        the adapter waits for every release still on its way: the release is shielded, and the
        task group waits for its tasks, even when the server stops by cancellation. Unlike the
        lease renewals, it runs as the call whose lock it frees: a warning about it carries that
        call's correlation id.
        """
        done = self._releasing[key] = anyio.Event()

        async def release() -> None:
            try:
                await self._let_go(key, token)
            except Exception:  # a bug, not a Redis failure (_call handles those): the lease ends the key
                # Raised here, it would cancel the adapter's task group: lease renewals and every
                # later release with it, leaving keys held for whole leases.
                _log.exception("Redis write lock %s: the release failed; its lease ends it", key)
            finally:
                done.set()
                if self._releasing.get(key) is done:
                    del self._releasing[key]

        tasks.start_soon(release)

    async def _acquire(self, key: str, token: str, resource: str) -> bool:
        """Take the Redis lock; False when Redis is unreachable (in-process locking only).

        Each poll is one script that takes the key when it is free or already holds our token,
        so an answer of "taken" always means another holder, even when the client re-sent a
        poll whose first copy landed unanswered. Only a failure before any sign of another
        holder means unreachable: once the lock was found held, its holder may still be
        writing, so failed polls go on to the deadline like any other. A poll left unanswered
        may have landed: a wait that then ends without the lock (an error, a cancelled call)
        deletes our token, which only we can have set.

        A cancelled call waits for its poll's answer (``op_timeout`` at most) rather than cut it
        off: cut off, its outcome is unknown and redis-py drops the connection, so the release
        would first reconnect, several round trips that a slow link does not fit in op_timeout.
        Scripts are sent with EVAL, not EVALSHA: on a Redis that has not cached them (a first
        write, a restart) EVALSHA takes three round trips.
        """
        started: float | None = None  # set when the lock is first found taken: a free lock is no wait
        poll = _FIRST_POLL
        maybe_ours = False  # our token may be in Redis
        try:
            while True:
                maybe_ours = True  # until Redis answers "taken by another", the poll may land
                polling = self._client.eval(_ACQUIRE, 1, key, token, self._lease_ms)
                with anyio.CancelScope(shield=True):
                    answer = await self._call("acquire", polling)
                if answer == 0:
                    maybe_ours = False  # another holder: our token is not there
                await anyio.lowlevel.checkpoint_if_cancelled()  # a cancelled call does not start its write
                if answer is _FAILED:
                    if started is None:
                        return False
                elif answer == 1:
                    return True
                elif started is None:
                    started = self._clock.monotonic()
                remaining = self._time_left(resource)
                await self._clock.sleep(poll if remaining is None else min(poll, remaining))
                poll = min(poll * 2, _MAX_POLL)
        except BaseException:  # WriteInProgress, a cancelled call: the lock must not outlive the wait
            if maybe_ours:
                await self._let_go(key, token)
            raise
        finally:
            if started is not None:
                record_lock_wait(self._clock.monotonic() - started)

    def _time_left(self, resource: str) -> float | None:
        """Until the call's deadline (None: no deadline); past it, the error the agent sees."""
        call = current_call()
        remaining = None if call is None else call.remaining(self._clock.monotonic())
        if remaining is not None and remaining <= 0:
            raise WriteInProgress(describe_resource(resource))
        return remaining

    async def _keep(self) -> None:
        # Sleep first and stop only after a period with nothing held: a hold shorter than one
        # loop turn no longer starts a renewal task that finds nothing held and ends (a task per
        # hold: about 0.1 ms of a lock taken and left back to back).
        every = self._lease_ms / 3000
        while True:
            await self._clock.sleep(every)
            if not self._held:
                return
            for key, token in list(self._held.items()):
                renewed = await self._call("renew", self._renew(keys=[key], args=[token, self._lease_ms]))
                if renewed == 0 and self._held.get(key) == token:
                    # Expired (a stall longer than the lease) or taken by another: gone for good,
                    # as tokens are never reused, so warn once and stop renewing it.
                    del self._held[key]
                    _log.warning(
                        "Redis write lock %s was lost before its write finished (lease of %.1f s ran "
                        "out); another process may be writing the same resource",
                        key,
                        self._lease_ms / 1000,
                    )

    async def _let_go(self, key: str, token: str) -> None:
        """Delete the lock if it holds our token; shielded, so a cancelled call frees it too.

        EVAL, not the EVALSHA of a registered script: on a Redis that has not cached the script
        (a first write, a restart) EVALSHA takes three round trips, which a slow link does not fit
        in op_timeout, so the release never ran; one EVAL runs, even if its answer is lost.
        """
        with anyio.CancelScope(shield=True):
            await self._call("release", self._client.eval(_RELEASE, 1, key, token))

    async def _call(self, op: str, pending: Awaitable[Any]) -> Any:
        """Await a Redis command within ``op_timeout``; ``_FAILED`` when Redis failed (logged once)."""
        try:
            with anyio.fail_after(self._op_timeout):
                result = await pending
        except _FAILURES as exc:
            if not self._failing:
                self._failing = True
                _log.warning(
                    "Redis write lock unavailable (%s during %s: %s); writes are serialized within "
                    "this process only until Redis answers again",
                    type(exc).__name__,
                    op,
                    str(exc)[:200] or "no detail",
                )
            return _FAILED
        if self._failing:
            self._failing = False
            _log.info("Redis write lock reachable again")
        return result
