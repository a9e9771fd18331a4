"""One worker process of tests/test_multiprocess_rate_limit.py: reads as fast as the shared bucket allows.

It wires what production wires (HttpOrderGateway observing a RedisRateLimiter, wrapped in the
ResilientOrderGateway on the system clock), prints ``ready``, waits for ``go`` on stdin, then
runs ``--tasks`` concurrent read loops for ``--seconds`` and prints a JSON summary.
"""

from __future__ import annotations

import argparse
import sys
import time

import anyio
import msgspec
import redis.asyncio

from adapters.env_credentials import EnvCredentialStore
from adapters.http_gateway import HttpOrderGateway
from adapters.redis_rate_limiter import RedisRateLimiter
from adapters.system_clock import SystemClock
from domain.context import CallContext, call_context
from domain.errors import OrderDeskError, RateLimited
from domain.order import StoreRef
from domain.retry import RetryPolicy
from domain.use_cases.resilient_gateway import ResilientOrderGateway


class Summary(msgspec.Struct, kw_only=True):
    ok: int = 0
    held_back: int = 0
    errors: list[str] = msgspec.field(default_factory=list)


async def _run(args: argparse.Namespace) -> Summary:
    store = StoreRef(tenant="default", store_id=args.store_id)
    clock = SystemClock()
    client = redis.asyncio.Redis.from_url(args.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
    limiter = RedisRateLimiter(
        client=client, burst=args.burst, per_second=args.per_second, clock=clock, prefix=args.prefix
    )
    http = HttpOrderGateway(
        base_url=args.url,
        credentials=EnvCredentialStore(store_id=args.store_id, api_key=args.api_key),
        limiter=limiter,
        read_timeout=5.0,
    )
    gateway = ResilientOrderGateway(inner=http, limiter=limiter, clock=clock, policy=RetryPolicy())
    summary = Summary()
    try:
        async with http:
            print("ready", flush=True)
            await anyio.to_thread.run_sync(sys.stdin.readline)
            end = clock.monotonic() + args.seconds

            async def loop(task: int) -> None:
                n = 0
                while clock.monotonic() < end:
                    n += 1
                    ctx = CallContext(
                        correlation_id=f"{args.name}-{task}-{n}", deadline=end, timeout=args.seconds
                    )
                    try:
                        with call_context(ctx):
                            await gateway.fetch(store, "500001")
                        summary.ok += 1
                    except RateLimited:
                        summary.held_back += 1  # our bucket had no token before the end: nothing sent
                    except OrderDeskError as exc:
                        summary.errors.append(str(exc))

            async with anyio.create_task_group() as tg:
                for task in range(args.tasks):
                    tg.start_soon(loop, task)
    finally:
        await client.aclose()
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--name", "--url", "--redis-url", "--prefix", "--store-id", "--api-key"):
        parser.add_argument(name, required=True)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--per-second", type=float, default=3.0)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--tasks", type=int, default=3)
    args = parser.parse_args()
    started = time.monotonic()
    summary = anyio.run(_run, args)
    print(msgspec.json.encode(summary).decode(), f"{time.monotonic() - started:.2f}", flush=True)


if __name__ == "__main__":
    main()
