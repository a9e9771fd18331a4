"""The rate limiter port: a token bucket per store, shaped like OrderDesk's own."""

from __future__ import annotations

from typing import Protocol

from orderdesk_mcp.domain.order import StoreRef

__all__ = ["RateLimiter"]


class RateLimiter(Protocol):
    async def acquire(self, store: StoreRef, *, max_wait: float | None) -> None:
        """Take one token for ``store``, waiting for the refill (and any cool-down).

        Raises: RateLimited when no token can be had within ``max_wait`` seconds; its
        ``retry_after`` says when one will be.
        """
        ...

    async def observe(
        self, store: StoreRef, *, tokens_remaining: int | None = None, retry_after: float | None = None
    ) -> None:
        """Resynchronise from OrderDesk's ``X-Tokens-Remaining`` / 429 ``X-Retry-After``."""
        ...
