"""The agent workload: what one agent session does to a store, counted in upstream requests.

One task, scripted like a real session: list a page in the summary view, get 5 of its orders,
update 3 of them (one with the fingerprint the get returned as ``expected_fingerprint``), add a
history note to one, then list the page again. The least any client could send for it:

    1 list                      the page itself
  + 0 gets                      a list returns the full documents already
  + 3 x (1 GET + 1 PUT)         OrderDesk has no partial update and no version: read, then write
  + 1 POST                      the history note (append-only: no read needed)
  + 1 list                      the writes changed the page
  = 9 requests per task

The summary view names each order's folder, which costs us one ``GET /store`` per store every
5 minutes (the folder cache): counted in what we send, not in the minimum.

The ratio of what we send to that minimum is the figure (target <= 1.1).
"""

from __future__ import annotations

from typing import Any

from mcp import Client

from bench._transports import Served
from bench._upstream import Upstream

__all__ = ["AGENT_MAX_RATIO", "run_agent_tasks"]

AGENT_MAX_RATIO = 1.1
PAGE = 10
LIST_TOOL, GET_TOOL, UPDATE_TOOL = "orders_list", "orders_get", "orders_update"
LIST_VIEW: dict[str, Any] = {"view": "summary"}  # as an agent lists (the default, said out loud)
# The note of the task, as (tool name, arguments for an order id).
NOTE_TOOL: tuple[str, Any] | None = (
    "orders_add_note",
    lambda order_id: {"order_id": order_id, "note": "Customer called about the delivery date"},
)


def _content(result: Any, what: str) -> dict[str, Any]:
    if result.is_error or result.structured_content is None:
        text = " ".join(getattr(b, "text", "") for b in result.content)
        raise RuntimeError(f"{what} failed during the benchmark: {text}")
    content: dict[str, Any] = result.structured_content
    return content


async def _task(client: Client, offset: int, n: int) -> int:
    """One session's task; returns the least number of requests any client could send for it."""
    listing = {"limit": PAGE, "offset": offset, **LIST_VIEW}
    page = _content(await client.call_tool(LIST_TOOL, listing), "list")
    ids = [order["id"] for order in page["orders"]][:5]
    fingerprints = {}
    for order_id in ids:
        got = _content(await client.call_tool(GET_TOOL, {"order_id": order_id}), "get")
        fingerprints[order_id] = got["fingerprint"]
    for k, order_id in enumerate(ids[:3]):
        args: dict[str, Any] = {"order_id": order_id, "changes": {"order_metadata": {"agent_task": n}}}
        if k == 0:
            args["expected_fingerprint"] = fingerprints[order_id]
        _content(await client.call_tool(UPDATE_TOOL, args), "update")
    notes = 0
    if NOTE_TOOL is not None:
        tool, make_args = NOTE_TOOL
        _content(await client.call_tool(tool, make_args(ids[0])), "note")
        notes = 1
    _content(await client.call_tool(LIST_TOOL, listing), "list again")
    return 1 + 0 + 3 * 2 + notes + 1


async def run_agent_tasks(
    served: Served, upstream: Upstream, *, tasks: int, first_offset: int
) -> dict[str, Any]:
    """Run ``tasks`` tasks on distinct pages, one after another, on a fresh server."""
    before = upstream.request_count
    least = 0
    hits_before, misses_before = served.hits_and_misses()
    async with served.connect() as client:
        for n in range(tasks):
            least += await _task(client, first_offset + n * PAGE, n)
    sent = upstream.request_count - before
    hits, misses = served.hits_and_misses()
    lookups = (hits - hits_before) + (misses - misses_before)
    return {
        "tasks": tasks,
        "upstream_requests": sent,
        "least_requests": least,
        "requests_per_task": sent / tasks,
        "least_per_task": least / tasks,
        "ratio": sent / least,
        "hit_rate": (hits - hits_before) / lookups if lookups else 0.0,
        "notes": NOTE_TOOL is not None,
    }
