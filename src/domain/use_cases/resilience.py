"""Resilience: the token bucket, retries with backoff and the call's deadline, for any upstream call.

Every attempt first takes a token from the store's bucket; 429s and retryable failures are
retried up to the policy (full jitter, honouring OrderDesk's retry-after), and no sleep ends
past the call's deadline (``domain.context``). A non-idempotent operation is never re-sent
after a failure that may have reached OrderDesk. Every resilient gateway (orders, and each
further resource) runs its upstream calls through one :class:`Resilience`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
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

    async def run(self, store: StoreRef, op: Callable[[], Awaitable[T]], *, idempotent: bool) -> T:
        """Return ``await op()``, rate-limited and retried per the policy.

        Raises:
            RateLimited: no token within the deadline, or 429s past the last attempt.
            DeadlineExceeded: the call's deadline has passed.
            OrderDeskError: ``op``'s own error when it is not retryable or attempts ran out.
        """
        for attempt in range(1, self._policy.attempts + 1):
            await self._acquire(store)
            try:
                return await op()
            except OrderDeskError as exc:
                if isinstance(exc, RateLimited):
                    record_rate_limited()
                    await self._limiter.observe(store, retry_after=exc.retry_after)
                    exc = RateLimited(store.store_id, exc.retry_after)
                if attempt == self._policy.attempts or not is_retryable(exc, idempotent=idempotent):
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
