"""The retry policy is pure: backoff ceilings, retry-after, and which failures may be repeated."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderdesk_mcp.domain.errors import (
    AuthenticationFailed,
    ConcurrentModification,
    DeadlineExceeded,
    OrderDeskError,
    OrderNotFound,
    OutcomeUnknown,
    RateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from orderdesk_mcp.domain.retry import RetryPolicy, backoff_delay, is_retryable, retry_delay


def test_the_default_policy_is_four_attempts_with_1_2_4_second_ceilings() -> None:
    policy = RetryPolicy()
    assert (policy.attempts, policy.base, policy.cap) == (4, 1.0, 10.0)
    assert [backoff_delay(policy, n, jitter=1.0) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]


def test_backoff_ceilings_stop_growing_at_the_cap() -> None:
    assert [backoff_delay(RetryPolicy(), n, jitter=1.0) for n in (4, 5, 9)] == [8.0, 10.0, 10.0]
    assert backoff_delay(RetryPolicy(base=0.5, cap=3.0), 4, jitter=1.0) == 3.0


def test_full_jitter_scales_the_ceiling() -> None:
    assert backoff_delay(RetryPolicy(), 3, jitter=0.25) == 1.0
    assert backoff_delay(RetryPolicy(), 2, jitter=0.0) == 0.0


@given(retry=st.integers(min_value=1, max_value=30), jitter=st.floats(min_value=0.0, max_value=0.999999))
def test_a_backoff_is_never_negative_nor_above_its_ceiling(retry: int, jitter: float) -> None:
    policy = RetryPolicy()
    delay = backoff_delay(policy, retry, jitter=jitter)
    assert 0.0 <= delay <= min(policy.cap, policy.base * 2 ** (retry - 1))


def test_orderdesks_retry_after_wins_over_a_shorter_backoff() -> None:
    assert retry_delay(RetryPolicy(), 1, jitter=0.1, retry_after=3.0) == 3.0
    assert retry_delay(RetryPolicy(), 3, jitter=0.9, retry_after=1.0) == pytest.approx(3.6)
    assert retry_delay(RetryPolicy(), 2, jitter=0.5, retry_after=None) == 1.0


def test_a_retry_after_longer_than_the_backoff_cap_is_honoured_up_to_120_seconds() -> None:
    assert retry_delay(RetryPolicy(), 1, jitter=0.1, retry_after=60.0) == 60.0
    assert retry_delay(RetryPolicy(), 1, jitter=0.1, retry_after=100_000.0) == 120.0


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (RateLimited("1", 1.0), True, True),
        (RateLimited("1", None), False, True),
        (UpstreamUnavailable("HTTP 503"), True, True),
        (UpstreamUnavailable("could not connect"), False, True),
        (UpstreamUnavailable("connection lost", maybe_sent=True), True, True),
        (UpstreamUnavailable("connection lost", maybe_sent=True), False, False),
        (OutcomeUnknown("order creation", "timed out"), True, False),
        (OutcomeUnknown("order creation", "timed out"), False, False),
        (UpstreamRejected("Bad email", status=422), True, False),
        (AuthenticationFailed("1"), True, False),
        (OrderNotFound("500001", "1"), True, False),
        (ConcurrentModification("500001"), True, False),
        (DeadlineExceeded(30.0), True, False),
    ],
)
def test_only_failures_that_may_pass_on_a_second_try_are_retried(
    error: OrderDeskError, idempotent: bool, expected: bool
) -> None:
    assert is_retryable(error, idempotent=idempotent) is expected
