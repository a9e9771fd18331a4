"""AuditedWrite: one upstream write bracketed by its ``attempt`` record and its outcome.

Shared by every audited port (:class:`~orderdesk_mcp.domain.use_cases.audited_gateway.AuditedOrderGateway`
and the wrappers of :mod:`~orderdesk_mcp.domain.use_cases.audited_ports`). Before the write is
sent an ``attempt`` record is appended (and on disk: the audit log fsyncs); if that fails, the
error goes back to the caller and nothing is sent. After the answer a record with the same
``attempt_id`` says ``ok`` or ``error``, also when the write fails or the call is cancelled
(that record is written shielded from the cancellation). The record is named by the tool of the
call in progress (``current_call().tool``), else by the port method's own tool.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio

from orderdesk_mcp.domain.context import current_call
from orderdesk_mcp.domain.errors import AuditUnavailable, OrderDeskError
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.use_cases._audit import audit_attempt, audit_attempt_outcome
from orderdesk_mcp.ports.audit import AuditLog, FieldChange
from orderdesk_mcp.ports.clock import Clock

__all__ = ["AuditedWrite"]

_log = logging.getLogger(__name__)

T = TypeVar("T")


def _tool(default: str) -> str:
    call = current_call()
    return call.tool if call is not None and call.tool else default


def _no_id(_: object) -> str | None:
    return None


@dataclass(frozen=True, kw_only=True)
class AuditedWrite:
    """Runs upstream writes between an ``attempt`` record and its outcome, in one audit log."""

    audit: AuditLog
    clock: Clock

    async def __call__(
        self,
        store: StoreRef,
        tool: str,
        op: Callable[[], Awaitable[T]],
        *,
        order_id: str | None = None,
        resource: str | None = None,
        changes: tuple[FieldChange, ...] = (),
        result_id: Callable[[T], str | None] = _no_id,
    ) -> T:
        """Record the attempt, run ``op``, record its outcome.

        ``op`` is the write with any retries of the port under it (one attempt covers them).
        ``result_id`` names the order the answer made (a create's new id) for the outcome record.
        """
        tool = _tool(tool)
        try:
            attempt = await audit_attempt(
                self.audit, self.clock, store=store, tool=tool, order_id=order_id, changes=changes,
                resource=resource,
            )  # fmt: skip
        except OSError as exc:  # the agent gets a line it can act on, the operator the cause
            _log.error("audit log: the attempt of a %s could not be appended: %s", tool, exc)
            raise AuditUnavailable(tool) from exc
        try:
            result = await op()
        except BaseException as exc:
            error = str(exc) if isinstance(exc, OrderDeskError) else f"stopped: {type(exc).__name__}"
            with anyio.CancelScope(shield=True):
                await audit_attempt_outcome(
                    self.audit, self.clock, attempt, store=store, tool=tool, order_id=order_id,
                    error=error, resource=resource,
                )  # fmt: skip
            raise
        await audit_attempt_outcome(
            self.audit, self.clock, attempt, store=store, tool=tool,
            order_id=result_id(result) or order_id, resource=resource,
        )  # fmt: skip
        return result
