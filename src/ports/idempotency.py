"""The idempotency-record port: durable claims and results of idempotency keys.

A write that takes an ``idempotency_key`` (order creates, history notes) claims the key with
:meth:`add` before it sends anything and stores its result under it, so a repeat of the key
replays the first result instead of writing twice. Records must outlive the process and be
shared by every process that serves the store. The cache adapters satisfy this Protocol
structurally; a durable adapter is the one to configure.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["IdempotencyRecords"]


class IdempotencyRecords(Protocol):
    async def get(self, key: str) -> Any | None:
        """Return the record at ``key`` (JSON-compatible builtins), or None when there is none."""
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
