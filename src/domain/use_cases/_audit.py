"""Building and appending the audit record every mutation attempt leaves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from orderdesk_mcp.domain.context import current_call
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.results import Change
from orderdesk_mcp.ports.audit import AuditLog, AuditRecord, FieldChange
from orderdesk_mcp.ports.clock import Clock

__all__ = ["Outcome", "audit_mutation"]

Outcome = Literal["ok", "error", "dry_run", "replayed", "noop"]


def _plain(value: Any) -> Any:
    return msgspec.to_builtins(value)


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
    call = current_call()
    await audit.append(
        AuditRecord(
            time=clock.time(),
            correlation_id=call.correlation_id if call else "",
            tenant=store.tenant,
            store_id=store.store_id,
            tool=tool,
            order_id=order_id,
            outcome=outcome,
            attempts=attempts,
            changes=tuple(
                FieldChange(field=c.field, before=_plain(c.before), after=_plain(c.after)) for c in changes
            ),
            error=error,
            resource=resource,
        )
    )
