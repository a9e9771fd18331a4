"""An agent-like workload: Zipf-distributed reads over 1,000 orders with 10% updates.

Per call: 10% ``orders_update`` of a Zipf-chosen order, 10% ``orders_list`` of a
Zipf-chosen page of 50, otherwise ``orders_get`` of a Zipf-chosen order. Reported: cache
hit rate (the server's own counters) and upstream requests per tool call. A second check
sends every client at the same cold key at once: single flight must fetch it once.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from typing import Any

import anyio
from mcp import Client

from bench._transports import Served
from bench._upstream import Upstream

__all__ = ["ZIPF_S", "run_workload", "single_flight"]

ZIPF_S = 1.1
UPDATE_SHARE = 0.10
LIST_SHARE = 0.10
Call = tuple[str, dict[str, Any]]


class _Zipf:
    def __init__(self, items: list[str], rng: random.Random) -> None:
        self._items = items[:]
        rng.shuffle(self._items)  # popularity unrelated to id order
        weights = [1 / (rank**ZIPF_S) for rank in range(1, len(items) + 1)]
        self._cumulative = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random) -> str:
        point = rng.random() * self._cumulative[-1]
        return self._items[bisect.bisect_left(self._cumulative, point)]


def _plan(order_ids: list[str], calls: int, seed: int) -> list[Call]:
    rng = random.Random(seed)
    orders = _Zipf(order_ids, rng)
    pages = _Zipf([str(p) for p in range(len(order_ids) // 50)], rng)
    plan: list[Call] = []
    for n in range(calls):
        roll = rng.random()
        if roll < UPDATE_SHARE:
            change = {"order_metadata": {"bench_workload": n}}
            plan.append(("orders_update", {"order_id": orders.pick(rng), "changes": change}))
        elif roll < UPDATE_SHARE + LIST_SHARE:
            plan.append(("orders_list", {"limit": 50, "offset": 50 * int(pages.pick(rng))}))
        else:
            plan.append(("orders_get", {"order_id": orders.pick(rng)}))
    return plan


async def _worker(client: Client, calls: list[Call], errors: list[str]) -> None:
    for tool, args in calls:
        result = await client.call_tool(tool, args)
        if result.is_error:
            errors.append(f"{tool} {args}: {' '.join(getattr(b, 'text', '') for b in result.content)}")


def _upstream_kinds(upstream: Upstream, since: int) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for record in upstream.state.requests[since:]:
        kind = f"{record.method} {'/orders' if record.path.endswith('/orders') else '/orders/{id}'}"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


async def _phase(served: Served, plan: list[Call], clients: int, errors: list[str]) -> tuple[int, int]:
    """Run ``plan`` over ``clients`` concurrent clients; returns (hits, misses) it caused."""
    hits0, misses0 = served.hits_and_misses()
    async with anyio.create_task_group() as tg:
        for worker in range(clients):

            async def run(share: list[Call] = plan[worker::clients]) -> None:
                async with served.connect() as client:
                    await _worker(client, share, errors)

            tg.start_soon(run)
    hits, misses = served.hits_and_misses()
    return hits - hits0, misses - misses0


async def run_workload(
    served: Served, upstream: Upstream, order_ids: list[str], *, clients: int, calls: int, seed: int
) -> dict[str, Any]:
    """Run ``calls`` tool calls split over ``clients`` concurrent clients, in two halves.

    The first half starts from whatever the cache holds; the second shows the warmed state.
    """
    plan = _plan(order_ids, calls, seed)
    half = len(plan) // 2
    requests0 = upstream.request_count
    errors: list[str] = []
    started = time.perf_counter()
    first = await _phase(served, plan[:half], clients, errors)
    second = await _phase(served, plan[half:], clients, errors)
    elapsed = time.perf_counter() - started
    hits, misses = first[0] + second[0], first[1] + second[1]
    made = upstream.request_count - requests0
    return {
        "clients": clients,
        "calls": calls,
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": elapsed,
        "calls_per_second": calls / elapsed,
        "cache_hits": hits,
        "cache_misses": misses,
        "hit_rate": hits / max(1, hits + misses),
        "hit_rate_first_half": first[0] / max(1, sum(first)),
        "hit_rate_second_half": second[0] / max(1, sum(second)),
        "upstream_requests": made,
        "upstream_requests_per_call": made / calls,
        "upstream_by_kind": _upstream_kinds(upstream, requests0),
        "tool_calls_by_kind": {
            tool: sum(1 for t, _ in plan if t == tool) for tool in sorted({t for t, _ in plan})
        },
        "mix": {"updates": UPDATE_SHARE, "lists": LIST_SHARE, "zipf_s": ZIPF_S, "orders": len(order_ids)},
    }


async def single_flight(
    served: Served, upstream: Upstream, cold_ids: list[str], *, clients: int
) -> dict[str, Any]:
    """Every client asks for the same cold order at the same moment, for each of ``cold_ids``."""
    per_key: dict[str, int] = {}
    async with anyio.create_task_group() as tg:
        ready = [anyio.Event() for _ in cold_ids]
        done = anyio.Event()
        opened = 0
        gates = [anyio.Event() for _ in cold_ids]
        finished = [0 for _ in cold_ids]

        async def client_task() -> None:
            nonlocal opened
            async with served.connect() as client:
                opened += 1
                if opened == clients:
                    gates[0].set()
                for index, order_id in enumerate(cold_ids):
                    await gates[index].wait()
                    result = await client.call_tool("orders_get", {"order_id": order_id})
                    if result.is_error:
                        raise RuntimeError(f"orders_get {order_id} failed in the single-flight check")
                    finished[index] += 1
                    if finished[index] == clients:
                        ready[index].set()
                        if index + 1 < len(cold_ids):
                            gates[index + 1].set()
                await done.wait()

        for _ in range(clients):
            tg.start_soon(client_task)
        with anyio.fail_after(60):
            await ready[-1].wait()
        done.set()
    for order_id in cold_ids:
        per_key[order_id] = upstream.gets_of(order_id)
    counts = list(per_key.values())
    return {
        "clients": clients,
        "cold_keys": len(cold_ids),
        "upstream_gets_per_cold_key_max": max(counts),
        "upstream_gets_per_cold_key_mean": sum(counts) / len(counts),
    }
