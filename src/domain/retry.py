"""Retry policy for upstream calls: which failures to retry and how long to wait (pure)."""

from __future__ import annotations

import msgspec

from orderdesk_mcp.domain.errors import OrderDeskError, RateLimited, UpstreamUnavailable

__all__ = ["RetryPolicy", "backoff_delay", "is_retryable", "retry_delay"]


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """``attempts`` counts the first try: 4 means up to 3 retries (1, 2, 4 s ceilings)."""

    attempts: int = 4
    base: float = 1.0
    cap: float = 10.0


def backoff_delay(policy: RetryPolicy, retry_number: int, *, jitter: float) -> float:
    """Full jitter: ``jitter`` in [0, 1) times min(cap, base * 2**(n-1))."""
    ceiling = min(policy.cap, policy.base * float(2 ** (retry_number - 1)))
    return jitter * ceiling


def retry_delay(policy: RetryPolicy, retry_number: int, *, jitter: float, retry_after: float | None) -> float:
    """The wait before retry ``retry_number``: never shorter than OrderDesk's retry-after, capped."""
    delay = backoff_delay(policy, retry_number, jitter=jitter)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, policy.cap)


def is_retryable(error: OrderDeskError, *, idempotent: bool) -> bool:
    """429s and unavailability are retried; a non-idempotent request only when nothing was sent.

    ``OutcomeUnknown`` is never retried: the caller reconciles it.
    """
    if isinstance(error, RateLimited):
        return True
    if isinstance(error, UpstreamUnavailable):
        return idempotent or not error.maybe_sent
    return False
