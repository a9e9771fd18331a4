"""The shared cache: Redis, so every process sees the same entries and the same invalidations.

Values travel as msgspec-JSON bytes (the client uses ``decode_responses=False``). Every
operation is bounded by ``op_timeout``; a Redis error or timeout never fails the caller's
call: reads become misses, writes are dropped, counters read -1 ("unknown generation", so
callers skip the cache), and one warning is logged (then at most one per ``warn_every``
seconds, so a dead Redis does not flood the log).

``add`` is the idempotency claim. When Redis fails it returns **False** (not claimed): a
caller then treats the key as held by someone else instead of going ahead, so a Redis outage
can refuse an idempotent create but can never let two of them run. Failing closed is the
only choice that keeps the "no duplicates" promise; the caller reports the refusal.

The adapter does not own the client: one ``redis_client_from_url`` client per process is
created and closed (``aclose()``) by the lifespan. It never uses SCAN or KEYS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
import msgspec
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from orderdesk_mcp.adapters._lifespan import NoOpLifespan

__all__ = ["RedisOrderCache", "redis_client_from_url"]

_log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
# What a failing backend can raise: redis-py's own errors, our fail_after, raw socket errors.
_FAILURES = (RedisError, TimeoutError, OSError, msgspec.DecodeError)
# Connections per process. A command takes well under a millisecond, so 32 serve many
# thousands a second; a burst larger than that queues instead of opening more sockets.
_POOL_SIZE = 32


def redis_client_from_url(url: str, *, timeout: float = 0.25) -> redis.asyncio.Redis:
    """The one Redis client of a process: bytes in and out, short timeouts, one quick retry.

    redis-py 8 retries 10 times by default; a cache must give up fast instead. Its default
    pool also refuses the 101st concurrent command outright (``MaxConnectionsError``), so a
    burst of tool calls lost cache writes, counters, lock and idempotency claims; this pool
    holds at most ``_POOL_SIZE`` connections and a command beyond them waits for one (within
    the caller's ``op_timeout``). Fewer connections also means fewer handshakes in a burst.
    """
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url,
        max_connections=_POOL_SIZE,
        timeout=timeout,  # wait for a free connection no longer than for an answer
        decode_responses=False,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 1),
    )
    return redis.asyncio.Redis.from_pool(pool)


def _millis(ttl: float) -> int:
    return max(1, int(ttl * 1000))


class RedisOrderCache(NoOpLifespan):
    """An :class:`~orderdesk_mcp.ports.cache.OrderCache` on Redis; keys are stored as ``prefix + key``.

    Entering and leaving it do nothing: the lifespan closes the Redis client it created.
    """

    def __init__(
        self,
        *,
        client: redis.asyncio.Redis,
        prefix: str = "orderdesk:",
        op_timeout: float = 0.25,
        warn_every: float = 60.0,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._op_timeout = op_timeout
        self._warn_every = warn_every
        self._last_warning: float | None = None
        self._suppressed = 0
        self._failing = False

    async def get(self, key: str) -> Any | None:
        try:
            with anyio.fail_after(self._op_timeout):
                blob = await self._client.get(self._prefix + key)
            value = None if blob is None else _decode(blob)
        except _FAILURES as exc:
            self._failed("get", exc)
            return None
        self._succeeded()
        return value

    async def set(self, key: str, value: Any, *, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds (at least 1 ms; ``ttl <= 0`` removes the key).

        Raises:
            TypeError: ``value`` is not JSON-compatible (a caller bug, not a cache failure).
        """
        if ttl <= 0:
            await self.delete(key)
            return
        blob = _encode(value)
        try:
            with anyio.fail_after(self._op_timeout):
                await self._client.set(self._prefix + key, blob, px=_millis(ttl))
        except _FAILURES as exc:
            self._failed("set", exc)
            return
        self._succeeded()

    async def add(self, key: str, value: Any, *, ttl: float) -> bool:
        """SET NX PX: True when this call stored ``value``; False when taken or Redis failed.

        Raises:
            TypeError: ``value`` is not JSON-compatible.
        """
        blob = _encode(value)
        if ttl <= 0:
            return False
        try:
            with anyio.fail_after(self._op_timeout):
                stored = await self._client.set(self._prefix + key, blob, px=_millis(ttl), nx=True)
        except _FAILURES as exc:
            self._failed("add", exc)
            return False  # fail closed: see the module docstring
        self._succeeded()
        return bool(stored)

    async def delete(self, *keys: str) -> None:
        if not keys:
            return
        try:
            with anyio.fail_after(self._op_timeout):
                await self._client.delete(*(self._prefix + key for key in keys))
        except _FAILURES as exc:
            self._failed("delete", exc)
            return
        self._succeeded()

    async def incr(self, key: str) -> int:
        try:
            with anyio.fail_after(self._op_timeout):
                value = int(await self._client.incr(self._prefix + key))
        except _FAILURES as exc:
            self._failed("incr", exc)
            return -1
        self._succeeded()
        return value

    async def get_counter(self, key: str) -> int:
        try:
            with anyio.fail_after(self._op_timeout):
                blob = await self._client.get(self._prefix + key)
            value = 0 if blob is None else int(blob)
        except (*_FAILURES, ValueError) as exc:
            self._failed("get_counter", exc)
            return -1
        self._succeeded()
        return value

    async def get_counters(self, keys: Sequence[str]) -> list[int]:
        """MGET: one round trip however many counters."""
        if not keys:
            return []
        try:
            with anyio.fail_after(self._op_timeout):
                blobs = await self._client.mget([self._prefix + key for key in keys])
            values = [0 if blob is None else int(blob) for blob in blobs]
        except (*_FAILURES, ValueError) as exc:
            self._failed("get_counters", exc)
            return [-1] * len(keys)
        self._succeeded()
        return values

    async def set_many(self, values: Mapping[str, Any], *, ttl: float) -> None:
        """Pipelined SET PX: one round trip. Raises: TypeError for a non-JSON value."""
        if not values:
            return
        if ttl <= 0:
            await self.delete(*values)
            return
        blobs = {self._prefix + key: _encode(value) for key, value in values.items()}
        try:
            with anyio.fail_after(self._op_timeout):
                async with self._client.pipeline(transaction=False) as pipe:
                    for key, blob in blobs.items():
                        pipe.set(key, blob, px=_millis(ttl))
                    await pipe.execute()
        except _FAILURES as exc:
            self._failed("set_many", exc)
            return
        self._succeeded()

    async def invalidate(self, *, counters: Sequence[str], keys: Sequence[str]) -> list[int] | None:
        """MULTI/EXEC of INCRs and one DEL: atomic, one round trip; None when Redis failed."""
        try:
            with anyio.fail_after(self._op_timeout):
                async with self._client.pipeline(transaction=True) as pipe:
                    for key in counters:
                        pipe.incr(self._prefix + key)
                    if keys:
                        pipe.delete(*(self._prefix + key for key in keys))
                    replies = await pipe.execute()
            bumped = [int(reply) for reply in replies[: len(counters)]]
        except (*_FAILURES, ValueError) as exc:
            self._failed("invalidate", exc)
            return None
        self._succeeded()
        return bumped

    def _failed(self, op: str, exc: BaseException) -> None:
        self._failing = True
        now = time.monotonic()
        if self._last_warning is not None and now - self._last_warning < self._warn_every:
            self._suppressed += 1
            return
        _log.warning(
            "Redis cache unavailable (%s during %s: %s); reads go upstream%s",
            type(exc).__name__,
            op,
            str(exc)[:200] or "no detail",
            f", {self._suppressed} more failures since the last warning" if self._suppressed else "",
        )
        self._last_warning = now
        self._suppressed = 0

    def _succeeded(self) -> None:
        if self._failing:
            self._failing = False
            _log.info("Redis cache reachable again")
