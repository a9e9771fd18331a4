"""Whether a failed write may still have reached OrderDesk (so it must be reconciled, not re-sent)."""

from __future__ import annotations

from orderdesk_mcp.domain.errors import OrderDeskError, OutcomeUnknown, UpstreamUnavailable

__all__ = ["may_have_written"]


def may_have_written(exc: BaseException) -> bool:
    if isinstance(exc, OutcomeUnknown):
        return True
    if isinstance(exc, UpstreamUnavailable):
        return exc.maybe_sent
    return not isinstance(exc, OrderDeskError)  # cancelled or crashed mid-request: assume it may have
