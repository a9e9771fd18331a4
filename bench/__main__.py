"""Run the benchmark: ``python -m bench [--latency-ms 50] [--quick]``.

Starts the OrderDesk simulator on loopback with an injected latency, drives the real MCP
server (real container, HTTP gateway, cache) through ``mcp.Client`` in-process and over
streamable HTTP, prints a table and writes ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import uvicorn
from aiohttp import web
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from typing_extensions import TypedDict

from adapters.simulator import SimulatorState, create_app
from bench._rss import measure_rss, rss_child
from bench._stats import percentiles, timed
from entrypoints.container import Container, open_services
from entrypoints.mcp_server import build_server
from entrypoints.services import AppServices
from entrypoints.settings import SIMULATOR_API_KEY, SIMULATOR_STORE_ID, Settings

ORDERS = 1_000
FIRST_ID = 500_001


class NoopOut(TypedDict):
    ok: bool


def _register_noop(mcp: MCPServer[AppServices]) -> None:
    @mcp.tool(name="bench.noop", structured_output=True, annotations=ToolAnnotations(read_only_hint=True))
    async def noop() -> NoopOut:
        """Does nothing: the transport's floor."""
        return {"ok": True}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def _simulator(latency: float) -> AsyncIterator[tuple[SimulatorState, str]]:
    state = SimulatorState()
    state.faults.rate_limit_enabled = False
    state.add_store(SIMULATOR_STORE_ID, SIMULATOR_API_KEY)
    state.seed_samples(SIMULATOR_STORE_ID, ORDERS)
    state.faults.latency = latency
    runner = web.AppRunner(create_app(state), access_log=None)
    await runner.setup()
    port = _free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield state, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _server(base_url: str, data_dir: str) -> tuple[Container, MCPServer[AppServices]]:
    settings = Settings(
        gateway="http", credentials="env", store_id=SIMULATOR_STORE_ID, api_key=SIMULATOR_API_KEY,
        base_url=base_url, rate_burst=1_000_000, rate_per_second=1_000_000.0, data_dir=data_dir,
    )  # fmt: skip
    container = Container(settings=settings)

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppServices]) -> AsyncIterator[AppServices]:
        async with open_services(container) as services:
            yield services

    return container, build_server(lifespan, read_only=False, extra=_register_noop)


