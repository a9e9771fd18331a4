"""The per-call context: correlation id, deadline and call statistics, in a context variable.

The entrypoint opens one :class:`CallContext` per tool call; everything underneath (the
retry loop, the rate limiter wait, the HTTP adapter's correlation header, log lines)
reads it without threading it through every signature. The ``record_*`` functions add to
the call's :class:`CallStats` (upstream requests, retries, waits, cache hits, ...); the
entrypoint turns those into the per-call log line and the metrics. Outside a call they do
nothing.
"""

from __future__ import annotations

import contextvars
import os
import random

import msgspec

__all__ = [
    "CallContext",
    "CallStats",
    "call_context",
    "current_call",
    "detach_call",
    "new_correlation_id",
    "record_attempts",
    "record_cache",
    "record_flight_join",
    "record_lock_wait",
    "record_rate_limited",
    "record_retry",
    "record_token_wait",
    "record_upstream",
]


class CallStats(msgspec.Struct):
    """What one tool call cost. Mutable: it is filled in while the call runs.

    ``upstream`` counts requests by (HTTP method, status); status 0 is a request whose answer
    never came (connection lost, timeout). ``cache`` counts lookups by (kind, hit). Plain dicts,
    not ``Counter``: every tool call makes a ``CallStats``, and two ``Counter()`` were a sixth of
    what opening a call cost (a py-spy profile of cached ``orders_get`` in process).
    """

    upstream: dict[tuple[str, int], int] = msgspec.field(default_factory=dict)
    retries: int = 0
    rate_limited: int = 0
    token_wait_seconds: float = 0.0
    cache: dict[tuple[str, bool], int] = msgspec.field(default_factory=dict)
    flight_joins: int = 0
    lock_wait_seconds: float = 0.0
    attempts: int = 0

    @property
    def upstream_requests(self) -> int:
        return sum(self.upstream.values())


class CallContext(msgspec.Struct, frozen=True, kw_only=True):
    """``deadline`` is on the clock port's monotonic timeline; None means no deadline."""

    correlation_id: str
    deadline: float | None = None
    timeout: float = 0.0
    tenant: str = ""
    tool: str = ""
    stats: CallStats = msgspec.field(default_factory=CallStats)

    def remaining(self, now: float) -> float | None:
        return None if self.deadline is None else self.deadline - now


_current: contextvars.ContextVar[CallContext | None] = contextvars.ContextVar("orderdesk_call", default=None)


# Correlation ids tie a call's log lines, audit records and upstream requests together: they
# must not repeat, and need not be unguessable (they are no credential), so they come from a
# generator seeded once from the OS rather than a system call per tool call (``secrets``).
_ids = random.Random()
if hasattr(os, "register_at_fork"):  # a forked child would repeat its parent's ids: seed it afresh
    os.register_at_fork(after_in_child=_ids.seed)


def new_correlation_id() -> str:
    """16 hex digits, random."""
    return f"{_ids.getrandbits(64):016x}"


def current_call() -> CallContext | None:
    """The context of the call in progress, if any."""
    return _current.get()


class call_context:  # noqa: N801 - used like the function it was: ``with call_context(ctx):``
    """Make ``ctx`` the current call inside a ``with`` block (and the tasks started in it).

    A class rather than a ``@contextmanager`` generator: it is entered on every tool call, and
    the generator's machinery cost more than setting the variable.
    """

    __slots__ = ("_ctx", "_token")

    def __init__(self, ctx: CallContext) -> None:
        self._ctx = ctx

    def __enter__(self) -> CallContext:
        self._token = _current.set(self._ctx)
        return self._ctx

    def __exit__(self, *exc_info: object) -> None:
        _current.reset(self._token)


def detach_call() -> None:
    """From here on, in this task, no call is current.

    For background work that outlives the call that started it (a task copies the context it is
    started in): its log lines must not carry that call's correlation id, nor its work count in
    that call's stats.
    """
    _current.set(None)


def _stats() -> CallStats | None:
    call = _current.get()
    return None if call is None else call.stats


def record_upstream(method: str, status: int) -> None:
    """One request sent to OrderDesk; ``status`` 0 when no answer came back."""
    stats = _stats()
    if stats is not None:
        counts, key = stats.upstream, (method, status)
        counts[key] = counts.get(key, 0) + 1


def record_retry() -> None:
    stats = _stats()
    if stats is not None:
        stats.retries += 1


def record_rate_limited() -> None:
    """OrderDesk answered 429."""
    stats = _stats()
    if stats is not None:
        stats.rate_limited += 1


def record_token_wait(seconds: float) -> None:
    stats = _stats()
    if stats is not None and seconds > 0:
        stats.token_wait_seconds += seconds


def record_cache(kind: str, *, hit: bool) -> None:
    stats = _stats()
    if stats is not None:
        counts, key = stats.cache, (kind, hit)
        counts[key] = counts.get(key, 0) + 1


def record_flight_join() -> None:
    """This caller waited for another caller's identical upstream read instead of sending one."""
    stats = _stats()
    if stats is not None:
        stats.flight_joins += 1


def record_lock_wait(seconds: float) -> None:
    stats = _stats()
    if stats is not None and seconds > 0:
        stats.lock_wait_seconds += seconds


def record_attempts(attempts: int) -> None:
    """How many read-merge-write rounds a write took."""
    stats = _stats()
    if stats is not None:
        stats.attempts = max(stats.attempts, attempts)
