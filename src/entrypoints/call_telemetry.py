"""What each tool call cost, as Prometheus metrics and as one INFO log line.

The dispatcher wraps every tool call in :meth:`CallTelemetry.observe`. When the call ends
(answered, refused, failed or cancelled) its :class:`~orderdesk_mcp.domain.context.CallStats`
are added to this server's totals and written as one log line: tool, tenant, store,
outcome, duration, upstream requests, cache hit or miss, attempts (the correlation id comes
with every record). Each server owns its totals (and the registry that reads them, in
``call_metrics``), so several servers in one process (tests, the benchmark) never share or
clash over metrics.

Labels are bounded and carry no secret or personal data: tool names, outcomes (``ok`` or the
name of the domain error class), HTTP methods and statuses, cache kinds. Tenants and stores
appear in the log line only, never as labels.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections import Counter
from typing import TYPE_CHECKING

import msgspec

from orderdesk_mcp.domain.context import CallContext, CallStats
from orderdesk_mcp.domain.errors import OrderDeskError
from orderdesk_mcp.ports.clock import Clock

if TYPE_CHECKING:  # prometheus-client is imported only when the metrics are read (HTTP /metrics)
    from prometheus_client import CollectorRegistry

__all__ = ["LATENCY_BUCKETS", "CallTelemetry", "CallTotals", "ObservedCall", "outcome_of"]

log = logging.getLogger("orderdesk_mcp.calls")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class CallTotals(msgspec.Struct):
    """Everything the calls of one server added up, as plain numbers (labels as tuple keys).

    ``latency_buckets[tool][i]`` counts the calls whose duration fell in bucket ``i`` of
    :data:`LATENCY_BUCKETS` (the last slot: above every bound); not cumulative.
    """

    calls: Counter[tuple[str, str]] = msgspec.field(default_factory=Counter)  # (tool, outcome)
    latency_buckets: dict[str, list[int]] = msgspec.field(default_factory=dict)
    latency_sum: dict[str, float] = msgspec.field(default_factory=dict)
    upstream: Counter[tuple[str, str]] = msgspec.field(default_factory=Counter)  # (method, status)
    cache: Counter[tuple[str, str]] = msgspec.field(default_factory=Counter)  # (kind, "hit" | "miss")
    retries: float = 0.0
    rate_limited: float = 0.0
    token_wait_seconds: float = 0.0
    flight_joins: float = 0.0
    lock_waits: float = 0.0
    lock_wait_seconds: float = 0.0


class ObservedCall(msgspec.Struct):
    """Filled in while the call runs: the dispatcher sets ``store`` once it has chosen one."""

    store: str = "-"


class _Observation:
    """:meth:`CallTelemetry.observe`'s block: a class, not a generator, as it wraps every call."""

    __slots__ = ("_call", "_observed", "_started", "_telemetry")

    def __init__(self, telemetry: CallTelemetry, call: CallContext) -> None:
        self._telemetry = telemetry
        self._call = call
        self._observed = ObservedCall()

    def __enter__(self) -> ObservedCall:
        self._started = self._telemetry.clock.monotonic()
        return self._observed

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        telemetry = self._telemetry
        seconds = telemetry.clock.monotonic() - self._started
        telemetry.record(self._call, self._observed, outcome_of(exc), seconds)


def outcome_of(exc: BaseException | None) -> str:
    """``ok``, the domain error's class name, ``DeadlineExceeded``, ``cancelled`` or ``internal_error``."""
    if exc is None:
        return "ok"
    if not isinstance(exc, Exception):  # cancellation (and interpreter exits) are BaseExceptions only
        return "cancelled"
    for candidate in (exc, exc.__cause__):
        if isinstance(candidate, OrderDeskError):
            return type(candidate).__name__
        if isinstance(candidate, TimeoutError):
            return "DeadlineExceeded"
    return "internal_error"


def _cache_summary(stats: CallStats) -> str:
    hits = sum(n for (_, hit), n in stats.cache.items() if hit)
    misses = sum(n for (_, hit), n in stats.cache.items() if not hit)
    if misses:
        return "miss"
    return "hit" if hits else "-"


class CallTelemetry:
    """Per-server call totals, their Prometheus view, and the per-call log line.

    A call only adds to plain counters; prometheus-client is imported and the totals turned
    into metric families when something reads them (``exposition``, ``registry``), so a stdio
    server, which has no metrics endpoint, never loads it.

    Args:
        clock: the monotonic clock calls are timed with.
    """

    def __init__(self, *, clock: Clock) -> None:
        self.clock = clock
        self.totals = CallTotals()
        self._registry: CollectorRegistry | None = None

    @property
    def registry(self) -> CollectorRegistry:
        """A Prometheus registry whose one collector reads :attr:`totals` at every scrape."""
        if self._registry is None:
            from orderdesk_mcp.entrypoints.call_metrics import registry_of

            self._registry = registry_of(self.totals)
        return self._registry

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format (``call_metrics.METRICS_CONTENT_TYPE``)."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)

    def observe(self, call: CallContext) -> _Observation:
        """Time the call in a ``with`` block; on the way out, record its stats and log one line."""
        return _Observation(self, call)

    def record(self, call: CallContext, observed: ObservedCall, outcome: str, seconds: float) -> None:
        """Add one finished call to the totals and write its log line."""
        stats, totals = call.stats, self.totals
        totals.calls[call.tool, outcome] += 1
        buckets = totals.latency_buckets.get(call.tool)
        if buckets is None:
            buckets = totals.latency_buckets[call.tool] = [0] * (len(LATENCY_BUCKETS) + 1)
        buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1  # le: a duration on a bound counts in it
        totals.latency_sum[call.tool] = totals.latency_sum.get(call.tool, 0.0) + seconds
        for (method, status), count in stats.upstream.items():
            totals.upstream[method, str(status)] += count
        for (kind, hit), count in stats.cache.items():
            totals.cache[kind, "hit" if hit else "miss"] += count
        totals.retries += stats.retries
        totals.rate_limited += stats.rate_limited
        totals.token_wait_seconds += stats.token_wait_seconds
        totals.flight_joins += stats.flight_joins
        totals.lock_wait_seconds += stats.lock_wait_seconds
        if stats.lock_wait_seconds > 0:
            totals.lock_waits += 1
        if not log.isEnabledFor(logging.INFO):
            return
        fields = {
            "tool": call.tool,
            "tenant": call.tenant or "-",
            "store": observed.store,
            "outcome": outcome,
            "duration_ms": round(seconds * 1000, 1),
            "upstream_requests": stats.upstream_requests,
            "cache": _cache_summary(stats),
            "attempts": stats.attempts,
            "retries": stats.retries,
        }
        text = " ".join(f"{k}={v}" for k, v in fields.items())
        log.info("tool call %s", text, extra={"fields": fields})
