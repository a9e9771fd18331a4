"""The orders family, writes: ``orders_create``, ``orders_update``, ``orders_delete``.

Absent in read-only mode. Write replies follow the result budget: an order too large for it
is returned as its summary (the write itself is whole), never dropped.
"""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.types import CallToolResult, ToolAnnotations

from orderdesk_mcp.domain.commands import (
    CreateOrderCommand,
    DeleteOrderCommand,
    UpdateOrderCommand,
    parse_order_id,
)
from orderdesk_mcp.entrypoints import mcp_convert as convert
from orderdesk_mcp.entrypoints.confirmation import Asked, ask_first, person_confirms
from orderdesk_mcp.entrypoints.dispatch import request_of, tool_call
from orderdesk_mcp.entrypoints.mcp_results import compact_result
from orderdesk_mcp.entrypoints.mcp_schemas import (
    ChangesArg,
    ConfirmArg,
    CreateOrderOut,
    DeleteConfirmation,
    DeleteOrderOut,
    DryRunArg,
    NewOrderArg,
    OrderIdArg,
    StoreArg,
    UpdateOrderOut,
    text_arg,
)
from orderdesk_mcp.entrypoints.services import AppServices
from orderdesk_mcp.entrypoints.tools_orders import folders_or_none

__all__ = ["register"]

_IdempotencyKey = Annotated[
    str | None, text_arg("Any unique string; repeats within 24 h replay the first result.", 200)
]
_Fingerprint = Annotated[str | None, text_arg("Fingerprint from your last read of this order.", 128)]


_DELETE_ARGS = frozenset({"order_id", "confirm", "store"})


async def _ask_to_delete_order(
    order_id: OrderIdArg, confirm: bool, store: StoreArg, ctx: Context[AppServices]
) -> Elicit[DeleteConfirmation] | None:
    """``orders_delete``'s question to the person, asked before the tool runs (confirmation.py)."""
    what = lambda: f"order {parse_order_id(order_id)}"  # noqa: E731 - read only if the client can be asked
    return await ask_first(ctx, confirm, what, tool="orders_delete", allowed=_DELETE_ARGS, store=store)


def register(mcp: MCPServer[AppServices], *, read_only: bool) -> None:
    """Register the order writes, unless the server is read-only."""
    if read_only:
        return

    @mcp.tool(
        name="orders_create",
        title="Create an order",
        description=(
            "Create an order. Requires at least one item in order_items and a first and last name or a "
            "company in shipping or customer; every missing or wrong field is named before anything is "
            "sent. Pass an idempotency_key to make retries safe: a repeat returns the first result "
            "(created: false). Without a source_id one is generated, so an interrupted create is "
            "reconciled instead of duplicated. A reply too large for the result budget shows the order "
            "as a summary (summarized: true)."
        ),
        structured_output=True,
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
        ),
    )
    async def orders_create(
        order: NewOrderArg,
        ctx: Context[AppServices],
        idempotency_key: _IdempotencyKey = None,
        store: StoreArg = None,
    ) -> Annotated[CallToolResult, CreateOrderOut]:
        request = request_of(ctx)
        app = request.lifespan_context
        allowed = {"order", "idempotency_key", "store"}
        budget = app.settings.max_result_chars
        async with tool_call(request, "orders_create", allowed=allowed, store=store, writes=True) as ref:
            result = await app.create_order(
                CreateOrderCommand.parse(ref, order, idempotency_key=idempotency_key)
            )
            out = convert.create_out(result, folders=(), budget=budget)
            if out.get("summarized"):
                out = convert.create_out(result, folders=await folders_or_none(app, ref), budget=budget)
        return compact_result(out)

    @mcp.tool(
        name="orders_update",
        title="Update an order",
        description=(
            "Change fields of an order safely: the full order is fetched, your changes are merged, and "
            "the whole order is written back (never a partial write). Merge policy: top-level keys you "
            "name replace the old value; shipping, customer, return_address, checkout_data and "
            "order_metadata merge key by key; order_items, order_notes and discount_list are replaced "
            "whole (send the full list); null removes a field; everything you do not name is kept "
            "exactly. Keys OrderDesk owns (id, dates, totals, email_count, order_shipments) and folder_id"
            " cannot be changed. If the order changes underneath, the update re-reads and retries; pass "
            "expected_fingerprint (from a read, summary or full) to refuse instead. dry_run: true shows "
            "the diff and writes nothing."
        ),
        structured_output=True,
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
        ),
    )
    async def orders_update(
        order_id: OrderIdArg,
        changes: ChangesArg,
        ctx: Context[AppServices],
        expected_fingerprint: _Fingerprint = None,
        dry_run: DryRunArg = False,
        store: StoreArg = None,
    ) -> Annotated[CallToolResult, UpdateOrderOut]:
        request = request_of(ctx)
        app = request.lifespan_context
        allowed = {"order_id", "changes", "expected_fingerprint", "dry_run", "store"}
        budget = app.settings.max_result_chars
        async with tool_call(request, "orders_update", allowed=allowed, store=store, writes=True) as ref:
            cmd = UpdateOrderCommand.parse(
                ref, order_id, changes, expected_fingerprint=expected_fingerprint, dry_run=dry_run
            )
            result = await app.update_order(cmd)
            out = convert.update_out(result, folders=(), budget=budget)
            if out.get("summarized"):
                out = convert.update_out(result, folders=await folders_or_none(app, ref), budget=budget)
        return compact_result(out)

    @mcp.tool(
        name="orders_delete",
        title="Delete an order",
        description=(
            "Delete an order permanently. Nothing is deleted unless confirm is true (or, where the client"
            " supports it, the person confirms when asked). If the person declines, do not retry "
            "without asking them."
        ),
        structured_output=True,
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
        ),
    )
    async def orders_delete(
        order_id: OrderIdArg,
        ctx: Context[AppServices],
        asked: Annotated[Asked, Resolve(_ask_to_delete_order)],
        confirm: ConfirmArg = False,
        store: StoreArg = None,
    ) -> Annotated[CallToolResult, DeleteOrderOut]:
        request = request_of(ctx)
        app = request.lifespan_context
        async with tool_call(request, "orders_delete", allowed=_DELETE_ARGS, store=store, writes=True) as ref:
            cmd = DeleteOrderCommand.parse(ref, order_id, confirm=confirm)
            if not cmd.confirm and await person_confirms(ctx, f"order {cmd.order_id}", asked):
                cmd = DeleteOrderCommand(store=cmd.store, order_id=cmd.order_id, confirm=True)
            result = await app.delete_order(cmd)
        return compact_result(convert.delete_out(result))
