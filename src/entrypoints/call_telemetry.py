"""What each tool call cost, as Prometheus metrics and as one INFO log line.

The dispatcher wraps every tool call in :meth:`CallTelemetry.observe`. When the call ends
(answered, refused, failed or cancelled) its :class:`~orderdesk_mcp.domain.context.CallStats`
are added to this server's metrics and written as one log line: tool, tenant, store,
outcome, duration, upstream requests, cache hit or miss, attempts (the correlation id comes
with every record). Each server owns its :class:`CollectorRegistry`, so several servers in
one process (tests, the benchmark) never share or clash over metrics.

Labels are bounded and carry no secret or personal data: tool names, outcomes (``ok`` or the
name of the domain error class), HTTP methods and statuses, cache kinds. Tenants and stores
appear in the log line only, never as labels.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from orderdesk_mcp.domain.context import CallContext, CallStats
from orderdesk_mcp.domain.errors import OrderDeskError
from orderdesk_mcp.ports.clock import Clock

__all__ = ["METRICS_CONTENT_TYPE", "CallTelemetry", "ObservedCall", "outcome_of"]

log = logging.getLogger("orderdesk_mcp.calls")

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(slots=True)
class ObservedCall:
    """Filled in while the call runs: the dispatcher sets ``store`` once it has chosen one."""

    store: str = "-"


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
    """Per-server metrics registry and the per-call log line.

    Args:
        clock: the monotonic clock calls are timed with.
    """

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._children: dict[tuple[object, ...], Any] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._calls = Counter(
            "orderdesk_tool_calls", "Tool calls by tool and outcome", ["tool", "outcome"], registry=r
        )
        self._latency = Histogram(
            "orderdesk_tool_call_duration_seconds", "Tool call duration", ["tool"],
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self._upstream = Counter(
            "orderdesk_upstream_requests",
            "Requests sent to OrderDesk by method and status (0: no answer came back)",
            ["method", "status"],
            registry=r,
        )
        self._retries = Counter("orderdesk_upstream_retries", "Upstream requests retried", registry=r)
        self._rate_limited = Counter(
            "orderdesk_upstream_rate_limited", "429 answers from OrderDesk", registry=r
        )
        self._token_wait = Counter(
            "orderdesk_rate_limit_wait_seconds", "Seconds spent waiting for rate-limit tokens", registry=r
        )
        self._cache = Counter(
            "orderdesk_cache_lookups", "Cache lookups by kind and result", ["kind", "result"], registry=r
        )
        self._joins = Counter(
            "orderdesk_single_flight_joins",
            "Reads that joined an identical read in flight instead of sending their own",
            registry=r,
        )
        self._lock_waits = Counter(
            "orderdesk_write_lock_waits", "Tool calls that waited for another writer's lock", registry=r
        )
        self._lock_wait_seconds = Counter(
            "orderdesk_write_lock_wait_seconds", "Seconds spent waiting for write locks", registry=r
        )

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:
        """The labelled child, remembered: ``labels()`` takes a lock and validates on every call."""
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format (:data:`METRICS_CONTENT_TYPE`)."""
        return generate_latest(self.registry)

    @contextmanager
    def observe(self, call: CallContext) -> Iterator[ObservedCall]:
        """Time the call in this block; on the way out, record its stats and log one line."""
        observed = ObservedCall()
        started = self._clock.monotonic()
        error: BaseException | None = None
        try:
            yield observed
        except BaseException as exc:
            error = exc
            raise
        finally:
            self.record(call, observed, outcome_of(error), self._clock.monotonic() - started)

    def record(self, call: CallContext, observed: ObservedCall, outcome: str, seconds: float) -> None:
        """Add one finished call to the metrics and write its log line."""
        stats = call.stats
        self._child(self._calls, call.tool, outcome).inc()
        self._child(self._latency, call.tool).observe(seconds)
        for (method, status), count in stats.upstream.items():
            self._child(self._upstream, method, str(status)).inc(count)
        for (kind, hit), count in stats.cache.items():
            self._child(self._cache, kind, "hit" if hit else "miss").inc(count)
        for counter, amount in (
            (self._retries, stats.retries),
            (self._rate_limited, stats.rate_limited),
            (self._token_wait, stats.token_wait_seconds),
            (self._joins, stats.flight_joins),
            (self._lock_wait_seconds, stats.lock_wait_seconds),
        ):
            if amount:  # most calls have none of these; skip the lock an increment takes
                counter.inc(amount)
        if stats.lock_wait_seconds > 0:
            self._lock_waits.inc()
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
