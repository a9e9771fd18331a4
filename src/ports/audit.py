"""The audit log port: an append-only record of every mutation attempt.

Every upstream write leaves an ``attempt`` record *before* it is sent and a record with the
same ``attempt_id`` and its outcome after it, so a process that dies in between leaves an
attempt with no outcome (which ``audit verify`` and ``audit tail`` report as exactly that)
instead of no trace of a write that may have landed. The use cases add one more record per
call with the field-level changes. Card data never reaches a record (see ``_audit``).
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import msgspec

__all__ = ["AuditLog", "AuditRecord", "FieldChange"]


class FieldChange(msgspec.Struct, frozen=True, kw_only=True):
    field: str
    before: Any = None
    after: Any = None


class AuditRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One mutation attempt. ``time`` is epoch seconds from the clock port."""

    time: float
    correlation_id: str
    tenant: str
    store_id: str
    tool: str
    order_id: str | None
    outcome: Literal["ok", "error", "dry_run", "replayed", "noop", "attempt"]
    attempts: int = 1
    changes: tuple[FieldChange, ...] = ()
    error: str | None = None
    attempt_id: str | None = None  # pairs an ``attempt`` record with the outcome written after it
    resource: str | None = None  # what else was written, e.g. "inventory:2501", "shipment:700001"


class AuditLog(Protocol):
    async def append(self, record: AuditRecord) -> None:
        """Append one record durably before returning."""
        ...
