"""RedisIdempotencyRecords: idempotency records in Redis, shared by every replica.

The claim is ``SET key value NX PX ttl``. Unlike the cache, a Redis failure is never a
miss: a record that cannot be read or a claim that cannot be made raises
:class:`IdempotencyUnavailable`, so a Redis outage refuses an idempotent create instead of
letting a repeat of the key create a second order. The adapter does not own the client
(the lifespan creates and closes it).
"""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
import redis.asyncio
from redis.exceptions import RedisError

from orderdesk_mcp.adapters._lifespan import NoOpLifespan
from orderdesk_mcp.domain.errors import IdempotencyUnavailable

__all__ = ["RedisIdempotencyRecords"]

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
_FAILURES = (RedisError, TimeoutError, OSError, msgspec.DecodeError)


def _millis(ttl: float) -> int:
    return max(1, int(ttl * 1000))


class RedisIdempotencyRecords(NoOpLifespan):
    """An :class:`~orderdesk_mcp.ports.idempotency.IdempotencyRecords` on Redis (``prefix + key``)."""

    def __init__(
        self, *, client: redis.asyncio.Redis, prefix: str = "orderdesk:", op_timeout: float = 1.0
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._op_timeout = op_timeout

    def _unavailable(self, key: str) -> IdempotencyUnavailable:
        return IdempotencyUnavailable(key, "its record store cannot be reached right now")

    async def get(self, key: str) -> Any | None:
        """The record at ``key``, or None. Raises: IdempotencyUnavailable."""
        try:
            with anyio.fail_after(self._op_timeout):
                raw = await self._client.get(self._prefix + key)
            return None if raw is None else _decode(raw)
        except _FAILURES as exc:
            raise self._unavailable(key) from exc

    async def set(self, key: str, value: Any, *, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds. Raises: IdempotencyUnavailable."""
        try:
            with anyio.fail_after(self._op_timeout):
                await self._client.set(self._prefix + key, _encode(value), px=_millis(ttl))
        except _FAILURES as exc:
            raise self._unavailable(key) from exc

    async def add(self, key: str, value: Any, *, ttl: float) -> bool:
        """``SET NX PX``: True when this call claimed ``key``. Raises: IdempotencyUnavailable."""
        try:
            with anyio.fail_after(self._op_timeout):
                done = await self._client.set(self._prefix + key, _encode(value), px=_millis(ttl), nx=True)
        except _FAILURES as exc:
            raise self._unavailable(key) from exc
        return bool(done)

    async def delete(self, *keys: str) -> None:
        """Remove the records. Raises: IdempotencyUnavailable."""
        if not keys:
            return
        try:
            with anyio.fail_after(self._op_timeout):
                await self._client.delete(*(self._prefix + k for k in keys))
        except _FAILURES as exc:
            raise self._unavailable(keys[0]) from exc
