"""ResilientOrderGateway: rate limiting, retries with backoff and deadlines around any gateway.

Every attempt first takes a token from the store's bucket; 429s and 5xx/connection failures
are retried up to the policy (full jitter, honouring OrderDesk's retry-after), and no sleep
ends past the call's deadline (``domain.context``). A create is never re-sent after a
failure that may have reached OrderDesk.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from orderdesk_mcp.domain.context import current_call
from orderdesk_mcp.domain.errors import DeadlineExceeded, OrderDeskError, RateLimited
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage, OrderQuery
from orderdesk_mcp.domain.retry import RetryPolicy, is_retryable, retry_delay
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.gateway import OrderGateway
from orderdesk_mcp.ports.rate_limiter import RateLimiter

__all__ = ["ResilientOrderGateway"]

T = TypeVar("T")


class ResilientOrderGateway:
    def __init__(
        self,
        *,
        inner: OrderGateway,
        limiter: RateLimiter,
        clock: Clock,
        policy: RetryPolicy,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._inner = inner
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

    async def _call(self, store: StoreRef, op: Callable[[], Awaitable[T]], *, idempotent: bool) -> T:
        for attempt in range(1, self._policy.attempts + 1):
            remaining = self._remaining()
            await self._limiter.acquire(store, max_wait=remaining)
            try:
                return await op()
            except OrderDeskError as exc:
                if isinstance(exc, RateLimited):
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
                await self._clock.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        return await self._call(store, lambda: self._inner.fetch(store, order_id), idempotent=True)

    async def list_page(self, store: StoreRef, query: OrderQuery) -> OrderPage:
        return await self._call(store, lambda: self._inner.list_page(store, query), idempotent=True)

    async def create(self, store: StoreRef, doc: Mapping[str, Any]) -> Order:
        return await self._call(store, lambda: self._inner.create(store, doc), idempotent=False)

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        return await self._call(store, lambda: self._inner.replace(store, order_id, doc), idempotent=True)

    async def delete(self, store: StoreRef, order_id: str) -> None:
        await self._call(store, lambda: self._inner.delete(store, order_id), idempotent=True)

    async def check_connection(self, store: StoreRef) -> None:
        await self._call(store, lambda: self._inner.check_connection(store), idempotent=True)
