"""The per-call context: correlation id and deadline, carried by a context variable.

The entrypoint opens one :class:`CallContext` per tool call; everything underneath (the
retry loop, the rate limiter wait, the HTTP adapter's correlation header, log lines)
reads it without threading it through every signature.
"""

from __future__ import annotations

import contextvars
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import msgspec

__all__ = ["CallContext", "call_context", "current_call", "new_correlation_id"]


class CallContext(msgspec.Struct, frozen=True, kw_only=True):
    """``deadline`` is on the clock port's monotonic timeline; None means no deadline."""

    correlation_id: str
    deadline: float | None = None
    timeout: float = 0.0
    tenant: str = ""
    tool: str = ""

    def remaining(self, now: float) -> float | None:
        return None if self.deadline is None else self.deadline - now


_current: contextvars.ContextVar[CallContext | None] = contextvars.ContextVar("orderdesk_call", default=None)


def new_correlation_id() -> str:
    return secrets.token_hex(8)


def current_call() -> CallContext | None:
    """The context of the call in progress, if any."""
    return _current.get()


@contextmanager
def call_context(ctx: CallContext) -> Iterator[CallContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
