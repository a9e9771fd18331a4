"""MCP tools for order actions that are not a document write: ``orders_move``, ``orders_add_note``."""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ToolAnnotations

from orderdesk_mcp.domain.reach_commands import AddNoteCommand, MoveOrdersCommand
from orderdesk_mcp.entrypoints.dispatch import request_of, tool_call
from orderdesk_mcp.entrypoints.mcp_results import compact_result
from orderdesk_mcp.entrypoints.mcp_schemas_reach import (
    AddNoteOut,
    FolderArg,
    IdempotencyKeyArg,
    MoveOrdersOut,
    NoteArg,
    OrderIdsArg,
    ReachOrderIdArg,
    ReachStoreArg,
)
from orderdesk_mcp.entrypoints.services import AppServices

__all__ = ["register_order_action_tools"]


def register_order_action_tools(mcp: MCPServer[AppServices], *, read_only: bool) -> None:
    """Both tools write, so read-only mode registers neither."""
    if read_only:
        return

    @mcp.tool(
        name="orders_move",
        title="Move orders to a folder",
        description=(
            "Move 1 to 100 orders to a folder (name in any case, or id) with one OrderDesk request. "
            "Moving runs the destination folder's rules in OrderDesk (e-mails to customers, fulfilment). "
            "Orders already in the folder are reported unchanged and not sent again; an unknown folder is "
            "an error listing the store's folders, before anything is sent. Returns moved [{order_id, "
            "from_folder, to_folder}], unchanged [order ids] and failed [{order_id, error}]."
        ),
        structured_output=True,
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
        ),
    )
    async def orders_move(
        order_ids: OrderIdsArg, folder: FolderArg, ctx: Context[AppServices], store: ReachStoreArg = None
    ) -> Annotated[CallToolResult, MoveOrdersOut]:
        request = request_of(ctx)
        app = request.lifespan_context
        async with tool_call(
            request, "orders_move", allowed={"order_ids", "folder", "store"}, store=store, writes=True
        ) as ref:
            result = await app.reach.move_orders(MoveOrdersCommand.parse(ref, order_ids, folder))
        out: MoveOrdersOut = {
            "moved": [
                {"order_id": m.order_id, "from_folder": m.from_folder, "to_folder": m.to_folder}
                for m in result.moved
            ],
            "unchanged": list(result.unchanged),
            "failed": [{"order_id": f.order_id, "error": f.error} for f in result.failed],
        }
        return compact_result(out)

    @mcp.tool(
        name="orders_add_note",
        title="Add a note to an order's history",
        description=(
            "Append a note (1 to 2000 characters) to an order's history in OrderDesk. The history is "
            "append-only: nothing else on the order changes. Pass an idempotency_key to make retries "
            "safe: a repeat returns the first result without adding a second note. Returns order_id, "
            "note, history_count and the order's fingerprint."
        ),
        structured_output=True,
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
        ),
    )
    async def orders_add_note(
        order_id: ReachOrderIdArg,
        note: NoteArg,
        ctx: Context[AppServices],
        idempotency_key: IdempotencyKeyArg = None,
        store: ReachStoreArg = None,
    ) -> Annotated[CallToolResult, AddNoteOut]:
        request = request_of(ctx)
        app = request.lifespan_context
        allowed = {"order_id", "note", "idempotency_key", "store"}
        async with tool_call(request, "orders_add_note", allowed=allowed, store=store, writes=True) as ref:
            cmd = AddNoteCommand.parse(ref, order_id, note, idempotency_key=idempotency_key)
            result = await app.reach.add_order_note(cmd)
        out: AddNoteOut = {
            "order_id": result.order_id,
            "note": result.note,
            "history_count": result.history_count,
            "fingerprint": result.fingerprint,
        }
        return compact_result(out)
