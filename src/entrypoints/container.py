"""The composition root: a synchronous dependency-injector container built from Settings.

Adapters are Singletons, use cases Factories (resolved once per lifespan), and Selectors
choose the gateway (simulator/http), the credential store (simulator/env/sqlite) and the
cache and rate limiter (memory/redis) from Settings. Nothing is built at import; tests
override providers with fakes and run the same lifespan (:func:`open_services`).

Adapters a configuration may not use are imported inside their factory functions, so a
start-up loads only what the settings select: ``python -X importtime`` showed every start
loading the simulator's aiohttp server app, redis and cryptography (through the sqlite
credential store) whatever the configuration.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from dependency_injector import containers, providers

from orderdesk_mcp.adapters.env_credentials import EnvCredentialStore
from orderdesk_mcp.adapters.jsonl_audit_log import JsonlAuditLog
from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.adapters.memory_rate_limiter import MemoryRateLimiter
from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock
from orderdesk_mcp.adapters.system_clock import SystemClock
from orderdesk_mcp.domain.cache_stats import CacheStats
from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.single_flight import SingleFlight
from orderdesk_mcp.domain.use_cases.audited_gateway import AuditedOrderGateway
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.domain.use_cases.create_order import CreateOrder
from orderdesk_mcp.domain.use_cases.delete_order import DeleteOrder
from orderdesk_mcp.domain.use_cases.get_order import GetOrder
from orderdesk_mcp.domain.use_cases.list_folders import ListFolders
from orderdesk_mcp.domain.use_cases.list_orders import ListOrders
from orderdesk_mcp.domain.use_cases.resilient_folders import ResilientFolderDirectory
from orderdesk_mcp.domain.use_cases.resilient_gateway import ResilientOrderGateway
from orderdesk_mcp.domain.use_cases.update_order import UpdateOrder
from orderdesk_mcp.entrypoints import reach_wiring
from orderdesk_mcp.entrypoints.call_telemetry import CallTelemetry
from orderdesk_mcp.entrypoints.paths import data_dir_from
from orderdesk_mcp.entrypoints.services import AppServices
from orderdesk_mcp.entrypoints.settings import SIMULATOR_API_KEY, SIMULATOR_STORE_ID, Settings

if TYPE_CHECKING:  # the adapters below are imported only when the settings select them
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

__all__ = ["Container", "open_services"]


def _simulator(settings: Settings, clock: SystemClock) -> SimulatorState:
    from orderdesk_mcp.adapters.simulator import default_state

    return default_state(
        store_id=SIMULATOR_STORE_ID, api_key=SIMULATOR_API_KEY, sample_count=settings.simulator_orders
    )


def _env_credentials(settings: Settings) -> EnvCredentialStore:
    return EnvCredentialStore(store_id=settings.store_id or "", api_key=settings.api_key or "")


def _simulator_credentials() -> EnvCredentialStore:
    return EnvCredentialStore(store_id=SIMULATOR_STORE_ID, api_key=SIMULATOR_API_KEY)


def _data_dir(settings: Settings) -> Path:
    return data_dir_from(settings.data_dir or None)


def _sqlite_credentials(settings: Settings) -> SqliteCredentialStore:
    from orderdesk_mcp.adapters.keyring import Keyring  # cryptography: only for the sqlite store
    from orderdesk_mcp.adapters.sqlite_credentials import SqliteCredentialStore

    directory = _data_dir(settings)
    return SqliteCredentialStore(path=directory / "credentials.sqlite3", keyring=Keyring.load(directory))


def _sqlite_idempotency(settings: Settings, clock: SystemClock) -> SqliteIdempotencyRecords:
    from orderdesk_mcp.adapters.sqlite_idempotency import SqliteIdempotencyRecords

    return SqliteIdempotencyRecords(path=_data_dir(settings) / "idempotency.sqlite3", clock=clock)


def _cache_kind(settings: Settings) -> str:
    return "redis" if settings.cache_url else "memory"


def _redis_client(settings: Settings) -> redis.asyncio.Redis | None:
    if not settings.cache_url:
        return None
    from orderdesk_mcp.adapters.redis_cache import redis_client_from_url

    return redis_client_from_url(settings.cache_url)


# Factories of the adapters a configuration may not use: each imports its technology (redis,
# aiohttp, the simulator) only when its Selector picks it, which keeps start-up short.


def _redis_limiter(client: redis.asyncio.Redis, clock: SystemClock, settings: Settings) -> RedisRateLimiter:
    from orderdesk_mcp.adapters.redis_rate_limiter import RedisRateLimiter

    return RedisRateLimiter(
        client=client, burst=settings.rate_burst, per_second=settings.rate_per_second, clock=clock,
        prefix=settings.cache_prefix,
    )  # fmt: skip


def _redis_cache(client: redis.asyncio.Redis, settings: Settings) -> RedisOrderCache:
    from orderdesk_mcp.adapters.redis_cache import RedisOrderCache

    return RedisOrderCache(client=client, prefix=settings.cache_prefix)


def _redis_idempotency(client: redis.asyncio.Redis, settings: Settings) -> RedisIdempotencyRecords:
    from orderdesk_mcp.adapters.redis_idempotency import RedisIdempotencyRecords

    return RedisIdempotencyRecords(client=client, prefix=settings.cache_prefix)


def _redis_write_lock(client: redis.asyncio.Redis, clock: SystemClock, settings: Settings) -> RedisWriteLock:
    from orderdesk_mcp.adapters.redis_write_lock import RedisWriteLock

    return RedisWriteLock(client=client, clock=clock, prefix=settings.cache_prefix)


def _simulated_gateway(state: SimulatorState) -> SimulatedOrderGateway:
    from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway

    return SimulatedOrderGateway(state)


def _http_gateway(settings: Settings, credentials: CredentialStore, limiter: RateLimiter) -> HttpOrderGateway:
    from orderdesk_mcp.adapters.http_gateway import HttpOrderGateway

    return HttpOrderGateway(
        base_url=settings.base_url, credentials=credentials, limiter=limiter,
        max_response_bytes=settings.max_response_bytes,
    )  # fmt: skip


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)
    jitter = providers.Object(random.random)
    stats = providers.Singleton(CacheStats)
    redis_client = providers.Singleton(_redis_client, settings)
    cache_kind = providers.Callable(_cache_kind, settings)

    simulator = providers.Singleton(_simulator, settings, clock)

    credentials = providers.Selector(
        settings.provided.credentials,
        simulator=providers.Singleton(_simulator_credentials),
        env=providers.Singleton(_env_credentials, settings),
        sqlite=providers.Singleton(_sqlite_credentials, settings),
    )

    limiter = providers.Selector(
        cache_kind,
        memory=providers.Singleton(
            MemoryRateLimiter, burst=settings.provided.rate_burst,
            per_second=settings.provided.rate_per_second, clock=clock,
        ),
        redis=providers.Singleton(_redis_limiter, redis_client, clock, settings),
    )  # fmt: skip

    upstream = providers.Selector(
        settings.provided.gateway,
        simulator=providers.Singleton(_simulated_gateway, simulator),
        http=providers.Singleton(_http_gateway, settings, credentials, limiter),
    )
    gateway = providers.Singleton(
        ResilientOrderGateway, inner=upstream, limiter=limiter, clock=clock,
        policy=providers.Object(RetryPolicy()), jitter=jitter,
    )  # fmt: skip

    folder_directory = providers.Singleton(
        ResilientFolderDirectory, inner=upstream, limiter=limiter, clock=clock,
        policy=providers.Object(RetryPolicy()), jitter=jitter,
    )  # fmt: skip

    cache = providers.Selector(
        cache_kind,
        memory=providers.Singleton(
            MemoryOrderCache, clock=clock, max_entries=settings.provided.cache_max_entries,
            max_bytes=settings.provided.cache_max_bytes,
        ),
        redis=providers.Singleton(_redis_cache, redis_client, settings),
    )  # fmt: skip
    audit = providers.Singleton(
        lambda s: JsonlAuditLog(_data_dir(s) / "audit.jsonl", values=s.audit_values), settings
    )
    # What the mutation use cases write through: an audit "attempt" record before every
    # upstream write and its outcome after it.
    audited_gateway = providers.Singleton(AuditedOrderGateway, inner=gateway, audit=audit, clock=clock)
    # Idempotency records outlive the process and are shared: SQLite in the data directory (the
    # processes of one machine) without Redis, Redis (every replica) with it.
    idempotency = providers.Selector(
        cache_kind,
        memory=providers.Singleton(_sqlite_idempotency, settings, clock),
        redis=providers.Singleton(_redis_idempotency, redis_client, settings),
    )
    write_lock = providers.Selector(
        cache_kind,
        memory=providers.Singleton(MemoryWriteLock, clock=clock),
        redis=providers.Singleton(_redis_write_lock, redis_client, clock, settings),
    )
    invalidations = providers.Singleton(
        Invalidations, cache=cache, clock=clock, ttl=settings.provided.cache_ttl
    )

    get_order = providers.Factory(
        GetOrder, gateway=gateway, cache=cache, ttl=settings.provided.cache_ttl, stats=stats,
        flights=providers.Factory(SingleFlight), invalidations=invalidations,
    )  # fmt: skip
    list_orders = providers.Factory(
        ListOrders, gateway=gateway, cache=cache, ttl=settings.provided.cache_ttl, stats=stats,
        invalidations=invalidations,
    )  # fmt: skip
    list_folders = providers.Singleton(ListFolders, directory=folder_directory, cache=cache)
    list_orders.add_kwargs(folders=list_folders)  # resolves `status` names, any case
    update_order = providers.Factory(
        UpdateOrder, gateway=audited_gateway, cache=cache, audit=audit, clock=clock,
        policy=providers.Object(ConflictPolicy()), lock=write_lock, resilience=gateway.provided.resilience,
        invalidations=invalidations, jitter=jitter,
    )  # fmt: skip
    create_order = providers.Factory(
        CreateOrder, gateway=audited_gateway, cache=cache, records=idempotency, audit=audit, clock=clock,
        invalidations=invalidations,
    )  # fmt: skip
    delete_order = providers.Factory(
        DeleteOrder, gateway=audited_gateway, cache=cache, audit=audit, clock=clock,
        invalidations=invalidations, lock=write_lock,
    )  # fmt: skip

    # folder moves, shipments, history notes, inventory (entrypoints/reach_wiring.py)
    reach = providers.Factory(
        reach_wiring.reach_services, settings=settings, upstream=upstream, gateway=gateway,
        folders=list_folders, lock=write_lock, cache=cache, records=idempotency, audit=audit, limiter=limiter,
        clock=clock, jitter=jitter, invalidations=invalidations,
    )  # fmt: skip
    telemetry = providers.Singleton(CallTelemetry, clock=clock)  # one metrics registry per server


@asynccontextmanager
async def open_services(c: Container) -> AsyncIterator[AppServices]:
    """Open every adapter once (in order), yield the ready use cases, close in reverse."""
    c.check_dependencies()
    async with AsyncExitStack() as stack:
        client = c.redis_client()
        if client is not None:
            stack.push_async_callback(client.aclose)
        owners = (
            c.credentials(),
            c.upstream(),
            c.cache(),
            c.limiter(),
            c.audit(),
            c.idempotency(),
            c.write_lock(),
        )
        for owner in owners:
            await stack.enter_async_context(owner)
        await stack.enter_async_context(c.invalidations())  # stops its background retries first
        yield AppServices(
            settings=c.settings(),
            clock=c.clock(),
            credentials=c.credentials(),
            stats=c.stats(),
            get_order=c.get_order(),
            list_orders=c.list_orders(),
            list_folders=c.list_folders(),
            create_order=c.create_order(),
            update_order=c.update_order(),
            delete_order=c.delete_order(),
            reach=c.reach(),
            telemetry=c.telemetry(),
        )