async def _latencies(
    client: Client, iterations: int, latency: float, next_cold: Callable[[], str]
) -> dict[str, Any]:
    floor = await timed(lambda: client.call_tool("bench.noop", {}), iterations)
    await client.call_tool("orders.get", {"order_id": str(FIRST_ID)})
    cached = await timed(lambda: client.call_tool("orders.get", {"order_id": str(FIRST_ID)}), iterations)
    uncached = await timed(lambda: client.call_tool("orders.get", {"order_id": next_cold()}), iterations // 4)
    offsets = iter(range(0, 10_000, 50))
    listed = await timed(
        lambda: client.call_tool("orders.list", {"limit": 50, "offset": next(offsets) % ORDERS}),
        iterations // 10,
    )
    counter = iter(range(10_000))
    updated = await timed(
        lambda: client.call_tool(
            "orders.update", {"order_id": str(FIRST_ID + 1), "changes": {"tag_name": f"t{next(counter)}"}}
        ),
        iterations // 10,
    )
    result: dict[str, Any] = {
        "floor": percentiles(floor),
        "get_cached": percentiles(cached),
        "get_uncached": percentiles(uncached),
        "list_50": percentiles(listed),
        "update": percentiles(updated),
    }
    base = result["floor"]["p50_ms"]
    for name in ("get_cached", "get_uncached", "list_50", "update"):
        result[name]["ratio_to_floor_p50"] = result[name]["p50_ms"] / base
    result["uncached_overhead_p50_ms"] = result["get_uncached"]["p50_ms"] - latency * 1000
    return result


def _cold_ids(start: int) -> Callable[[], str]:
    ids = iter(range(start, FIRST_ID + ORDERS))
    return lambda: str(next(ids))


async def _workload(
    url: str, state: SimulatorState, container: Container, clients: int, calls: int
) -> dict[str, float]:
    rng = random.Random(11)
    weights = [1 / (k**1.1) for k in range(1, ORDERS + 1)]
    plan = [
        ("update" if rng.random() < 0.1 else "get", FIRST_ID + rng.choices(range(ORDERS), weights)[0])
        for _ in range(calls)
    ]
    before_requests = len(state.requests)
    before = container.stats().snapshot()
    queue = iter(plan)

    async def agent() -> None:
        async with Client(url) as client:
            for tool, order_id in queue:
                if tool == "get":
                    await client.call_tool("orders.get", {"order_id": str(order_id)})
                else:
                    await client.call_tool(
                        "orders.update",
                        {"order_id": str(order_id), "changes": {"tag_name": f"w{rng.random()}"}},
                    )

    async with anyio.create_task_group() as tg:
        for _ in range(clients):
            tg.start_soon(agent)
    after = container.stats().snapshot()
    hits = sum(v.get("hits", 0) for v in after.values()) - sum(v.get("hits", 0) for v in before.values())
    misses = sum(v.get("misses", 0) for v in after.values()) - sum(
        v.get("misses", 0) for v in before.values()
    )
    reads = sum(1 for tool, _ in plan if tool == "get")
    return {
        "clients": float(clients),
        "calls": float(calls),
        "hit_rate": hits / max(1, hits + misses),
        "cache_lookups": float(hits + misses),
        "reads": float(reads),
        "upstream_per_call": (len(state.requests) - before_requests) / calls,
    }


async def _single_flight(client: Client, state: SimulatorState) -> dict[str, float]:
    order_id = str(FIRST_ID + ORDERS - 1)
    before = sum(1 for r in state.requests if r.path.endswith(f"/{order_id}"))
    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(client.call_tool, "orders.get", {"order_id": order_id})
    upstream = sum(1 for r in state.requests if r.path.endswith(f"/{order_id}")) - before
    return {"concurrent_gets": 100.0, "upstream_requests": float(upstream)}


async def _run(latency: float, quick: bool) -> dict[str, Any]:
    iterations = 80 if quick else 400
    results: dict[str, Any] = {"latency_ms": latency * 1000, "iterations": iterations}
    with tempfile.TemporaryDirectory() as data_dir:
        async with _simulator(latency) as (state, base_url):
            _, server = _server(base_url, data_dir)
            async with Client(server) as client:
                results["in_process"] = await _latencies(client, iterations, latency, _cold_ids(FIRST_ID + 2))
                results["single_flight"] = await _single_flight(client, state)
            port = _free_port()
            http_container, http_server = _server(base_url, data_dir)
            app = http_server.streamable_http_app(host="127.0.0.1")
            uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
            async with anyio.create_task_group() as tg:
                tg.start_soon(uv.serve)
                while not uv.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
                    await anyio.sleep(0.05)
                url = f"http://127.0.0.1:{port}/mcp"
                async with Client(url) as client:
                    results["http"] = await _latencies(
                        client, iterations // 2, latency, _cold_ids(FIRST_ID + 400)
                    )
                calls = 300 if quick else 1_000
                results["workload"] = [
                    await _workload(url, state, http_container, clients, calls) for clients in (1, 50)
                ]
                uv.should_exit = True
    results["rss"] = measure_rss()
    return results


def _verdicts(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    rows = []
    for transport in ("in_process", "http"):
        ratio = r[transport]["get_cached"]["ratio_to_floor_p50"]
        rows.append((f"cached orders.get within 1.5x floor ({transport})", f"{ratio:.2f}x", ratio <= 1.5))
        overhead = r[transport]["uncached_overhead_p50_ms"]
        rows.append((f"uncached overhead p50 < 2 ms ({transport})", f"{overhead:.2f} ms", overhead < 2.0))
    for load in r["workload"]:
        rate = load["hit_rate"]
        rows.append((f"hit rate >= 80% ({int(load['clients'])} clients)", f"{rate:.1%}", rate >= 0.8))
    upstream = r["single_flight"]["upstream_requests"]
    rows.append(("single flight: 1 upstream request per cold key", f"{upstream:.0f}", upstream == 1))
    return rows


def _print(r: dict[str, Any]) -> None:
    out = sys.stdout
    out.write(f"\norderdesk-mcp benchmark (simulated upstream latency {r['latency_ms']:.0f} ms)\n\n")
    out.write(f"{'transport':<11}{'call':<14}{'p50 ms':>9}{'p99 ms':>9}{'x floor':>9}\n")
    for transport in ("in_process", "http"):
        for name in ("floor", "get_cached", "get_uncached", "list_50", "update"):
            row = r[transport][name]
            ratio = row.get("ratio_to_floor_p50", 1.0)
            out.write(f"{transport:<11}{name:<14}{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{ratio:>9.2f}\n")
        out.write(f"{transport:<11}{'overhead':<14}{r[transport]['uncached_overhead_p50_ms']:>9.2f}\n")
    out.write("\nworkload (Zipf reads over 1,000 orders, 10% updates, streamable HTTP)\n")
    for load in r["workload"]:
        out.write(
            f"  {int(load['clients']):>2} clients: hit rate {load['hit_rate']:.1%}, "
            f"upstream requests per call {load['upstream_per_call']:.2f}\n"
        )
    out.write(
        "\nsingle flight: 100 concurrent cold gets -> "
        f"{r['single_flight']['upstream_requests']:.0f} upstream\n"
    )
    for mode, row in r["rss"].items():
        out.write(
            f"peak RSS, 100,000 orders, {mode} cache: "
            f"{row['peak_rss_mib']:.0f} MiB ({row['entries']:.0f} kept)\n"
        )
    out.write("\ntargets\n")
    for label, value, ok in _verdicts(r):
        out.write(f"  {'PASS' if ok else 'FAIL'}  {label}: {value}\n")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rss-child", choices=["bounded", "unbounded"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
        return
    results = anyio.run(_run, args.latency_ms / 1000, args.quick)
    results["targets"] = [{"target": t, "value": v, "pass": ok} for t, v, ok in _verdicts(results)]
    Path(__file__).with_name("results.json").write_text(json.dumps(results, indent=2) + "\n")
    _print(results)


if __name__ == "__main__":
    main()
