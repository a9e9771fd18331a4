"""BackgroundJob: a mixin for objects that run one job in the background while they are entered.

The lifespan enters the object, which opens a task group and starts nothing; ``_start_job``
starts the job unless it is already running (or the object is not entered), and leaving the
object cancels it. Used by the cache invalidation retries and the Redis lock's lease renewals.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

import anyio
import anyio.abc

from orderdesk_mcp.domain.context import detach_call

__all__ = ["BackgroundJob"]


class BackgroundJob:
    _tasks: anyio.abc.TaskGroup | None = None
    _job_running = False

    async def __aenter__(self) -> Self:
        self._tasks = anyio.create_task_group()
        await self._tasks.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        tasks, self._tasks = self._tasks, None
        if tasks is not None:
            tasks.cancel_scope.cancel()
            await tasks.__aexit__(None, None, None)  # the caller's own error is not ours to wrap

    def _start_job(self, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job`` in the background, unless it runs already or the object is not entered."""
        if self._tasks is None or self._job_running:
            return
        self._job_running = True

        async def run() -> None:
            detach_call()  # started by some call, it works for none: no correlation id, no stats
            try:
                await job()
            finally:
                self._job_running = False

        self._tasks.start_soon(run)
