"""ResilientFolderDirectory: the folder directory through the store's bucket, retries and deadline."""

from __future__ import annotations

import random
from collections.abc import Callable

from orderdesk_mcp.domain.folders import Folder
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.retry import RetryPolicy
from orderdesk_mcp.domain.use_cases.resilience import Resilience
from orderdesk_mcp.ports.clock import Clock
from orderdesk_mcp.ports.folders import FolderDirectory
from orderdesk_mcp.ports.rate_limiter import RateLimiter

__all__ = ["ResilientFolderDirectory"]


class ResilientFolderDirectory:
    def __init__(
        self,
        *,
        inner: FolderDirectory,
        limiter: RateLimiter,
        clock: Clock,
        policy: RetryPolicy,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._inner = inner
        self._resilience = Resilience(limiter=limiter, clock=clock, policy=policy, jitter=jitter)

    async def folders(self, store: StoreRef) -> tuple[Folder, ...]:
        return await self._resilience.run(store, lambda: self._inner.folders(store), idempotent=True)
