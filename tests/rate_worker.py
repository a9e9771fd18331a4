"""One process of the multi-process rate-limit test: reads as fast as its shared bucket allows."""

from __future__ import annotations

import sys

import anyio
import redis.asyncio

from orderdesk_mcp.adapters.env_credentials import EnvCredentialStore
from orderdesk_mcp.adapters.http_gateway import HttpOrderGateway
from orderdesk_mcp.adapters.redis_rate_limiter import RedisRateLimiter
from orderdesk_mcp.adapters.system_clock import SystemClock
from orderdesk_mcp.domain.errors import OrderDeskError
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.entrypoints.settings import Settings


async def main(base_url: str, redis_url: str, prefix: str, seconds: float) -> None:
    clock = SystemClock()
    store = StoreRef(tenant="default", store_id="100001")
    client = redis.asyncio.Redis.from_url(redis_url)
    # The product's default bucket (90% of OrderDesk's): a bucket equal to OrderDesk's own overran it
    # whenever scheduling bunched the requests (issue 15), and made this test fail now and then.
    defaults = Settings()
    limiter = RedisRateLimiter(
        client=client,
        burst=defaults.rate_burst,
        per_second=defaults.rate_per_second,
        clock=clock,
        prefix=prefix,
    )
    credentials = EnvCredentialStore(store_id="100001", api_key="sim-key-for-tests-0123456789")
    done = 0
    try:
        async with HttpOrderGateway(base_url=base_url, credentials=credentials, limiter=limiter) as gateway:
            with anyio.move_on_after(seconds):
                while True:
                    await limiter.acquire(store, max_wait=None)
                    try:
                        await gateway.fetch(store, "500001")
                    except OrderDeskError as exc:
                        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
                    done += 1
    finally:
        await client.aclose()
    sys.stdout.write(f"{done}\n")


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]))
