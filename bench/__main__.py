"""``python -m bench``: run the benchmark, print the table, write bench/results.json.

Not part of ``make test``. ``--quick`` runs fewer iterations (a smoke run).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio

from bench._agent import run_agent_tasks
from bench._latency import Counts, measure_latencies
from bench._lock import measure_lock
from bench._report import render, targets, write_json
from bench._rss import COUNT, measure_rss, rss_child
from bench._sizes import measure_sizes
from bench._startup import measure_startup
from bench._stdio import serve_stdio
from bench._transports import TransportName, serve_transport
from bench._upstream import running_simulator
from bench._workload import run_workload, single_flight

WORKLOAD_ORDERS = 1_000
FLIGHT_KEYS = 10
FLIGHT_CLIENTS = 50


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=50.0, help="injected per upstream request")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("results.json"))
    parser.add_argument("--rss-child", choices=["baseline", "unbounded", "bounded"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


async def _run(latency: float, quick: bool, data_dir: Path) -> dict[str, Any]:
    counts = Counts(fast=100, slow=30, updates=15) if quick else Counts(fast=500, slow=150, updates=80)
    workload_calls = {1: 200, 50: 1000} if quick else {1: 1000, 50: 5000}
    results: dict[str, Any] = {"latency": {}, "workload": []}
    async with running_simulator(latency=latency, orders=WORKLOAD_ORDERS + FLIGHT_KEYS) as upstream:
        ids = list(upstream.state.orders("100001"))
        workload_ids, flight_ids = ids[:WORKLOAD_ORDERS], ids[WORKLOAD_ORDERS:]
        transports: tuple[TransportName, ...] = ("in-process", "streamable-http")
        for name in transports:
            async with serve_transport(name, base_url=upstream.base_url, data_dir=data_dir) as served:
                results["latency"][name] = await measure_latencies(served, upstream, workload_ids, counts)
        results["sizes"] = await measure_sizes(upstream, workload_ids[-1], data_dir, counts.fast)
        # Workload and single flight on a fresh HTTP server: a cold cache, as at start-up.
        async with serve_transport(
            "streamable-http", base_url=upstream.base_url, data_dir=data_dir
        ) as served:
            results["single_flight"] = await single_flight(
                served, upstream, flight_ids, clients=FLIGHT_CLIENTS
            )
            for seed, (clients, calls) in enumerate(workload_calls.items()):
                results["workload"].append(
                    await run_workload(
                        served, upstream, workload_ids, clients=clients, calls=calls, seed=seed
                    )
                )
        # The writes issue: stdio latency, an agent's task on a fresh server, the write lock, start-up.
        async with serve_stdio(base_url=upstream.base_url, data_dir=data_dir) as served:
            results["stdio_latency"] = await measure_latencies(served, upstream, workload_ids, counts)
        async with serve_transport(
            "streamable-http", base_url=upstream.base_url, data_dir=data_dir
        ) as served:
            results["agent"] = await run_agent_tasks(
                served, upstream, tasks=5 if quick else 20, first_offset=0
            )
        results["lock"] = await measure_lock(upstream, flight_ids[-1], data_dir, runs=200 if quick else 1000)
        results["startup"] = await measure_startup(
            base_url=upstream.base_url, data_dir=data_dir, runs=3 if quick else 15
        )
    return results


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    if args.rss_child:
        rss_child(args.rss_child)
        return 0
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="orderdesk-bench-") as tmp:
        results = anyio.run(_run, args.latency_ms / 1000, args.quick, Path(tmp))
    results["rss"] = measure_rss()
    results["config"] = {
        "latency_ms": args.latency_ms,
        "quick": args.quick,
        "rss_orders": COUNT,
        "python": sys.version.split()[0],
    }
    results["targets"] = [
        {"target": name, "measured": measured, "passed": passed}
        for name, measured, passed in targets(results)
    ]
    print(render(results | {"targets": targets(results)}))
    write_json(results, args.output)
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
