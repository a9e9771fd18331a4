"""MemoryWriteLock: the write-lock port within one process (one anyio lock per resource)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from orderdesk_mcp.adapters._lifespan import NoOpLifespan
from orderdesk_mcp.domain.context import current_call, record_lock_wait
from orderdesk_mcp.domain.errors import WriteInProgress
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.ports.clock import Clock

__all__ = ["MemoryWriteLock", "describe_resource"]


class _Entry:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = anyio.Lock()
        self.users = 0


class MemoryWriteLock(NoOpLifespan):
    """Serializes writers in this process; entries are dropped once nobody holds or awaits them.

    Keyed by OrderDesk store and resource, not by tenant: OrderDesk knows only the store, so two
    tenants the operator configured on one store write the same orders and must queue together.
    """

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}

    @asynccontextmanager
    async def hold(self, store: StoreRef, resource: str) -> AsyncIterator[None]:
        key = (store.store_id, resource)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        entry.users += 1
        try:
            if entry.users == 1:
                # Nobody holds or awaits it: take it without a deadline scope or a trip
                # through the event loop (half the cost of an uncontended hold).
                entry.lock.acquire_nowait()
            else:
                await self._wait(entry.lock, resource)
            try:
                yield
            finally:
                entry.lock.release()
        finally:
            entry.users -= 1
            if entry.users == 0:
                self._entries.pop(key, None)

    async def _wait(self, lock: anyio.Lock, resource: str) -> None:
        """Queue for ``lock`` until the call's deadline, then :class:`WriteInProgress`."""
        started = self._clock.monotonic()
        call = current_call()
        remaining = None if call is None else call.remaining(started)
        with anyio.move_on_after(remaining if remaining is not None else float("inf")) as scope:
            await lock.acquire()
        if scope.cancelled_caught:
            raise WriteInProgress(describe_resource(resource))
        record_lock_wait(self._clock.monotonic() - started)


def describe_resource(resource: str) -> str:
    """``"order:123"`` -> ``"order 123"``, as the lock's error names it."""
    kind, _, ident = resource.partition(":")
    return f"{kind} {ident}" if ident else resource
