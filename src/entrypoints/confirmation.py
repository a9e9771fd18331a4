"""Asking the person before a delete the agent did not confirm, where the client can ask them."""

from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError

from orderdesk_mcp.domain.errors import ConfirmationDeclined
from orderdesk_mcp.entrypoints.mcp_schemas import DeleteConfirmation
from orderdesk_mcp.entrypoints.services import AppServices

__all__ = ["person_confirms"]


async def person_confirms(ctx: Context[AppServices], what: str) -> bool:
    """Ask the person, through elicitation, whether to delete ``what`` ("order 500001").

    True only for an explicit yes. False when nobody can be asked (no elicitation, no channel for
    the request, or an error instead of an answer): the use case then says how to confirm.

    Raises:
        ConfirmationDeclined: the person declined or cancelled, or accepted without saying yes.
    """
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None:
        return False
    try:
        answer = await ctx.elicit(f"Delete {what} permanently?", schema=DeleteConfirmation)
    except MCPError:
        # No channel for the request (the SDK client's default mode), or the client answered with
        # an error: nobody was asked, so answer as for a client without elicitation.
        return False
    except ValueError:
        # The SDK's answer to an accepted elicitation with no (or malformed) content.
        raise ConfirmationDeclined(f"deleting {what}", "nothing was deleted") from None
    if answer.action == "accept" and bool(getattr(answer.data, "confirm", False)):
        return True
    raise ConfirmationDeclined(f"deleting {what}", "nothing was deleted")
