"""One run's shared state: the request budget, the client-side bucket and what the run created.

The live target shares one :class:`TestRun` for the whole pytest session (:func:`live_run`), so
the budget of :data:`~tests.live.config.MAX_REQUESTS` requests and the token bucket are per run,
as a store owner would count them. Simulator targets get a fresh run per test.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, NoReturn

import pytest

from orderdesk_mcp.adapters.memory_rate_limiter import MemoryRateLimiter
from orderdesk_mcp.adapters.system_clock import SystemClock
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.ports.clock import Clock
from tests.live.config import API_KEY_VAR, LIVE, LIVE_PROBLEM, MAX_REQUESTS, STORE_ID_VAR
from tests.live.guard import PREFIX, check_write
from tests.upstream_harness import API_KEY, STORE_ID

__all__ = ["RequestBudget", "TestRun", "live_run", "new_source_id", "simulated_run", "used_live_run"]

_TOKEN_WAIT = 30.0  # seconds a request may wait for the client-side bucket


def new_source_id() -> str:
    """A ``source_id`` the guard accepts: the prefix plus a random suffix no store already has."""
    return f"{PREFIX}{secrets.token_hex(6)}"


class RequestBudget:
    """At most ``limit`` requests, always keeping room to delete what the run created.

    A create reserves two requests (a look-up by ``source_id`` and a delete, in case its answer
    is lost); once the answer names the order, one is released. Deletes of own orders spend
    the reservation, so the total never exceeds ``limit`` and cleanup is never refused.
    """

    def __init__(self, limit: int = MAX_REQUESTS) -> None:
        self.limit = limit
        self.sent: list[str] = []
        self.reserved = 0

    def spend(self, what: str, *, reserve: int = 0, from_reserve: bool = False) -> None:
        """Count one request. Fails the test when it would break the limit."""
        if from_reserve and self.reserved > 0:
            self.reserved -= 1
        elif len(self.sent) + 1 + self.reserved + reserve > self.limit:
            pytest.fail(
                f"The live run sends at most {self.limit} requests to OrderDesk; it has sent "
                f"{len(self.sent)} and keeps {self.reserved} to delete what it created, so {what} "
                f"was refused.",
                pytrace=False,
            )
        self.reserved += reserve
        self.sent.append(what)

    def release(self, count: int = 1) -> None:
        self.reserved = max(0, self.reserved - count)


@dataclass(eq=False)
class TestRun:
    """A store and its key, the run's budget and bucket, and the orders the run created."""

    __test__ = False  # not a test class, despite its name

    store: StoreRef
    api_key: str = field(repr=False)
    base_url: str
    writes: bool
    clock: Clock
    budget: RequestBudget = field(default_factory=RequestBudget)
    limiter: MemoryRateLimiter = field(init=False)
    created: dict[str, str] = field(default_factory=dict)  # order id -> source_id
    deleted: set[str] = field(default_factory=set)
    pending: set[str] = field(default_factory=set)  # source ids whose create named no order
    memo: dict[str, Any] = field(default_factory=dict)  # read answers worth sending for once
    left_behind: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # the same client-side bucket the server uses, shaped like OrderDesk's (burst 20, 3/s)
        self.limiter = MemoryRateLimiter(clock=self.clock)

    def outstanding(self) -> list[str]:
        """Ids of orders this run created and has not deleted yet."""
        return [order_id for order_id in self.created if order_id not in self.deleted]

    async def before(
        self, method: str, path: str, body: Any = None, *, bucket: bool = True, cleanup: bool = False
    ) -> None:
        """Guard, count and pace one request.

        ``cleanup`` marks the look-ups and deletes that clear up after a test (they spend the
        budget's reservation); ``bucket=False`` skips only the wait for a token.
        """
        check_write(method, path, body, own=self.created, writes=self.writes)
        own_delete = method == "DELETE" and path.removeprefix("/orders/") in self.outstanding()
        reserve = 2 if (method, path) == ("POST", "/orders") else 0
        self.budget.spend(f"{method} {path}", reserve=reserve, from_reserve=cleanup or own_delete)
        if isinstance(body, dict) and reserve:
            self.pending.add(str(body["source_id"]))
        if bucket:
            await self.limiter.acquire(self.store, max_wait=_TOKEN_WAIT)

    def was_created(self, order_id: str, source_id: str) -> None:
        self.created[order_id] = source_id
        if source_id in self.pending:
            self.pending.discard(source_id)
            self.budget.release()

    def was_deleted(self, order_id: str) -> None:
        self.deleted.add(order_id)

    def key_refused(self, status: int | str) -> NoReturn:
        """Stop the whole run: every later request would be refused the same way."""
        pytest.exit(
            f"OrderDesk refused the API key for store {self.store.store_id} ({status}). Check "
            f"{API_KEY_VAR} and {STORE_ID_VAR} (OrderDesk: Store Settings > API). The live run "
            f"stopped at this first refusal.",
            returncode=3,
        )

    def summary(self) -> list[str]:
        """What the run did, for the end of ``make test-live``."""
        lines = [
            f"live run against {self.base_url}, store {self.store.store_id}: "
            f"{len(self.budget.sent)} requests sent (at most {self.budget.limit}), "
            f"writes {'on' if self.writes else 'off'}",
        ]
        if self.created:
            made = ", ".join(f"{i} ({s})" for i, s in self.created.items())
            lines.append(f"orders it created: {made}; deleted: {len(self.deleted & set(self.created))}")
        lines.extend(f"LEFT BEHIND, delete by hand: {what}" for what in self.left_behind)
        return lines


def simulated_run(*, clock: Clock, base_url: str = "", api_key: str = API_KEY) -> TestRun:
    """A run of one test on the simulator's store (writes allowed; the same guard and budget)."""
    return TestRun(
        store=StoreRef(tenant="default", store_id=STORE_ID),
        api_key=api_key,
        base_url=base_url,
        writes=True,
        clock=clock,
    )


_LIVE_RUN: list[TestRun] = []


def live_run() -> TestRun:
    """The session's one live run (created on first use). Fails when the variables are wrong."""
    if LIVE_PROBLEM is not None:
        pytest.fail(LIVE_PROBLEM, pytrace=False)
    assert LIVE is not None, "live cases are skipped when the live run is not configured"
    if not _LIVE_RUN:
        _LIVE_RUN.append(
            TestRun(
                store=StoreRef(tenant="default", store_id=LIVE.store_id),
                api_key=LIVE.api_key,
                base_url=LIVE.base_url,
                writes=LIVE.writes,
                clock=SystemClock(),
            )
        )
    return _LIVE_RUN[0]


def used_live_run() -> TestRun | None:
    """The live run if any test used it, for the session summary."""
    return _LIVE_RUN[0] if _LIVE_RUN else None
