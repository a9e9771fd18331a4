"""Sequential latency of each tool on one transport, with the upstream work it caused."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp import Client

from bench._stats import summary
from bench._transports import NOOP, Served
from bench._upstream import Upstream

__all__ = ["IDLE_CONTROL", "Counts", "Scenario", "measure_latencies"]

# The control for "ours" of an uncached call: the same cached get, but the client first idles as
# long as the upstream's latency. No upstream is involved, so any growth over "orders_get cached"
# is the machine running the same code slower after a pause (on the benchmark VM: caches refilled).
IDLE_CONTROL = "orders_get cached, idle"

Call = tuple[str, dict[str, Any]]
_ROUND_ROBIN = 3  # the first plans (floor, cached get, cached list) are measured taking turns


@dataclass(frozen=True)
class Counts:
    fast: int  # noop and cached calls
    slow: int  # uncached reads
    updates: int


@dataclass
class Scenario:
    name: str
    seconds: list[float] = field(default_factory=list)
    upstream_requests: int = 0
    applied_latency: list[float] = field(default_factory=list)  # injected (nominal), per call
    simulator_work: list[float] = field(default_factory=list)  # simulator handlers, per call
    upstream_held: list[float] = field(default_factory=list)  # the simulator held the requests, per call

    def result(self, floor: Scenario) -> dict[str, Any]:
        """Percentiles, ratios to ``floor``, and (when upstream was called) our overhead."""
        out: dict[str, Any] = {"tool": self.name, **summary(self.seconds)}
        base = summary(floor.seconds)
        out["upstream_requests_per_call"] = self.upstream_requests / max(1, len(self.seconds))
        out["ratio_to_floor_p50"] = out["p50_ms"] / base["p50_ms"]
        out["ratio_to_floor_p99"] = out["p99_ms"] / base["p99_ms"]
        if self.upstream_requests:
            # Ours: the call minus the time the upstream held its requests (from their first bytes
            # reaching it to its answers written: the injected latency as actually slept, timer
            # overshoot included, and the simulator's own work). The older "nominal" figure
            # subtracts only the injected 50 ms, charging all the rest to us.
            ours = [s - held for s, held in zip(self.seconds, self.upstream_held, strict=True)]
            nominal = [s - slept for s, slept in zip(self.seconds, self.applied_latency, strict=True)]
            out["overhead"] = summary(ours)
            out["overhead_nominal"] = summary(nominal)
        return out


async def _run(
    client: Client, upstream: Upstream, scenario: Scenario, calls: list[Call], *, idle: float = 0.0
) -> None:
    latency = upstream.state.faults.latency
    for tool, args in calls:
        if idle:
            await anyio.sleep(idle)  # not timed
        before, work_before, held_before = (
            upstream.request_count,
            upstream.handler_seconds,
            upstream.held_seconds,
        )
        started = time.perf_counter()
        result = await client.call_tool(tool, args)
        elapsed = time.perf_counter() - started
        if result.is_error:
            text = " ".join(getattr(b, "text", "") for b in result.content)
            raise RuntimeError(f"{tool} {args} failed during the benchmark: {text}")
        made = upstream.request_count - before
        scenario.seconds.append(elapsed)
        scenario.upstream_requests += made
        scenario.applied_latency.append(made * latency)
        scenario.simulator_work.append(upstream.handler_seconds - work_before)
        scenario.upstream_held.append(upstream.held_seconds - held_before)


async def measure_latencies(
    served: Served, upstream: Upstream, order_ids: list[str], counts: Counts
) -> list[dict[str, Any]]:
    """Floor, cached and uncached reads, and updates, each measured sequentially."""
    hot = order_ids[-1]
    # A list page fills the cache for its orders, so the uncached reads avoid the warm-up's page.
    async with served.connect() as client:
        first_page = (await client.call_tool("orders_list", {"limit": 50})).structured_content or {}
    listed = {order["id"] for order in first_page.get("orders", [])}
    cold = [order_id for order_id in order_ids if order_id not in listed][: counts.slow]
    edits = order_ids[counts.slow : counts.slow + counts.updates]
    plans: list[tuple[str, Callable[[int], Call], int, list[Call]]] = [
        ("no-op floor", lambda n: (NOOP, {}), counts.fast, [(NOOP, {})] * 20),
        ("orders_get cached", lambda n: ("orders_get", {"order_id": hot}), counts.fast,
         [("orders_get", {"order_id": hot})]),
        ("orders_list cached (50)", lambda n: ("orders_list", {"limit": 50}), counts.fast,
         [("orders_list", {"limit": 50})]),
        # 100 calls x 50 ms idle stay well inside the 15 s TTL the warm-up get starts.
        (IDLE_CONTROL, lambda n: ("orders_get", {"order_id": hot}), min(counts.slow, 100),
         [("orders_get", {"order_id": hot})]),
        ("orders_get uncached", lambda n: ("orders_get", {"order_id": cold[n]}), len(cold), []),
        ("orders_list uncached (50)", lambda n: ("orders_list", {"limit": 50, "offset": n + 1}),
         counts.slow, []),
        ("orders_update", lambda n: ("orders_update", {"order_id": edits[n], "changes": {
            "order_metadata": {"bench_note": f"{served.name} edit {n}"}}}), len(edits), []),
    ]  # fmt: skip
    results: list[dict[str, Any]] = []
    async with served.connect() as client:
        # The floor and the cached reads take turns, call by call, so drift in the machine's speed
        # falls on all three alike; run one after another, the floor came out of the quietest minute.
        fast, slow = plans[:_ROUND_ROBIN], plans[_ROUND_ROBIN:]
        for _, _, _, warm_up in fast:
            await _run(client, upstream, Scenario("warm-up"), warm_up)
        turns = [Scenario(name) for name, _, _, _ in fast]
        spacer = Scenario("after the list")  # not reported
        for n in range(counts.fast):
            for scenario, (_, make, _, _) in zip(turns, fast, strict=True):
                await _run(client, upstream, scenario, [make(n)])
            # The list's answer (18 KB) has a tail: over stdio the server is still finishing its write
            # when the client already sends the next call, which then took 0.15-0.7 ms longer. A no-op
            # nobody counts takes that tail, so the floor measured next is a no-op's own cost.
            await _run(client, upstream, spacer, [(NOOP, {})])
        floor = turns[0]
        results += [scenario.result(floor) for scenario in turns]
        for name, make, times, warm_up in slow:
            await _run(client, upstream, Scenario("warm-up"), warm_up)
            scenario = Scenario(name)
            idle = upstream.state.faults.latency if name == IDLE_CONTROL else 0.0
            await _run(client, upstream, scenario, [make(n) for n in range(times)], idle=idle)
            results.append(scenario.result(floor))
    return results
