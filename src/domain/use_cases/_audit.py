"""Building and appending the audit records every mutation leaves.

:func:`audit_mutation` writes a use case's record (outcome and field-level changes);
:func:`audit_attempt` and :func:`audit_attempt_outcome` bracket one upstream write (see
:class:`~orderdesk_mcp.domain.use_cases.audited_gateway.AuditedOrderGateway`). Every record
is built with no card data in it: card-named fields and keys at any depth hold ``[redacted]``,
numbers that look like card numbers too, and every string (values, keys, field paths, the
order id, the resource and the error) has its card numbers and verification codes replaced by
``[redacted]``, whatever the audit log keeps otherwise.

A record that cannot be appended after the fact (the use case's own record, written once the
call has its result) is logged and dropped: the call's result, or the error it already has
(``AuditUnavailable`` when the write's ``attempt`` could not be recorded), is what the caller
must see. An upstream write is never sent unless its ``attempt`` was recorded
(:mod:`~orderdesk_mcp.domain.use_cases.audited_write`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from orderdesk_mcp.domain.context import current_call
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.redaction import redact_card_text, redact_field_change, redact_text
from orderdesk_mcp.domain.results import Change
from orderdesk_mcp.ports.audit import AuditLog, AuditRecord, FieldChange
from orderdesk_mcp.ports.clock import Clock

__all__ = ["Outcome", "audit_attempt", "audit_attempt_outcome", "audit_mutation", "safe_change"]

Outcome = Literal["ok", "error", "dry_run", "replayed", "noop"]
_log = logging.getLogger(__name__)


def safe_change(field: str, before: Any, after: Any) -> FieldChange:
    """One change as the audit log may keep it: card fields and card numbers redacted."""
    field, before, after = redact_field_change(field, msgspec.to_builtins(before), msgspec.to_builtins(after))
    return FieldChange(field=field, before=before, after=after)


def _safe_error(error: str | None) -> str | None:
    return None if error is None else redact_text(error)


def _safe(text: str | None) -> str | None:
    return None if text is None else redact_card_text(text)


def _record(
    clock: Clock,
    *,
    store: StoreRef,
    tool: str,
    order_id: str | None,
    outcome: Outcome | Literal["attempt"],
    attempts: int = 1,
    changes: Iterable[FieldChange] = (),
    error: str | None = None,
    attempt_id: str | None = None,
    resource: str | None = None,
) -> AuditRecord:
    call = current_call()
    return AuditRecord(
        time=clock.time(),
        correlation_id=call.correlation_id if call else "",
        tenant=store.tenant,
        store_id=store.store_id,
        tool=tool,
        order_id=_safe(order_id),
        outcome=outcome,
        attempts=attempts,
        changes=tuple(changes),
        error=_safe_error(error),
        attempt_id=attempt_id,
        resource=_safe(resource),
    )


async def audit_mutation(
    audit: AuditLog,
    clock: Clock,
    *,
    store: StoreRef,
    tool: str,
    order_id: str | None,
    outcome: Outcome,
    attempts: int = 1,
    changes: Iterable[Change] = (),
    error: str | None = None,
    resource: str | None = None,
) -> None:
    """Append a use case's record: its outcome and the field-level changes (card data redacted).

    A failure to append is logged, not raised (see the module docstring).
    """
    record = _record(
        clock,
        store=store,
        tool=tool,
        order_id=order_id,
        outcome=outcome,
        attempts=attempts,
        changes=(safe_change(c.field, c.before, c.after) for c in changes),
        error=error,
        resource=resource,
    )
    try:
        await audit.append(record)
    except Exception as exc:
        _log.error("audit log: the %s record of a %s could not be appended: %r", outcome, tool, exc)


async def audit_attempt(
    audit: AuditLog,
    clock: Clock,
    *,
    store: StoreRef,
    tool: str,
    order_id: str | None,
    changes: Iterable[FieldChange] = (),
    resource: str | None = None,
) -> str:
    """Append the ``attempt`` record of an upstream write about to be sent; returns its id.

    ``resource`` names what is written when it is not (only) the order, e.g. ``"inventory:2501"``.
    """
    attempt_id = secrets.token_hex(8)
    await audit.append(
        _record(
            clock,
            store=store,
            tool=tool,
            order_id=order_id,
            outcome="attempt",
            changes=(safe_change(c.field, c.before, c.after) for c in changes),
            attempt_id=attempt_id,
            resource=resource,
        )
    )
    return attempt_id


async def audit_attempt_outcome(
    audit: AuditLog,
    clock: Clock,
    attempt_id: str,
    *,
    store: StoreRef,
    tool: str,
    order_id: str | None,
    error: str | None = None,
    resource: str | None = None,
) -> None:
    """Append the outcome of the attempt ``attempt_id``: ``ok``, or ``error`` with its message."""
    await audit.append(
        _record(
            clock,
            store=store,
            tool=tool,
            order_id=order_id,
            outcome="ok" if error is None else "error",
            error=error,
            attempt_id=attempt_id,
            resource=resource,
        )
    )
