"""The whole server with ``ORDERDESK_CACHE_URL`` set: cache, idempotency and buckets in Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis.asyncio

from orderdesk_mcp.adapters.simulator import SimulatorState
from tests.mcp_harness import STORE, make_container, mcp_client

pytestmark = pytest.mark.anyio


async def test_reads_are_cached_in_redis_under_tenant_scoped_keys_and_writes_invalidate(
    tmp_path: Path, redis_url: str, redis_prefix: str, sim_state: SimulatorState
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    container = make_container(tmp_path, state=sim_state, cache_url=redis_url, cache_prefix=redis_prefix)
    try:
        async with mcp_client(container) as mcp:
            first = await mcp.call_tool("orders_get", {"order_id": "500001"})
            sim_state.orders(STORE)["500001"]["email"] = "changed-behind-our-back@example.com"
            cached = await mcp.call_tool("orders_get", {"order_id": "500001"})
            await mcp.call_tool(
                "orders_create",
                {
                    "order": {"customer": {"company": "ACME"}, "order_items": [{"name": "Anvil"}]},
                    "idempotency_key": "k1",
                },
            )
            keys = sorted(str(k).removeprefix(redis_prefix) for k in await client.keys(redis_prefix + "*"))
            await mcp.call_tool("orders_update", {"order_id": "500001", "changes": {"tag_name": "vip"}})
            after = await mcp.call_tool("orders_get", {"order_id": "500001"})
    finally:
        await client.aclose()
    assert f"tenant:default:store:{STORE}:orders:500001" in keys
    assert any(k.startswith(f"tenant:default:store:{STORE}:idempotency:") for k in keys)
    # Cached data is the tenant's; the rate-limit bucket (and a write's lock) are the OrderDesk store's.
    shared = [k for k in keys if not k.startswith("tenant:default:store:")]
    assert f"store:{STORE}:bucket" in shared
    assert set(shared) <= {f"store:{STORE}:bucket", f"store:{STORE}:cooldown"}
    assert after.structured_content is not None
    assert after.structured_content["order"]["tag_name"] == "vip"
    assert first.structured_content is not None
    assert cached.structured_content == first.structured_content  # served from Redis
    assert after.structured_content["order"]["email"] == "changed-behind-our-back@example.com"  # re-read
