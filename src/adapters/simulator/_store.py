"""One simulated store (its key, folders, orders and token bucket) and the request log record."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

import msgspec

__all__ = ["DEFAULT_FOLDERS", "RequestRecord", "Store"]

DEFAULT_FOLDERS = {1: "New", 2: "Prepared", 3: "Closed", 4: "Canceled"}


class RequestRecord(msgspec.Struct, kw_only=True):
    """One HTTP request the app saw; ``status`` stays 0 when the connection was dropped."""

    method: str
    path: str
    store_id: str
    time: float
    correlation_id: str = ""
    status: int = 0


@dataclass
class Store:
    """A store's credentials, folders (id -> name, first is the default) and live orders.

    Its token bucket refills continuously at ``per_second`` up to ``burst``, measured on the
    simulator's clock, as OrderDesk's documented limit does (burst 20, 3 per second).
    """

    api_key: str
    folders: dict[int, str]
    burst: float
    per_second: float
    refilled_at: float
    tokens: float = field(init=False)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # order id -> order-history
    inventory: dict[int, dict[str, Any]] = field(default_factory=dict)  # item id -> inventory item

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def accepts(self, api_key: str) -> bool:
        """True for this store's key (compared in constant time)."""
        return bool(api_key) and hmac.compare_digest(api_key.encode(), self.api_key.encode())

    def take_token(self, now: float, *, enforce: bool) -> tuple[bool, int, float]:
        """Refill up to ``now`` and take one token: (allowed, whole tokens left, seconds to the next)."""
        elapsed = max(0.0, now - self.refilled_at)
        self.tokens = min(self.burst, self.tokens + elapsed * self.per_second)
        self.refilled_at = now
        if not enforce:
            return True, int(self.tokens), 0.0
        if self.tokens >= 1:
            self.tokens -= 1
            return True, int(self.tokens), 0.0
        return False, 0, (1 - self.tokens) / self.per_second
