"""RedisWriteLock: the write-lock port across every process sharing one Redis.

- **Taken** with ``SET key token NX PX lease``: the token is random per hold, so only its
  holder can release it (compare-and-delete in one Lua script) or extend it.
- **Kept** while the holder lives: one renewal task per process (running while it holds any
  lock) extends the lease of every lock it holds every ``lease / 3`` seconds
  (compare-and-``PEXPIRE``), however long a PUT takes. It runs in the adapter's own task
  group (opened by ``async with``, as the lifespan does); an adapter that was never entered
  only has its lease.
- **Lost with the holder**: a process that dies stops renewing, and its lock expires with
  its lease (``lease`` seconds at most).
- **Waited for** by polling (2 ms, doubling to 50 ms) at most until the call's deadline,
  then :class:`~orderdesk_mcp.domain.errors.WriteInProgress`. Writers of one process first
  queue on an in-process lock (:class:`MemoryWriteLock`), so only one of them polls Redis.
- **Redis unreachable** (an error or a timeout of ``op_timeout``): the in-process lock alone
  serializes this process's writers, one warning is logged per outage, and nothing hangs.
  Replicas are then not serialized with each other until Redis answers again.

Keys are ``prefix + "tenant:<t>:store:<s>:lock:<resource>"``. The adapter does not own the
Redis client (the lifespan does).
"""

from __future__ import annotations

import logging
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
from orderdesk_mcp.domain.cache_keys import store_scope
from orderdesk_mcp.domain.context import current_call, record_lock_wait
from orderdesk_mcp.domain.errors import WriteInProgress
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.ports.clock import Clock

__all__ = ["RedisWriteLock"]

_log = logging.getLogger(__name__)
_FAILURES = (RedisError, TimeoutError, OSError)
_FIRST_POLL, _MAX_POLL = 0.002, 0.05
_FAILED = object()  # what ``_call`` returns when Redis did not answer

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
        self._release = client.register_script(_RELEASE)
        self._renew = client.register_script(_RENEW)
        self._failing = False
        self._held: dict[str, str] = {}  # key -> token of every lock this process holds

    def key(self, store: StoreRef, resource: str) -> str:
        """The Redis key of ``resource``'s lock (prefix included)."""
        return f"{self._prefix}{store_scope(store)}:lock:{resource}"

    @asynccontextmanager
    async def hold(self, store: StoreRef, resource: str) -> AsyncIterator[None]:
        async with self._local.hold(store, resource):
            key, token = self.key(store, resource), secrets.token_hex(16)
            shared = await self._acquire(key, token, resource)
            if not shared:
                yield
                return
            self._held[key] = token
            self._start_job(self._keep)  # renews the leases of every lock held
            try:
                yield
            finally:
                self._held.pop(key, None)
                with anyio.CancelScope(shield=True):
                    await self._call("release", self._release(keys=[key], args=[token]))

    async def _acquire(self, key: str, token: str, resource: str) -> bool:
        """Take the Redis lock; False when Redis is unreachable (in-process locking only)."""
        started: float | None = None  # set when the lock is first found taken: a free lock is no wait
        poll = _FIRST_POLL
        try:
            while True:
                taken = await self._call("acquire", self._client.set(key, token, nx=True, px=self._lease_ms))
                if taken is _FAILED or taken:
                    return taken is not _FAILED
                if started is None:
                    started = self._clock.monotonic()
                call = current_call()
                remaining = None if call is None else call.remaining(self._clock.monotonic())
                if remaining is not None and remaining <= 0:
                    raise WriteInProgress(describe_resource(resource))
                await self._clock.sleep(poll if remaining is None else min(poll, remaining))
                poll = min(poll * 2, _MAX_POLL)
        finally:
            if started is not None:
                record_lock_wait(self._clock.monotonic() - started)

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
                await self._call("renew", self._renew(keys=[key], args=[token, self._lease_ms]))

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
