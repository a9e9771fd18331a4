"""The printed table, the PASS/FAIL targets, and bench/results.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench._writes_report import writes_lines, writes_targets

__all__ = ["render", "targets", "write_json"]

CACHED_MAX_RATIO = 1.5
LIST_MAX_SHARE_OF_FULL = 0.25
LIST_MAX_CHARS = 20_000
GET_MAX_RATIO = 1.05
STDIO_LIST_MAX_RATIO = 2.0


def _fmt(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, measured, passed) for every target in the issue."""
    checks: list[tuple[str, str, bool]] = []
    for transport, rows in results["latency"].items():
        by_tool = {row["tool"]: row for row in rows}
        cached = by_tool["orders_get cached"]
        ratio = cached["ratio_to_floor_p50"]
        checks.append(
            (
                f"[{transport}] cached orders_get p50 <= {CACHED_MAX_RATIO}x no-op floor",
                f"{_fmt(ratio)}x ({_fmt(cached['p50_ms'])} vs {_fmt(by_tool['no-op floor']['p50_ms'])} ms)",
                ratio <= CACHED_MAX_RATIO,
            )
        )
    # The uncached overhead on each transport stays in the table ("ours"); the writes issue replaced
    # its old target (under 2 ms, which over HTTP included the HTTP floor) with the stdio one: at
    # most 2 ms beyond the upstream's latency plus the no-op floor (_writes_report).
    # The hit rates stay in the table; the agent workload's request ratio replaced their
    # 80% target (with a 15 s TTL the hit rate is set by the workload, not by us).
    flight = results["single_flight"]
    checks.append((
        f"single flight: 1 upstream GET per cold key ({flight['clients']} clients at once)",
        f"max {flight['upstream_gets_per_cold_key_max']} over {flight['cold_keys']} keys",
        flight["upstream_gets_per_cold_key_max"] == 1,
    ))  # fmt: skip
    if "sizes" in results:
        checks += _size_checks(results["sizes"])
    checks += writes_targets(results)
    return checks


def _size_checks(sizes: dict[str, Any]) -> list[tuple[str, str, bool]]:
    share = sizes["default_list_chars"] / sizes["full_list_chars"]
    get_ratio = sizes["get_chars"] / sizes["order_compact_chars"]
    stdio = sizes["stdio_cached_default_list_ratio"]
    return [
        (
            f"default orders_list text <= {LIST_MAX_SHARE_OF_FULL:.0%} of the full view's (same 50 orders)",
            f"{sizes['default_list_chars']:,} vs {sizes['full_list_chars']:,} chars ({share:.1%})",
            share <= LIST_MAX_SHARE_OF_FULL,
        ),
        (
            f"default orders_list text within the {LIST_MAX_CHARS:,}-character budget",
            f"{sizes['default_list_chars']:,} chars",
            sizes["default_list_chars"] <= LIST_MAX_CHARS,
        ),
        (
            f"orders_get text <= {GET_MAX_RATIO}x the order's compact JSON",
            f"{get_ratio:.3f}x ({sizes['get_chars']:,} vs {sizes['order_compact_chars']:,} chars)",
            get_ratio <= GET_MAX_RATIO,
        ),
        (
            f"[stdio] cached default orders_list p50 <= {STDIO_LIST_MAX_RATIO}x no-op floor",
            f"{_fmt(stdio)}x ({_fmt(sizes['stdio_cached_default_list_p50_ms'])} vs "
            f"{_fmt(sizes['stdio_floor_p50_ms'])} ms)",
            stdio <= STDIO_LIST_MAX_RATIO,
        ),
    ]


