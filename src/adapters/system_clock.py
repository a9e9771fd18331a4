"""The real clock: anyio's monotonic time and sleep, and the wall clock for timestamps."""

from __future__ import annotations

import time

import anyio

__all__ = ["SystemClock"]


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds))
