"""Per-call dispatch: the one place that turns a tool call into a use-case call.

It refuses unknown top-level arguments (the SDK ignores them), resolves tenant and store,
enforces read-only modes, opens the call context (correlation id and deadline), bounds the
call with a real cancel scope, and maps every anticipated failure to ``ToolError`` text.
Anything unanticipated is logged with its traceback and reaches the agent only as the
SDK's generic message.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from orderdesk_mcp.domain.context import CallContext, call_context, new_correlation_id
from orderdesk_mcp.domain.errors import DeadlineExceeded, InvalidRequest, OrderDeskError, ReadOnlyMode
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.tenancy import choose_store
from orderdesk_mcp.entrypoints.http_auth import tenant_of_request
from orderdesk_mcp.entrypoints.services import AppServices

__all__ = ["tool_call"]

log = logging.getLogger(__name__)


def _arguments(params: object) -> Mapping[str, Any]:
    """The call's raw arguments, from the request's ``params``."""
    arguments = params.get("arguments") if isinstance(params, Mapping) else None
    return arguments if isinstance(arguments, Mapping) else {}


def _reject_unknown(arguments: Mapping[str, Any], allowed: Collection[str]) -> None:
    unknown = sorted(str(k) for k in arguments if k not in allowed)
    if unknown:
        names = ", ".join(repr(k[:60]) for k in unknown[:10])
        raise InvalidRequest([f"unknown argument {names}; this tool takes: {', '.join(sorted(allowed))}"])


@asynccontextmanager
async def tool_call(
    ctx: Context[AppServices],
    tool: str,
    *,
    allowed: Collection[str],
    store: str | None,
    writes: bool = False,
) -> AsyncIterator[StoreRef]:
    """Run one tool call's body; yields the store the call is about.

    Raises:
        ToolError: with the domain error's safe message.
    """
    request = ctx.request_context  # a pydantic private attribute: a few microseconds per read
    app = request.lifespan_context
    timeout = app.settings.call_timeout
    correlation = new_correlation_id()
    tenant = tenant_of_request(request.request)
    call = CallContext(
        correlation_id=correlation,
        deadline=app.clock.monotonic() + timeout,
        timeout=timeout,
        tenant=tenant,
        tool=tool,
    )
    # Telemetry (call_telemetry.py): times the call, then turns its stats into metrics and a log line.
    with call_context(call), app.telemetry.observe(call) as observed:
        try:
            _reject_unknown(_arguments(request.params), allowed)
            if writes and app.settings.read_only:
                raise ReadOnlyMode(tool)
            access = choose_store(await app.credentials.stores(tenant), store)
            observed.store = access.ref.store_id  # telemetry
            if writes and access.read_only:
                raise ReadOnlyMode(tool, access.ref.store_id)
            with anyio.fail_after(timeout):
                yield access.ref
        except TimeoutError as exc:
            log.warning("%s stopped at its %.1f s deadline", tool, timeout)
            raise ToolError(str(DeadlineExceeded(timeout))) from exc
        except OrderDeskError as exc:
            log.info("%s failed: %s", tool, type(exc).__name__)
            raise ToolError(str(exc)) from exc