def _latency_table(transport: str, rows: list[dict[str, Any]]) -> list[str]:
    head = f"{'tool':<28}{'p50 ms':>9}{'p99 ms':>9}{'x floor':>9}{'x fl p99':>9}{'up/call':>9}"
    head += f"{'ours p50':>10}{'ours p99':>10}{'n':>6}"
    lines = [
        f"Latency over {transport} (ours = call minus the time the simulator held its requests: "
        "reading each, the injected latency as slept, its work and writing the answer)",
        head,
    ]
    for row in rows:
        ours = row.get("overhead")
        lines.append(
            f"{row['tool']:<28}{_fmt(row['p50_ms']):>9}{_fmt(row['p99_ms']):>9}"
            f"{_fmt(row['ratio_to_floor_p50']):>9}{_fmt(row['ratio_to_floor_p99']):>9}"
            f"{_fmt(row['upstream_requests_per_call']):>9}"
            f"{(_fmt(ours['p50_ms']) if ours else '-'):>10}{(_fmt(ours['p99_ms']) if ours else '-'):>10}"
            f"{row['n']:>6}"
        )
    return lines


def render(results: dict[str, Any]) -> str:
    """The whole report as text."""
    config = results["config"]
    lines = [
        f"orderdesk-mcp benchmark: simulator on loopback, {config['latency_ms']} ms injected per upstream "
        f"request, real HTTP gateway, {'quick' if config['quick'] else 'full'} run",
        "",
    ]
    for transport, rows in results["latency"].items():
        lines += [*_latency_table(transport, rows), ""]
    lines.append("Agent-like workload over streamable HTTP (Zipf reads over 1,000 orders, 10% updates)")
    lines.append(
        f"{'clients':>8}{'calls':>7}{'calls/s':>9}{'hit rate':>10}{'1st half':>10}{'2nd half':>10}"
        f"{'up/call':>9}{'errors':>8}  upstream requests"
    )
    for run in results["workload"]:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(run["upstream_by_kind"].items()))
        lines.append(
            f"{run['clients']:>8}{run['calls']:>7}{_fmt(run['calls_per_second'], 1):>9}"
            f"{run['hit_rate']:>10.1%}{run['hit_rate_first_half']:>10.1%}{run['hit_rate_second_half']:>10.1%}"
            f"{_fmt(run['upstream_requests_per_call'], 3):>9}{run['errors']:>8}  {kinds}"
        )
    flight = results["single_flight"]
    lines.append(
        f"Single flight: {flight['clients']} clients ask for each of {flight['cold_keys']} cold orders at "
        f"once: upstream GETs per key max {flight['upstream_gets_per_cold_key_max']}, "
        f"mean {flight['upstream_gets_per_cold_key_mean']:.2f}"
    )
    lines.append("")
    lines += writes_lines(results, _latency_table)
    rss = results["rss"]
    lines.append(f"Peak RSS of a fresh process (VmHWM) caching {config['rss_orders']:,} orders")
    for mode, row in rss.items():
        lines.append(
            f"  {mode:<10}{_fmt(row['peak_rss_mib'], 1):>8} MiB  entries kept {row['entries']:>7,}"
            f"  cache bytes {row['cache_bytes'] / 2**20:>7.1f} MiB"
        )
    if "sizes" in results:
        sizes = results["sizes"]
        lines += [
            "",
            "Result sizes (characters of the text an agent reads)",
            f"  default orders_list ({sizes['default_list_orders']} orders, summary): "
            f"{sizes['default_list_chars']:,}; full view of 50: {sizes['full_list_chars']:,}; "
            f"orders_get: {sizes['get_chars']:,} (order alone {sizes['order_compact_chars']:,})",
            f"  over stdio: no-op floor p50 {_fmt(sizes['stdio_floor_p50_ms'])} ms, cached default "
            f"orders_list p50 {_fmt(sizes['stdio_cached_default_list_p50_ms'])} ms",
        ]
    lines += ["", "Targets"]
    for name, measured, passed in results["targets"]:
        lines.append(f"  {'PASS' if passed else 'FAIL'}  {name}: {measured}")
    return "\n".join(lines)


def write_json(results: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
