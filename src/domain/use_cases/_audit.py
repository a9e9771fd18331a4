"""Building and appending the audit records every mutation leaves.

:func:`audit_mutation` writes a use case's record (outcome and field-level changes);
:func:`audit_attempt` and :func:`audit_attempt_outcome` bracket one upstream write (see
:class:`~orderdesk_mcp.domain.use_cases.audited_gateway.AuditedOrderGateway`). Every record
passes through :func:`redact_card_data` first: card-named keys at any depth and strings that
look like card numbers are written as ``[redacted]``, whatever the audit log keeps otherwise.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from orderdesk_mcp.domain.context import current_call
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.redaction import REDACTED, is_card_key, redact_card_data, redact_text
from orderdesk_mcp.domain.results import Change
from orderdesk_mcp.ports.audit import AuditLog, AuditRecord, FieldChange
from orderdesk_mcp.ports.clock import Clock

__all__ = ["Outcome", "audit_attempt", "audit_attempt_outcome", "audit_mutation", "safe_change"]

Outcome = Literal["ok", "error", "dry_run", "replayed", "noop"]


def _plain(value: Any) -> Any:
    return redact_card_data(msgspec.to_builtins(value))


def safe_change(field: str, before: Any, after: Any) -> FieldChange:
    """One change as the audit log may keep it: card fields and card numbers redacted."""
    if is_card_key(field):
        return FieldChange(
            field=field,
            before=None if before is None else REDACTED,
            after=None if after is None else REDACTED,
        )
    return FieldChange(field=field, before=_plain(before), after=_plain(after))


def _safe_error(error: str | None) -> str | None:
    return None if error is None else redact_text(error)


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
        order_id=order_id,
        outcome=outcome,
        attempts=attempts,
        changes=tuple(changes),
        error=_safe_error(error),
        attempt_id=attempt_id,
        resource=resource,
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
    """Append a use case's record: its outcome and the field-level changes (card data redacted)."""
    await audit.append(
        _record(
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
    )


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
