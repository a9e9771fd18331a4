"""Single flight: concurrent requests for the same key in one process share one upstream call.

The first caller of a key (the leader) runs the function; callers arriving while it runs
wait for its outcome. An exception is handed to every waiter and nothing is remembered
afterwards, so errors are never cached. When the leader is cancelled (its caller gave up),
the waiters do not hang and do not inherit the cancellation: one of them becomes the new
leader and runs the function again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio

from orderdesk_mcp.domain.context import record_flight_join

__all__ = ["SingleFlight"]

T = TypeVar("T")


class _Flight(Generic[T]):
    """One in-progress call: ``done`` fires when it finished, failed or was abandoned."""

    __slots__ = ("done", "error", "ok", "value")

    value: T

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.ok = False
        self.error: Exception | None = None


class SingleFlight(Generic[T]):
    """Deduplicates concurrent calls per key within one process (not across processes)."""

    def __init__(self) -> None:
        self._flights: dict[str, _Flight[T]] = {}

    @property
    def in_flight(self) -> int:
        """How many keys have a call running right now."""
        return len(self._flights)

    async def run(self, key: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Return ``await fn()``, sharing one call among concurrent callers of ``key``.

        Raises:
            Exception: whatever ``fn`` raised, for the leader and every waiter alike.
        """
        while True:
            flight = self._flights.get(key)
            if flight is None:
                return await self._lead(key, fn)
            # Cancelling this wait affects this caller only; the flight runs on.
            record_flight_join()
            await flight.done.wait()
            if flight.ok:
                return flight.value
            if flight.error is not None:
                raise flight.error
            # The leader was cancelled before it finished: try again (maybe as the leader).

    async def _lead(self, key: str, fn: Callable[[], Awaitable[T]]) -> T:
        flight: _Flight[T] = _Flight()
        self._flights[key] = flight
        try:
            flight.value = await fn()
            flight.ok = True
            return flight.value
        except Exception as exc:
            flight.error = exc
            raise
        finally:
            # Runs on success, failure and cancellation alike, so waiters always wake up.
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.done.set()
