"""Asking the person before a delete the agent did not confirm, where the client can ask them.

The question travels the way the negotiated protocol carries it:

- **2026-07-28 and later** have no server-to-client request in the middle of a call. The SDK asks
  through the call's result instead (``InputRequiredResult``): a tool parameter annotated
  ``Annotated[ElicitationResult[DeleteConfirmation], Resolve(...)]`` runs a resolver before the
  tool body, and when the resolver returns an ``Elicit`` the client is asked and calls again with
  the answer. :func:`ask_first` is that resolver's body.
- **Earlier revisions** (the handshake era) send ``elicitation/create`` while the call waits:
  :func:`person_confirms` does that from the tool body when the resolver did not ask.

Both end in the same three outcomes: a yes deletes, a no (declined, cancelled, or accepted
without saying yes) is :class:`~orderdesk_mcp.domain.errors.ConfirmationDeclined`, and a client
that cannot be asked gets the use case's "call again with confirm: true".
"""

from collections.abc import Callable, Collection

from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Elicit
from mcp.shared.exceptions import MCPError
from mcp.types.version import is_version_at_least

from orderdesk_mcp.domain.errors import ConfirmationDeclined, InvalidRequest
from orderdesk_mcp.entrypoints.dispatch import request_of, would_run
from orderdesk_mcp.entrypoints.mcp_schemas import DeleteConfirmation
from orderdesk_mcp.entrypoints.services import AppServices

__all__ = ["Asked", "ask_first", "person_confirms", "question"]

# The first revision that asks through the call's result rather than a request mid-call.
_ASKS_THROUGH_RESULT = "2026-07-28"

Asked = ElicitationResult[DeleteConfirmation]


def question(what: str) -> str:
    """What the person is asked: ``Delete order 500001 permanently?``."""
    return f"Delete {what} permanently?"


def _can_be_asked(ctx: Context[AppServices]) -> bool:
    """Whether the client declared form elicitation (a bare ``elicitation: {}`` means form)."""
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


async def ask_first(
    ctx: Context[AppServices],
    confirm: bool,
    what: Callable[[], str],
    *,
    tool: str,
    allowed: Collection[str],
    store: str | None,
) -> Elicit[DeleteConfirmation] | None:
    """The question for the SDK to put before the tool runs, or None when it should not ask.

    It asks only on a protocol that carries the question in the call's result, when ``confirm``
    is not already true, the client can ask, and the call would run at all: a call the tool
    refuses anyway (an unknown argument, a read-only server or store, no such store; ``allowed``
    and ``store`` as the tool passes them to ``tool_call``) asks nothing. ``what`` names the thing
    ("order 500001"); an id it cannot read means no question: the tool body reports the id.
    """
    version = ctx.protocol_version
    if confirm or version is None or not is_version_at_least(version, _ASKS_THROUGH_RESULT):
        return None
    if not _can_be_asked(ctx):
        return None
    try:
        thing = what()
    except InvalidRequest:
        return None
    request = request_of(ctx)
    if not await would_run(request, tool, allowed=allowed, store=store, writes=True):
        return None
    return Elicit(question(thing), DeleteConfirmation)


async def person_confirms(ctx: Context[AppServices], what: str, asked: Asked) -> bool:
    """Whether the person said yes to deleting ``what`` ("order 500001").

    ``asked`` is the resolver's outcome: the person's answer when :func:`ask_first` asked, or an
    accepted nothing when it did not. Then, on a handshake-era protocol, the person is asked now,
    through a request mid-call. False when nobody can be asked (no elicitation, no channel for
    the request, or an error instead of an answer): the use case then says how to confirm.

    Raises:
        ConfirmationDeclined: the person declined or cancelled, or accepted without saying yes.
    """
    if not isinstance(asked, AcceptedElicitation) or asked.data is not None:
        return _said_yes(asked, what)
    if not _can_be_asked(ctx):
        return False
    try:
        answer = await ctx.elicit(question(what), schema=DeleteConfirmation)
    except MCPError:
        # No channel for the request (a 2026-07-28 client, or stateless HTTP), or the client
        # answered with an error: nobody was asked, so answer as for a client without elicitation.
        return False
    except ValueError:
        # The SDK's answer to an accepted elicitation with no (or malformed) content.
        raise ConfirmationDeclined(f"deleting {what}", "nothing was deleted") from None
    return _said_yes(answer, what)


def _said_yes(answer: Asked, what: str) -> bool:
    if isinstance(answer, AcceptedElicitation) and bool(getattr(answer.data, "confirm", False)):
        return True
    cancelled = isinstance(answer, CancelledElicitation)
    raise ConfirmationDeclined(f"deleting {what}", "nothing was deleted", cancelled=cancelled)
