"""The idempotency-record port: durable claims and results of idempotency keys.

A write that takes an ``idempotency_key`` (order creates, history notes) claims the key with
:meth:`add` before it sends anything and stores its result under it, so a repeat of the key
replays the first result instead of writing twice. Records must outlive the process and be
shared by every process that serves the store: ``SqliteIdempotencyRecords`` (the data
directory; the processes of one machine) or ``RedisIdempotencyRecords`` (every replica). A
record that cannot be read or written raises ``IdempotencyUnavailable``, never reads as absent.
The memory cache satisfies this Protocol structurally and serves as the fake in tests.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["IdempotencyRecords"]


class IdempotencyRecords(Protocol):
    async def get(self, key: str) -> Any | None:
        """Return the record at ``key`` (JSON-compatible builtins), or None when there is none.

        Raises: IdempotencyUnavailable (durable adapters) when the records cannot be reached.
        """
        ...

    async def set(self, key: str, value: Any, *, ttl: float) -> None:
        """Store ``value`` at ``key`` for ``ttl`` seconds."""
        ...

    async def add(self, key: str, value: Any, *, ttl: float) -> bool:
        """Store ``value`` only if ``key`` is absent; True when this call stored it (the claim)."""
        ...

    async def delete(self, *keys: str) -> None:
        """Remove the records (absent keys are fine)."""
        ...
