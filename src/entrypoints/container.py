"""The composition root: a synchronous dependency-injector container built from Settings.

Adapters are Singletons, use cases Factories (resolved once per lifespan), and Selectors
choose the gateway (simulator/http), the credential store (simulator/env/sqlite) and the
cache and rate limiter (memory/redis) from Settings. Nothing is built at import; tests
override providers with fakes and run the same lifespan (:func:`open_services`).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import redis.asyncio
from dependency_injector import containers, providers

from orderdesk_mcp.adapters.env_credentials import EnvCredentialStore
from orderdesk_mcp.adapters.http_gateway import HttpOrderGateway
from orderdesk_mcp.adapters.jsonl_audit_log import JsonlAuditLog
from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.adapters.memory_rate_limiter import MemoryRateLimiter
from orderdesk_mcp.adapters.redis_cache import RedisOrderCache, redis_client_from_url
from orderdesk_mcp.adapters.redis_rate_limiter import RedisRateLimiter
from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway
from orderdesk_mcp.adapters.simulator import SimulatorState, default_state
from orderdesk_mcp.adapters.sqlite_credentials import SqliteCredentialStore
from orderdesk_mcp.adapters.system_clock import SystemClock
from orderdesk_mcp.domain.cache_stats import CacheStats
from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.single_flight import SingleFlight
from orderdesk_mcp.domain.use_cases.create_order import CreateOrder
from orderdesk_mcp.domain.use_cases.delete_order import DeleteOrder
from orderdesk_mcp.domain.use_cases.get_order import GetOrder
from orderdesk_mcp.domain.use_cases.list_folders import ListFolders
from orderdesk_mcp.domain.use_cases.list_orders import ListOrders
from orderdesk_mcp.domain.use_cases.resilient_folders import ResilientFolderDirectory
from orderdesk_mcp.domain.use_cases.resilient_gateway import ResilientOrderGateway
from orderdesk_mcp.domain.use_cases.update_order import UpdateOrder
from orderdesk_mcp.entrypoints.call_telemetry import CallTelemetry
from orderdesk_mcp.entrypoints.paths import data_dir_from
from orderdesk_mcp.entrypoints.services import AppServices
from orderdesk_mcp.entrypoints.settings import SIMULATOR_API_KEY, SIMULATOR_STORE_ID, Settings

__all__ = ["Container", "open_services"]


def _simulator(settings: Settings, clock: SystemClock) -> SimulatorState:
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
    directory = _data_dir(settings)
    return SqliteCredentialStore(path=directory / "credentials.sqlite3", keyring=Keyring.load(directory))


def _cache_kind(settings: Settings) -> str:
    return "redis" if settings.cache_url else "memory"


def _redis_client(settings: Settings) -> redis.asyncio.Redis | None:
    return redis_client_from_url(settings.cache_url) if settings.cache_url else None


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
        redis=providers.Singleton(
            RedisRateLimiter, client=redis_client, burst=settings.provided.rate_burst,
            per_second=settings.provided.rate_per_second, clock=clock, prefix=settings.provided.cache_prefix,
        ),
    )  # fmt: skip

    upstream = providers.Selector(
        settings.provided.gateway,
        simulator=providers.Singleton(SimulatedOrderGateway, simulator),
        http=providers.Singleton(
            HttpOrderGateway,
            base_url=settings.provided.base_url,
            credentials=credentials,
            limiter=limiter,
            max_response_bytes=settings.provided.max_response_bytes,
        ),
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
        redis=providers.Singleton(
            RedisOrderCache, client=redis_client, prefix=settings.provided.cache_prefix
        ),
    )  # fmt: skip
    audit = providers.Singleton(lambda s: JsonlAuditLog(_data_dir(s) / "audit.jsonl"), settings)

    get_order = providers.Factory(
        GetOrder, gateway=gateway, cache=cache, ttl=settings.provided.cache_ttl, stats=stats,
        flights=providers.Factory(SingleFlight),
    )  # fmt: skip
    list_orders = providers.Factory(
        ListOrders, gateway=gateway, cache=cache, ttl=settings.provided.cache_ttl, stats=stats
    )
    list_folders = providers.Singleton(ListFolders, directory=folder_directory, cache=cache)
    update_order = providers.Factory(
        UpdateOrder, gateway=gateway, cache=cache, audit=audit, clock=clock,
        policy=providers.Object(ConflictPolicy()), jitter=jitter,
    )  # fmt: skip
    create_order = providers.Factory(CreateOrder, gateway=gateway, cache=cache, audit=audit, clock=clock)
    delete_order = providers.Factory(DeleteOrder, gateway=gateway, cache=cache, audit=audit, clock=clock)
    telemetry = providers.Singleton(CallTelemetry, clock=clock)  # one metrics registry per server


@asynccontextmanager
async def open_services(c: Container) -> AsyncIterator[AppServices]:
    """Open every adapter once (in order), yield the ready use cases, close in reverse."""
    c.check_dependencies()
    async with AsyncExitStack() as stack:
        client = c.redis_client()
        if client is not None:
            stack.push_async_callback(client.aclose)
        for owner in (c.credentials(), c.upstream(), c.cache(), c.limiter(), c.audit()):
            await stack.enter_async_context(owner)
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
            telemetry=c.telemetry(),
        )
