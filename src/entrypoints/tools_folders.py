"""The folders family: ``folders_list``."""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ToolAnnotations

from orderdesk_mcp.entrypoints import mcp_convert as convert
from orderdesk_mcp.entrypoints.dispatch import request_of, tool_call
from orderdesk_mcp.entrypoints.mcp_results import compact_result
from orderdesk_mcp.entrypoints.mcp_schemas import ListFoldersOut, StoreArg
from orderdesk_mcp.entrypoints.services import AppServices

__all__ = ["register"]


def register(mcp: MCPServer[AppServices], *, read_only: bool) -> None:
    """Register the folder reads (present in read-only mode too)."""
    del read_only

    @mcp.tool(
        name="folders_list",
        title="List folders",
        description=(
            "List the store's folders as {id, name}: every order sits in exactly one. Use a name as "
            "orders_list's status (any case). Cached for 5 minutes."
        ),
        structured_output=True,
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=True),
    )
    async def folders_list(
        ctx: Context[AppServices], store: StoreArg = None
    ) -> Annotated[CallToolResult, ListFoldersOut]:
        request = request_of(ctx)
        app = request.lifespan_context
        async with tool_call(request, "folders_list", allowed={"store"}, store=store) as ref:
            folders = await app.list_folders(ref)
        return compact_result(convert.folders_out(folders))
