"""How an update retries when the order changes underneath it (pure)."""

from __future__ import annotations

import msgspec

__all__ = ["ConflictPolicy"]


class ConflictPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """``attempts`` fetch-merge-PUT rounds; before retry n, wait up to ``delays[n-1]`` (full jitter)."""

    attempts: int = 5
    delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)

    def delay(self, attempt: int, *, jitter: float) -> float:
        ceiling = self.delays[min(attempt, len(self.delays)) - 1]
        return jitter * ceiling
