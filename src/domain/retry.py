"""Retry policy for upstream calls: which failures to retry and how long to wait (pure)."""

from __future__ import annotations

import msgspec

from orderdesk_mcp.domain.errors import OrderDeskError, RateLimited, UpstreamUnavailable

__all__ = [
    "MAX_RETRY_AFTER",
    "RETRIED_STATUSES",
    "RetryPolicy",
    "backoff_delay",
    "is_retryable",
    "retry_delay",
]

# The longest any retry-after (OrderDesk's header, or a cool-down shared through Redis) is
# honoured: one ``X-Retry-After: 100000`` must not lock a store out for a day.
MAX_RETRY_AFTER = 120.0
# The HTTP statuses worth sending again: the rate limit and the transient server errors. Any
# other 5xx (501 Not Implemented, 505, ...) answers the same way every time.
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


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
    """The wait before retry ``retry_number``: the backoff (at most ``policy.cap``), or OrderDesk's
    retry-after when longer (at most :data:`MAX_RETRY_AFTER`).

    A retry-after is never cut to the backoff cap: retrying earlier only meets the same cool-down,
    and a delay past the call's deadline lets the caller give up at once with the time to retry
    instead of sleeping first.
    """
    delay = min(backoff_delay(policy, retry_number, jitter=jitter), policy.cap)
    if retry_after is not None:
        delay = max(delay, min(max(0.0, retry_after), MAX_RETRY_AFTER))
    return delay


def is_retryable(error: OrderDeskError, *, idempotent: bool) -> bool:
    """429s and unavailability are retried; a non-idempotent request only when nothing was sent.

    ``OutcomeUnknown`` is never retried: the caller reconciles it.
    """
    if isinstance(error, RateLimited):
        return True
    if isinstance(error, UpstreamUnavailable):
        return idempotent or not error.maybe_sent
    return False
