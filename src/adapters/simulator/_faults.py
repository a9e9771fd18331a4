"""Fault switches of the simulator: each consumes itself as its count runs out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Faults", "HttpFault"]


@dataclass
class HttpFault:
    kind: str  # fail | rate_limit | error_body | drop | slow | huge
    status: int = 503
    body: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    path_prefix: str = ""
    message: str = ""
    seconds: float = 0.0
    size: int = 0
    after_processing: bool = False


@dataclass
class _Watch:
    remaining: int | None
    mutate: Callable[[dict[str, Any]], None] | None


class Faults:
    """Switches for tests, the benchmark and the abuse suite."""

    def __init__(self) -> None:
        self.latency = 0.0
        self.rate_limit_enabled = True
        self._http: list[HttpFault] = []
        self._watches: dict[str, _Watch] = {}
        self._conflicts = 0
        self.external_edits = 0

    def _queue(self, count: int, fault: HttpFault) -> None:
        self._http.extend(HttpFault(**vars(fault)) for _ in range(count))

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
        self._queue(
            count,
            HttpFault("fail", status, body, content_type, dict(headers or {}), path_prefix),
        )

    def rate_limit_next(self, count: int, *, retry_after: float = 1.0) -> None:
        self._queue(count, HttpFault("rate_limit", 429, seconds=retry_after))

    def error_body_next(self, count: int, message: str) -> None:
        self._queue(count, HttpFault("error_body", 200, message=message))

    def drop_next(self, count: int, *, after_processing: bool = False) -> None:
        self._queue(count, HttpFault("drop", after_processing=after_processing))

    def slow_next(self, count: int, seconds: float) -> None:
        self._queue(count, HttpFault("slow", seconds=seconds))

    def huge_body_next(self, count: int, size_bytes: int) -> None:
        self._queue(count, HttpFault("huge", size=size_bytes))

    def take_http(self, path: str) -> HttpFault | None:
        for index, fault in enumerate(self._http):
            if path.startswith(fault.path_prefix):
                return self._http.pop(index)
        return None

    def change_after_read(
        self,
        order_id: str,
        *,
        times: int | None = 1,
        mutate: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """Another writer edits the order right after each served read (``times=None``: always)."""
        self._watches[order_id] = _Watch(times, mutate)

    def take_watch(self, order_id: str) -> _Watch | None:
        watch = self._watches.get(order_id)
        if watch is None:
            return None
        if watch.remaining is not None:
            watch.remaining -= 1
            if watch.remaining <= 0:
                del self._watches[order_id]
        return watch

    def conflict_next_put(self, count: int = 1) -> None:
        self._conflicts += count

    def take_conflict(self) -> bool:
        if self._conflicts > 0:
            self._conflicts -= 1
            return True
        return False
