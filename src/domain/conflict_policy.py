"""How an update retries when the order changes underneath it (pure)."""

from __future__ import annotations

import msgspec

__all__ = ["ConflictPolicy"]


class ConflictPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """At most ``attempts`` fetch-merge-PUT rounds, with full-jitter backoff between them.

    Before retry ``n`` (after failed attempt ``n``) the update waits ``jitter * delays[n-1]``
    with ``jitter`` in [0, 1]; with the defaults the ceilings are 0.5, 1, 2 and 4 s. There is
    no wait after the last attempt, so the 8 s ceiling only applies to a policy with more
    attempts than delays (the last delay repeats).
    """

    attempts: int = 5
    delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)

    def __post_init__(self) -> None:
        if self.attempts < 1 or not self.delays or any(d < 0 for d in self.delays):
            raise ValueError("a conflict policy needs attempts >= 1 and non-negative delays")

    def delay(self, attempt: int, *, jitter: float) -> float:
        """The wait after failed attempt ``attempt`` (1-based); ``jitter`` is clamped to [0, 1]."""
        ceiling = self.delays[min(max(attempt, 1), len(self.delays)) - 1]
        return min(max(jitter, 0.0), 1.0) * ceiling
