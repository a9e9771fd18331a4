"""WriteRounds: the read-change-PUT rounds of one write, run under its resource's write lock.

OrderDesk's PUT replaces the whole document and has no version to check, so a PUT that failed
(a 409, a 429, a 5xx, a lost connection) is never re-sent as it was: a change that landed in
between would be overwritten. The next round reads the resource again and re-applies the
caller's change to what it finds. Each round first takes the rate-limit tokens of its read and
its PUT, so nothing waits between the two. Rounds are at most ``policy.attempts`` in all, with
the policy's jittered waits between them (at least a 429's retry-after), never past the call's
deadline. ``UpdateOrder`` and the inventory writes share this.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.context import current_call
from orderdesk_mcp.domain.errors import ConcurrentModification, OrderDeskError, OutcomeUnknown
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.retry import is_retryable
from orderdesk_mcp.domain.use_cases.resilience import Resilience
from orderdesk_mcp.ports.clock import Clock

__all__ = ["PutFailed", "WriteRounds", "next_round"]

T = TypeVar("T")


def next_round(exc: OrderDeskError) -> bool:
    """Whether a failed PUT ends only this round: the next reads again and re-applies the change.

    A 409, an unknown outcome, and whatever the retry policy retries (429, 5xx, lost connection).
    """
    return isinstance(exc, ConcurrentModification | OutcomeUnknown) or is_retryable(exc, idempotent=True)


class PutFailed:
    """What a round given to :meth:`WriteRounds.run` returns when its PUT failed and another may follow."""

    __slots__ = ("error",)

    def __init__(self, error: OrderDeskError) -> None:
        self.error = error


class WriteRounds:
    """Tokens before each round's read, the waits between rounds, and (:meth:`run`) the loop itself."""

    def __init__(
        self,
        *,
        clock: Clock,
        policy: ConflictPolicy,
        resilience: Resilience | None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._clock = clock
        self._policy = policy
        self._resilience = resilience
        self._jitter = jitter

    @property
    def attempts(self) -> int:
        return self._policy.attempts

    async def run(self, store: StoreRef, round_: Callable[[int], Awaitable[T | PutFailed]]) -> T:
        """``await round_(attempt)`` inside its prepaid tokens until it returns something other
        than :class:`PutFailed`; the last PUT failure is raised when no round is left."""
        failure: OrderDeskError | None = None
        for attempt in range(1, self._policy.attempts + 1):
            async with self.tokens(store, 2):  # the read's and the PUT's, before the read
                outcome = await round_(attempt)
            if not isinstance(outcome, PutFailed):
                return outcome
            failure = outcome.error
            if attempt < self._policy.attempts and not await self.wait(attempt, failure):
                break
        assert failure is not None  # every round that did not return failed its PUT
        raise failure

    async def wait(self, attempt: int, failure: OrderDeskError) -> bool:
        """Sleep before the next round; False when the wait would pass the call's deadline."""
        delay = self._policy.delay(attempt, jitter=self._jitter())
        retry_after = getattr(failure, "retry_after", None)
        if retry_after is not None:
            delay = max(delay, retry_after)
        call = current_call()
        remaining = None if call is None else call.remaining(self._clock.monotonic())
        if remaining is not None and delay >= remaining:
            return False
        await self._clock.sleep(delay)
        return True

    @asynccontextmanager
    async def tokens(self, store: StoreRef, count: int) -> AsyncIterator[None]:
        """Take ``count`` tokens of the store's bucket now, for requests sent inside the block."""
        if self._resilience is None:
            yield
            return
        async with self._resilience.prepaid(store, count):
            yield
