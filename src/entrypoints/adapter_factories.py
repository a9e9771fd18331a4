"""How each adapter is built from Settings: the factory functions the container's providers call.

Adapters a configuration may not use are imported inside their factory, so a start-up loads only
what the settings select (``python -X importtime`` showed every start loading the simulator's
aiohttp server app, redis and cryptography, through the sqlite credential store, whatever the
configuration).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from orderdesk_mcp.adapters.env_credentials import EnvCredentialStore
from orderdesk_mcp.adapters.system_clock import SystemClock
from orderdesk_mcp.entrypoints.paths import data_dir_from
from orderdesk_mcp.entrypoints.settings import SIMULATOR_API_KEY, SIMULATOR_STORE_ID, Settings

if TYPE_CHECKING:  # imported only when the settings select them
    import redis.asyncio

    from orderdesk_mcp.adapters.http_gateway import HttpOrderGateway
    from orderdesk_mcp.adapters.redis_cache import RedisOrderCache
    from orderdesk_mcp.adapters.redis_idempotency import RedisIdempotencyRecords
    from orderdesk_mcp.adapters.redis_rate_limiter import RedisRateLimiter
    from orderdesk_mcp.adapters.redis_write_lock import RedisWriteLock
    from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway
    from orderdesk_mcp.adapters.simulator import SimulatorState
    from orderdesk_mcp.adapters.sqlite_credentials import SqliteCredentialStore
    from orderdesk_mcp.adapters.sqlite_idempotency import SqliteIdempotencyRecords
    from orderdesk_mcp.ports.credentials import CredentialStore
    from orderdesk_mcp.ports.rate_limiter import RateLimiter

__all__ = [
    "cache_kind",
    "data_dir",
    "env_credentials",
    "http_gateway",
    "idempotency_kind",
    "redis_cache",
    "redis_client",
    "redis_idempotency",
    "redis_limiter",
    "redis_write_lock",
    "simulated_gateway",
    "simulator",
    "simulator_credentials",
    "sqlite_credentials",
    "sqlite_idempotency",
]


def simulator(settings: Settings, clock: SystemClock) -> SimulatorState:
    from orderdesk_mcp.adapters.simulator import default_state

    return default_state(
        store_id=SIMULATOR_STORE_ID, api_key=SIMULATOR_API_KEY, sample_count=settings.simulator_orders
    )


def env_credentials(settings: Settings) -> EnvCredentialStore:
    return EnvCredentialStore(store_id=settings.store_id or "", api_key=settings.api_key or "")


def simulator_credentials() -> EnvCredentialStore:
    return EnvCredentialStore(store_id=SIMULATOR_STORE_ID, api_key=SIMULATOR_API_KEY)


def data_dir(settings: Settings) -> Path:
    return data_dir_from(settings.data_dir or None)


def sqlite_credentials(settings: Settings) -> SqliteCredentialStore:
    from orderdesk_mcp.adapters.keyring import Keyring  # cryptography: only for the sqlite store
    from orderdesk_mcp.adapters.sqlite_credentials import SqliteCredentialStore

    directory = data_dir(settings)
    return SqliteCredentialStore(path=directory / "credentials.sqlite3", keyring=Keyring.load(directory))


def sqlite_idempotency(settings: Settings, clock: SystemClock) -> SqliteIdempotencyRecords:
    from orderdesk_mcp.adapters.sqlite_idempotency import SqliteIdempotencyRecords

    return SqliteIdempotencyRecords(path=data_dir(settings) / "idempotency.sqlite3", clock=clock)


def cache_kind(settings: Settings) -> str:
    return "redis" if settings.cache_url else "memory"


def idempotency_kind(settings: Settings) -> str:
    """Where idempotency records live: as the cache does (SQLite standing in for memory), except on
    the built-in simulator without Redis, whose orders live only as long as the process: there the
    records do too, in memory."""
    kind = cache_kind(settings)
    return "simulator" if kind == "memory" and settings.gateway == "simulator" else kind


def redis_client(settings: Settings) -> redis.asyncio.Redis | None:
    if not settings.cache_url:
        return None
    from orderdesk_mcp.adapters.redis_cache import redis_client_from_url

    return redis_client_from_url(settings.cache_url)


def redis_limiter(client: redis.asyncio.Redis, clock: SystemClock, settings: Settings) -> RedisRateLimiter:
    from orderdesk_mcp.adapters.redis_rate_limiter import RedisRateLimiter

    return RedisRateLimiter(
        client=client, burst=settings.rate_burst, per_second=settings.rate_per_second, clock=clock,
        prefix=settings.cache_prefix,
    )  # fmt: skip


def redis_cache(client: redis.asyncio.Redis, settings: Settings) -> RedisOrderCache:
    from orderdesk_mcp.adapters.redis_cache import RedisOrderCache

    return RedisOrderCache(client=client, prefix=settings.cache_prefix)


def redis_idempotency(client: redis.asyncio.Redis, settings: Settings) -> RedisIdempotencyRecords:
    from orderdesk_mcp.adapters.redis_idempotency import RedisIdempotencyRecords

    return RedisIdempotencyRecords(client=client, prefix=settings.cache_prefix)


def redis_write_lock(client: redis.asyncio.Redis, clock: SystemClock, settings: Settings) -> RedisWriteLock:
    from orderdesk_mcp.adapters.redis_write_lock import RedisWriteLock

    return RedisWriteLock(client=client, clock=clock, prefix=settings.cache_prefix)


def simulated_gateway(state: SimulatorState) -> SimulatedOrderGateway:
    from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway

    return SimulatedOrderGateway(state)


def http_gateway(settings: Settings, credentials: CredentialStore, limiter: RateLimiter) -> HttpOrderGateway:
    from orderdesk_mcp.adapters.http_gateway import HttpOrderGateway

    return HttpOrderGateway(
        base_url=settings.base_url, credentials=credentials, limiter=limiter,
        max_response_bytes=settings.max_response_bytes,
    )  # fmt: skip
