"""Targets and table lines of the writes issue: agent workload, write lock, start-up.

Kept apart from ``_report`` so that module only gains a call to each function here.
"""

from __future__ import annotations

from typing import Any

from bench._agent import AGENT_MAX_RATIO
from bench._latency import IDLE_CONTROL
from bench._lock import LOCK_OVERHEAD_MAX_MS
from bench._startup import STARTUP_MAX_RATIO
from bench._stdio import STDIO_OVERHEAD_MAX_MS

__all__ = ["writes_lines", "writes_targets"]


def writes_targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    checks: list[tuple[str, str, bool]] = []
    stdio = results.get("stdio_latency")
    if stdio is not None:
        by_tool = {row["tool"]: row for row in stdio}
        floor = by_tool["no-op floor"]["p50_ms"]
        beyond = by_tool["orders_get uncached"]["overhead"]["p50_ms"] - floor
        pause = by_tool[IDLE_CONTROL]["p50_ms"] - by_tool["orders_get cached"]["p50_ms"]
        checks.append((
            f"[stdio] uncached orders_get p50 beyond upstream latency plus the no-op floor <= "
            f"{STDIO_OVERHEAD_MAX_MS} ms",
            f"{beyond:.2f} ms (floor {floor:.2f} ms; control: a cached get costs {pause:+.2f} ms "
            "after the client idles as long as the latency, no upstream involved)",
            beyond <= STDIO_OVERHEAD_MAX_MS,
        ))  # fmt: skip
    agent = results.get("agent")
    if agent is not None:
        checks.append((
            f"agent workload: upstream requests <= {AGENT_MAX_RATIO}x the least any client could send",
            f"{agent['ratio']:.2f}x ({agent['requests_per_task']:.2f} vs "
            f"{agent['least_per_task']:.2f} per task)",
            agent["ratio"] <= AGENT_MAX_RATIO,
        ))  # fmt: skip
    lock = results.get("lock")
    if lock is not None:
        both = lock["two_processes"]
        checks.append((
            "write lock: 2 processes x 20 concurrent updates of one order on one Redis, every key kept",
            f"{both['keys_present']} of {both['updates']} keys ({both['error_count']} errors)",
            both["keys_present"] == both["updates"] and both["error_count"] == 0,
        ))  # fmt: skip
        p50 = lock["overhead"]["redis"]["p50_ms"]
        checks.append((
            f"write lock (Redis on loopback) adds p50 < {LOCK_OVERHEAD_MAX_MS} ms without contention",
            f"{p50:.3f} ms",
            p50 < LOCK_OVERHEAD_MAX_MS,
        ))  # fmt: skip
    startup = results.get("startup")
    if startup is not None:
        medians = startup["median_ms"]
        checks.append((
            f"start-up (spawn to first tools/list over stdio) <= {STARTUP_MAX_RATIO}x the no-op server's",
            f"{startup['ratio']:.2f}x ({medians['orderdesk-mcp']:.0f} vs {medians['no-op server']:.0f} ms)",
            startup["ratio"] <= STARTUP_MAX_RATIO,
        ))  # fmt: skip
    return checks


def writes_lines(results: dict[str, Any], latency_table: Any) -> list[str]:
    lines: list[str] = []
    if "stdio_latency" in results:
        lines += [*latency_table("stdio", results["stdio_latency"]), ""]
    agent = results.get("agent")
    if agent is not None:
        lines += [
            "Agent workload over streamable HTTP (per task: list 10, get 5, update 3 (1 with "
            "expected_fingerprint), list again" + (", add a note" if agent["notes"] else "") + ")",
            f"  {agent['tasks']} tasks: {agent['requests_per_task']:.2f} upstream requests per task, least "
            f"possible {agent['least_per_task']:.2f}, ratio {agent['ratio']:.2f}, cache hit rate "
            f"{agent['hit_rate']:.1%}",
            "",
        ]
    lock = results.get("lock")
    if lock is not None:
        both, over = lock["two_processes"], lock["overhead"]
        lines += [
            "Write lock",
            f"  2 processes x {both['updates'] // 2} concurrent updates of one order on one Redis: "
            f"{both['keys_present']}/{both['updates']} keys kept, {both['gets']} GETs and "
            f"{both['puts']} PUTs upstream, {both['error_count']} errors, {both['seconds']:.1f} s",
            f"  hold without contention (release after the call): Redis p50 {over['redis']['p50_ms']:.3f} ms "
            f"(p99 {over['redis']['p99_ms']:.3f}), in-process p50 {over['memory']['p50_ms']:.4f} ms; "
            f"one Redis GET round trip p50 {over['redis_round_trip']['p50_ms']:.3f} ms",
            "",
        ]
    startup = results.get("startup")
    if startup is not None:
        medians = startup["median_ms"]
        lines += [
            f"Start-up over stdio (median of {startup['runs']} spawns to the first tools/list answer; "
            "both servers from bytecode compiled first, as an install does)",
            f"  no-op server {medians['no-op server']:.0f} ms, "
            f"orderdesk-mcp {medians['orderdesk-mcp']:.0f} ms, ratio {startup['ratio']:.2f}",
            "",
        ]
    return lines
