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
from types import TracebackType
from typing import TypeVar

import anyio
import anyio.lowlevel

from orderdesk_mcp.domain.context import current_call
from orderdesk_mcp.domain.errors import AuditUnavailable, OrderDeskError
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.use_cases._audit import audit_attempt, audit_attempt_outcome
from orderdesk_mcp.ports.audit import AuditLog, FieldChange
from orderdesk_mcp.ports.clock import Clock

__all__ = ["NOT_SENT", "AuditedWrite", "PendingAttempt", "Unaudited", "attempt_ahead"]

_log = logging.getLogger(__name__)

T = TypeVar("T")


def _tool(default: str) -> str:
    call = current_call()
    return call.tool if call is not None and call.tool else default


def _no_id(_: object) -> str | None:
    return None


NOT_SENT = "not sent: nothing was written"


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
        async with self.ahead(store, tool, order_id=order_id, resource=resource, changes=changes) as pending:
            return await pending.send(op, result_id=result_id)

    def ahead(
        self,
        store: StoreRef,
        tool: str,
        *,
        order_id: str | None = None,
        resource: str | None = None,
        changes: tuple[FieldChange, ...] = (),
    ) -> PendingAttempt:
        """The attempt of a write the caller may send later in the block, appended from its start.

        Entered before a merge-base read, the append (and its fsync) runs alongside the read, so
        nothing of ours waits between the read and the write.
        """
        return PendingAttempt(self, store, _tool(tool), order_id, resource, changes)


def attempt_ahead(
    audited: AuditedWrite | None,
    store: StoreRef,
    tool: str,
    *,
    order_id: str | None = None,
    resource: str | None = None,
) -> PendingAttempt | Unaudited:
    """A round's PUT attempt, appended while the round reads (:meth:`AuditedWrite.ahead`); a use
    case built without an audit log (tests) records nothing."""
    if audited is None:
        return Unaudited()
    return audited.ahead(store, tool, order_id=order_id, resource=resource)


class PendingAttempt:
    """An ``attempt`` record being appended while the block runs; :meth:`send` writes after it.

    ``send`` waits for the record to be on disk (by then it almost always is), sends the write and
    records its outcome, also when it fails or is cancelled. A block left without a send (nothing
    to change, a refusal) closes the attempt with an outcome saying nothing was sent. The append
    is shielded, so a record is never left half-known.
    """

    def __init__(
        self,
        audited: AuditedWrite,
        store: StoreRef,
        tool: str,
        order_id: str | None,
        resource: str | None,
        changes: tuple[FieldChange, ...],
    ) -> None:
        self._audit, self._clock = audited.audit, audited.clock
        self._store, self._tool, self._order_id, self._resource = store, tool, order_id, resource
        self._changes = changes
        self._appended = anyio.Event()
        self._attempt: str | None = None
        self._failure: Exception | None = None
        self._sent = False
        self._tasks = anyio.create_task_group()

    async def __aenter__(self) -> PendingAttempt:
        await self._tasks.__aenter__()
        self._tasks.start_soon(self._append)
        # The append starts (its write and fsync under way) before the caller's read. Not a
        # cancellable checkpoint: cancelled here, the task group would be left entered.
        await anyio.lowlevel.cancel_shielded_checkpoint()
        return self

    async def _append(self) -> None:
        try:
            with anyio.CancelScope(shield=True):
                self._attempt = await audit_attempt(
                    self._audit, self._clock, store=self._store, tool=self._tool, order_id=self._order_id,
                    changes=self._changes, resource=self._resource,
                )  # fmt: skip
        except Exception as exc:  # a full disk, a damaged last line: the agent gets a line it can act on
            _log.error("audit log: the attempt of a %s could not be appended: %r", self._tool, exc)
            self._failure = exc
        finally:
            self._appended.set()

    async def send(
        self, op: Callable[[], Awaitable[T]], *, result_id: Callable[[T], str | None] = _no_id
    ) -> T:
        """Once the attempt is recorded, run ``op`` and record its outcome.

        Raises:
            AuditUnavailable: the attempt could not be recorded; nothing was sent.
        """
        await self._appended.wait()
        if self._attempt is None:
            raise AuditUnavailable(self._tool) from self._failure
        self._sent = True
        try:
            result = await op()
        except BaseException as exc:
            error = str(exc) if isinstance(exc, OrderDeskError) else f"stopped: {type(exc).__name__}"
            with anyio.CancelScope(shield=True):
                await self._outcome(self._order_id, error)
            raise
        with anyio.CancelScope(shield=True):  # the write landed: its outcome is recorded, whatever comes
            await self._outcome(result_id(result) or self._order_id, None)
        return result

    async def _outcome(self, order_id: str | None, error: str | None) -> None:
        """Append the attempt's outcome. A failure is logged, not raised: the write's own result (or
        error) is what the caller must see, and ``audit verify`` reports the attempt left open."""
        assert self._attempt is not None
        try:
            await audit_attempt_outcome(
                self._audit, self._clock, self._attempt, store=self._store, tool=self._tool,
                order_id=order_id, error=error, resource=self._resource,
            )  # fmt: skip
        except Exception as exc:
            _log.error("audit log: the outcome of a %s could not be appended: %r", self._tool, exc)

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            with anyio.CancelScope(shield=True):
                await self._appended.wait()  # the group's one task: done, so its exit only collects it
                if not self._sent and self._attempt is not None:
                    await self._outcome(self._order_id, NOT_SENT)
        finally:
            # Not handed the block's exception: the task group would wrap it in an exception
            # group, and callers (and the SDK) read our errors by their type.
            await self._tasks.__aexit__(None, None, None)


class Unaudited:
    """A :class:`PendingAttempt` of a use case built without an audit log (tests): sends, records nothing."""

    async def __aenter__(self) -> Unaudited:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def send(
        self, op: Callable[[], Awaitable[T]], *, result_id: Callable[[T], str | None] = _no_id
    ) -> T:
        return await op()
