"""Time as a port: tests use a fake clock whose sleeps are instant and recorded."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Clock"]


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a monotonic timeline; deadlines and TTLs are measured on it."""
        ...

    def time(self) -> float:
        """Seconds since the epoch (UTC); audit timestamps use it."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (cancellable)."""
        ...
