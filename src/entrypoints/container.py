"""The composition root: a synchronous dependency-injector container built from Settings.

Adapters are Singletons, use cases Factories (resolved once per lifespan), and Selectors
choose the gateway (simulator/http), the credential store (simulator/env/sqlite) and the
cache and rate limiter (memory/redis) from Settings. Nothing is built at import; tests
override providers with fakes and run the same lifespan (:func:`open_services`).

The adapters are built by the factory functions of :mod:`adapter_factories`, which import
each technology only when the settings select it.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from dependency_injector import containers, providers

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
from orderdesk_mcp.domain.use_cases.audited_write import AuditedWrite
from orderdesk_mcp.domain.use_cases.cache_invalidation import Invalidations
from orderdesk_mcp.domain.use_cases.create_order import CreateOrder
from orderdesk_mcp.domain.use_cases.delete_order import DeleteOrder
from orderdesk_mcp.domain.use_cases.get_order import GetOrder
from orderdesk_mcp.domain.use_cases.list_folders import ListFolders
from orderdesk_mcp.domain.use_cases.list_orders import ListOrders
from orderdesk_mcp.domain.use_cases.resilient_folders import ResilientFolderDirectory
from orderdesk_mcp.domain.use_cases.resilient_gateway import ResilientOrderGateway
from orderdesk_mcp.domain.use_cases.update_order import UpdateOrder
from orderdesk_mcp.entrypoints import adapter_factories as make
from orderdesk_mcp.entrypoints import reach_wiring
from orderdesk_mcp.entrypoints.call_telemetry import CallTelemetry
from orderdesk_mcp.entrypoints.services import AppServices
from orderdesk_mcp.entrypoints.settings import Settings

__all__ = ["Container", "open_services"]


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)
    jitter = providers.Object(random.random)
    stats = providers.Singleton(CacheStats)
    redis_client = providers.Singleton(make.redis_client, settings)
    cache_kind = providers.Callable(make.cache_kind, settings)

    simulator = providers.Singleton(make.simulator, settings, clock)

    credentials = providers.Selector(
        settings.provided.credentials,
        simulator=providers.Singleton(make.simulator_credentials),
        env=providers.Singleton(make.env_credentials, settings),
        sqlite=providers.Singleton(make.sqlite_credentials, settings),
    )

    limiter = providers.Selector(
        cache_kind,
        memory=providers.Singleton(
            MemoryRateLimiter, burst=settings.provided.rate_burst,
            per_second=settings.provided.rate_per_second, clock=clock,
        ),
        redis=providers.Singleton(make.redis_limiter, redis_client, clock, settings),
    )  # fmt: skip

    upstream = providers.Selector(
        settings.provided.gateway,
        simulator=providers.Singleton(make.simulated_gateway, simulator),
        http=providers.Singleton(make.http_gateway, settings, credentials, limiter),
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
        redis=providers.Singleton(make.redis_cache, redis_client, settings),
    )  # fmt: skip
    audit = providers.Singleton(
        lambda s: JsonlAuditLog(make.data_dir(s) / "audit.jsonl", values=s.audit_values), settings
    )
    # What the mutation use cases write through: an audit "attempt" record before every
    # upstream write and its outcome after it.
    audited_gateway = providers.Singleton(AuditedOrderGateway, inner=gateway, audit=audit, clock=clock)
    # UpdateOrder records its PUT's attempt itself, while it reads the merge base.
    audited_write = providers.Singleton(AuditedWrite, audit=audit, clock=clock)
    # Idempotency records outlive the process and are shared: SQLite in the data directory (the
    # processes of one machine) without Redis, Redis (every replica) with it. On the built-in
    # simulator without Redis, whose orders live as long as the process, they live in memory:
    # kept across a restart, a key replayed an order the new simulator never had.
    idempotency = providers.Selector(
        providers.Callable(make.idempotency_kind, settings),
        simulator=providers.Singleton(MemoryOrderCache, clock=clock),
        memory=providers.Singleton(make.sqlite_idempotency, settings, clock),
        redis=providers.Singleton(make.redis_idempotency, redis_client, settings),
    )
    write_lock = providers.Selector(
        cache_kind,
        memory=providers.Singleton(MemoryWriteLock, clock=clock),
        redis=providers.Singleton(make.redis_write_lock, redis_client, clock, settings),
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
        UpdateOrder, gateway=gateway, cache=cache, audit=audit, clock=clock,
        policy=providers.Object(ConflictPolicy()), lock=write_lock, resilience=gateway.provided.resilience,
        invalidations=invalidations, jitter=jitter, audited=audited_write,
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
