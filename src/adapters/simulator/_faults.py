"""Fault switches of the simulator, for tests, the benchmark and the abuse suite.

Each switch queues ``count`` one-shot faults that are consumed, oldest first, by the next
matching requests (``path_prefix`` narrows which paths match). HTTP faults run after the
auth and rate-limit checks, so a faulted request still costs a token like a real one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = ["Faults", "HttpFault", "Watch"]

FaultKind = Literal["fail", "rate_limit", "error_body", "drop", "slow", "huge"]


@dataclass(frozen=True, kw_only=True)
class HttpFault:
    """One queued fault; which fields matter depends on ``kind``."""

    kind: FaultKind
    status: int = 503
    body: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    path_prefix: str = ""
    message: str = ""
    seconds: float = 0.0
    size: int = 0
    after_processing: bool = False
    method: str = ""  # "" matches every method


@dataclass
class Watch:
    """An armed "another writer": ``remaining`` reads left (None: every read)."""

    remaining: int | None
    mutate: Callable[[dict[str, Any]], None] | None


class Faults:
    """Switches for tests; each consumes itself when its count runs out.

    Attributes:
        latency: seconds added before every HTTP answer (the benchmark's upstream latency).
        rate_limit_enabled: whether the real per-store bucket (burst 20, 3/s) is enforced.
        external_edits: how many "another writer" edits have been applied so far.
    """

    def __init__(self) -> None:
        self.latency = 0.0
        self.rate_limit_enabled = True
        self.external_edits = 0
        self._http: list[HttpFault] = []
        self._watches: dict[str, Watch] = {}
        self._conflicts = 0

    def _queue(self, count: int, fault: HttpFault) -> None:
        self._http.extend(replace(fault, headers=dict(fault.headers)) for _ in range(max(0, count)))

    def fail_next(
        self,
        count: int,
        *,
        status: int = 503,
        body: bytes | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        path_prefix: str = "",
    ) -> None:
        """Answer ``status`` with ``body`` (default ``{"status":"error","message":"Server error"}``)."""
        fault = HttpFault(
            kind="fail", status=status, body=body, content_type=content_type,
            headers=dict(headers or {}), path_prefix=path_prefix,
        )  # fmt: skip
        self._queue(count, fault)

    def rate_limit_next(self, count: int, *, retry_after: float = 1.0) -> None:
        """Answer 429 "Rate limit exceeded" with ``X-Retry-After`` (whole seconds, rounded up)."""
        self._queue(count, HttpFault(kind="rate_limit", status=429, seconds=retry_after))

    def error_body_next(self, count: int, message: str) -> None:
        """Answer HTTP 200 with ``{"status":"error","message": message}``."""
        self._queue(count, HttpFault(kind="error_body", status=200, message=message))

    def drop_next(
        self, count: int, *, after_processing: bool = False, path_prefix: str = "", method: str = ""
    ) -> None:
        """Close the connection without an answer (after applying the request if ``after_processing``).

        ``path_prefix`` and ``method`` (e.g. ``"POST"``) narrow which requests it hits.
        """
        fault = HttpFault(
            kind="drop", after_processing=after_processing, path_prefix=path_prefix, method=method
        )
        self._queue(count, fault)

    def slow_next(self, count: int, seconds: float) -> None:
        """Sleep ``seconds`` (a real sleep) before answering normally. HTTP only."""
        self._queue(count, HttpFault(kind="slow", seconds=seconds))

    def huge_body_next(self, count: int, size_bytes: int) -> None:
        """Answer 200 with a JSON object padded by ``size_bytes`` characters. HTTP only."""
        self._queue(count, HttpFault(kind="huge", status=200, size=size_bytes))

    def pending(self) -> int:
        """How many HTTP faults are still queued."""
        return len(self._http)

    def take_http(
        self, path: str, *, kinds: Collection[str] | None = None, method: str = ""
    ) -> HttpFault | None:
        """Consume the oldest queued fault matching ``path``, ``method`` and (when given) ``kinds``."""
        for index, fault in enumerate(self._http):
            if fault.method and fault.method != method:
                continue
            if path.startswith(fault.path_prefix) and (kinds is None or fault.kind in kinds):
                return self._http.pop(index)
        return None

    def change_after_read(
        self,
        order_id: str,
        *,
        times: int | None = 1,
        mutate: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """Another writer edits the order right after each served read (``times=None``: always).

        The default edit sets ``order_metadata["external_edit"]`` to a running count; ``mutate``
        replaces it. Either way ``date_updated`` is bumped. ``times=0`` disarms the order.
        """
        if times is not None and times <= 0:
            self._watches.pop(order_id, None)
            return
        self._watches[order_id] = Watch(times, mutate)

    def take_watch(self, order_id: str) -> Watch | None:
        """The armed watch for ``order_id``, counting this read against it."""
        watch = self._watches.get(order_id)
        if watch is None:
            return None
        if watch.remaining is not None:
            watch.remaining -= 1
            if watch.remaining <= 0:
                del self._watches[order_id]
        return watch

    def conflict_next_put(self, count: int = 1) -> None:
        """Answer the next ``count`` PUTs with 409 (OrderDesk has no documented 409; test-only)."""
        self._conflicts += max(0, count)

    def take_conflict(self) -> bool:
        """Consume one armed 409, if any."""
        if self._conflicts > 0:
            self._conflicts -= 1
            return True
        return False
