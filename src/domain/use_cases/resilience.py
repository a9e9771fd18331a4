"""Resilience: the token bucket, retries with backoff and the call's deadline, for any upstream call.

Every attempt first takes a token from the store's bucket; 429s and retryable failures are
retried up to the policy (full jitter, honouring OrderDesk's retry-after), and no sleep ends
past the call's deadline (``domain.context``). A non-idempotent operation is never re-sent
after a failure that may have reached OrderDesk. Every resilient gateway (orders, and each
further resource) runs its upstream calls through one :class:`Resilience`.

:meth:`Resilience.prepaid` takes a write's tokens before its read: inside the block the
first calls for that store spend those tokens instead of waiting for the bucket, so nothing
waits between an update's merge-base read and its PUT. ``run(..., attempts=1)`` sends once
and leaves any retry to the caller (an update re-reads and re-merges before a second PUT).
"""

from __future__ import annotations

import contextvars
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from orderdesk_mcp.domain.context import current_call, record_rate_limited, record_retry, record_token_wait
from orderdesk_mcp.domain.errors import DeadlineExceeded, OrderDeskError, RateLimited
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.retry import RetryPolicy, is_retryable, retry_delay
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.rate_limiter import RateLimiter

__all__ = ["Resilience"]

T = TypeVar("T")
log = logging.getLogger(__name__)


class _Prepaid:
    """Tokens already taken for ``store`` in this task, spent by the next calls for it."""

    __slots__ = ("left", "store")

    def __init__(self, store: StoreRef, left: int) -> None:
        self.store = store
        self.left = left


class Resilience:
    def __init__(
        self,
        *,
        limiter: RateLimiter,
        clock: Clock,
        policy: RetryPolicy,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._limiter = limiter
        self._clock = clock
        self._policy = policy
        self._jitter = jitter
        self._prepaid: contextvars.ContextVar[_Prepaid | None] = contextvars.ContextVar(
            "orderdesk_prepaid_tokens", default=None
        )

    @property
    def policy(self) -> RetryPolicy:
        return self._policy

    @asynccontextmanager
    async def prepaid(self, store: StoreRef, count: int) -> AsyncIterator[None]:
        """Take ``count`` tokens now; the next ``count`` calls for ``store`` in this block spend them.

        Tokens left unspent when the block ends are not returned (the bucket has no refund);
        a retried call inside the block takes a fresh token as usual.

        Raises:
            RateLimited: the tokens cannot be had within the deadline.
            DeadlineExceeded: the call's deadline has passed.
        """
        for _ in range(count):
            await self._acquire(store)
        reset = self._prepaid.set(_Prepaid(store, count))
        try:
            yield
        finally:
            self._prepaid.reset(reset)

    def _spend_prepaid(self, store: StoreRef) -> bool:
        prepaid = self._prepaid.get()
        if prepaid is None or prepaid.left <= 0 or prepaid.store != store:
            return False
        prepaid.left -= 1
        return True

    def _remaining(self) -> float | None:
        call = current_call()
        remaining = None if call is None else call.remaining(self._clock.monotonic())
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded(call.timeout if call else 0.0)
        return remaining

    async def _acquire(self, store: StoreRef) -> None:
        remaining = self._remaining()
        started = self._clock.monotonic()
        await self._limiter.acquire(store, max_wait=remaining)
        record_token_wait(self._clock.monotonic() - started)

    async def run(
        self,
        store: StoreRef,
        op: Callable[[], Awaitable[T]],
        *,
        idempotent: bool,
        attempts: int | None = None,
    ) -> T:
        """Return ``await op()``, rate-limited and retried per the policy.

        ``attempts`` overrides the policy's count (1: send once, never retry).

        Raises:
            RateLimited: no token within the deadline, or 429s past the last attempt.
            DeadlineExceeded: the call's deadline has passed.
            OrderDeskError: ``op``'s own error when it is not retryable or attempts ran out.
        """
        limit = self._policy.attempts if attempts is None else max(1, attempts)
        for attempt in range(1, limit + 1):
            if attempt > 1 or not self._spend_prepaid(store):
                await self._acquire(store)
            try:
                return await op()
            except OrderDeskError as exc:
                if isinstance(exc, RateLimited):
                    record_rate_limited()
                    await self._limiter.observe(store, retry_after=exc.retry_after)
                    exc = RateLimited(store.store_id, exc.retry_after)
                if attempt == limit or not is_retryable(exc, idempotent=idempotent):
                    raise exc from exc.__cause__
                delay = retry_delay(
                    self._policy,
                    attempt,
                    jitter=self._jitter(),
                    retry_after=getattr(exc, "retry_after", None),
                )
                call = current_call()
                remaining = None if call is None else call.remaining(self._clock.monotonic())
                if remaining is not None and delay >= remaining:
                    raise exc from exc.__cause__
                record_retry()
                log.warning(
                    "%s from OrderDesk for store %s; waiting %.2f s before attempt %d of %d",
                    "429 (rate limited)" if isinstance(exc, RateLimited) else type(exc).__name__,
                    store.store_id, delay, attempt + 1, self._policy.attempts,
                )  # fmt: skip
                await self._clock.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover
