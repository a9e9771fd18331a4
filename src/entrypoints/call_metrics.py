"""The Prometheus view of a server's call totals: one collector, read at every scrape.

Imported only when metrics are read (``GET /metrics`` over HTTP, or a test), so a stdio server
never loads prometheus-client. Names, help texts and labels are those the README lists.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from orderdesk_mcp.entrypoints.call_telemetry import LATENCY_BUCKETS, CallTotals

__all__ = ["METRICS_CONTENT_TYPE", "registry_of"]

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def _labelled(
    name: str, documentation: str, labels: list[str], values: dict[tuple[str, str], int]
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric(list(key), value)
    return family


class _TotalsCollector(Collector):
    def __init__(self, totals: CallTotals) -> None:
        self._totals = totals

    def collect(self) -> Iterator[Metric]:
        t = self._totals
        yield _labelled(
            "orderdesk_tool_calls", "Tool calls by tool and outcome", ["tool", "outcome"], t.calls
        )
        latency = HistogramMetricFamily(
            "orderdesk_tool_call_duration_seconds", "Tool call duration", labels=["tool"]
        )
        for tool, counts in sorted(t.latency_buckets.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*map(str, LATENCY_BUCKETS), "+Inf"), counts, strict=True):
                cumulative += count
                buckets.append((bound, float(cumulative)))
            latency.add_metric([tool], buckets, sum_value=t.latency_sum[tool])
        yield latency
        yield _labelled(
            "orderdesk_upstream_requests",
            "Requests sent to OrderDesk by method and status (0: no answer came back)",
            ["method", "status"],
            t.upstream,
        )
        yield _counter("orderdesk_upstream_retries", "Upstream requests retried", t.retries)
        yield _counter("orderdesk_upstream_rate_limited", "429 answers from OrderDesk", t.rate_limited)
        yield _counter(
            "orderdesk_rate_limit_wait_seconds",
            "Seconds spent waiting for rate-limit tokens",
            t.token_wait_seconds,
        )
        yield _labelled(
            "orderdesk_cache_lookups", "Cache lookups by kind and result", ["kind", "result"], t.cache
        )
        yield _counter(
            "orderdesk_single_flight_joins",
            "Reads that joined an identical read in flight instead of sending their own",
            t.flight_joins,
        )
        yield _counter(
            "orderdesk_write_lock_waits", "Tool calls that waited for another writer's lock", t.lock_waits
        )
        yield _counter(
            "orderdesk_write_lock_wait_seconds", "Seconds spent waiting for write locks", t.lock_wait_seconds
        )


def registry_of(totals: CallTotals) -> CollectorRegistry:
    """A registry of its own (servers in one process never share metrics) reading ``totals``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_TotalsCollector(totals))
    return registry
