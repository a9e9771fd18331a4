"""Orders shaped for a model: a page or an order in the asked view, within the result budget.

A full order is about 1,400 characters of JSON and a page of 50 is far past what a model
reads comfortably, so reads offer a flat summary, a selection of fields, and a budget in
characters that a page never passes (except that one order is never cut mid-document: an
order bigger than the budget alone is returned whole and flagged). The order documents
themselves are never altered, so fingerprints stay those of the stored documents.

A page of inventory items and an order's shipments are cut to the budget the same way
(:func:`shape_inventory_page`, :func:`shape_shipments`).

Everything here is pure. How many characters a value takes as compact JSON is the caller's
concern (``size``), since encoding is an adapter's business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import msgspec

from orderdesk_mcp.domain.field_selection import FieldTree, select_fields
from orderdesk_mcp.domain.folders import Folder, folder_name_of
from orderdesk_mcp.domain.inventory import InventoryPage
from orderdesk_mcp.domain.order import Order
from orderdesk_mcp.domain.order_summary import summarize
from orderdesk_mcp.domain.pagination import OrderPage
from orderdesk_mcp.domain.shipment import Shipment

__all__ = [
    "BUDGET_HINT",
    "ITEMS_BUDGET_HINT",
    "ITEM_OVERSIZED_HINT",
    "OVERSIZED_HINT",
    "SHIPMENTS_BUDGET_HINT",
    "SHIPMENT_OVERSIZED_HINT",
    "WRITE_SUMMARY_HINT",
    "ShapedPage",
    "View",
    "fit_to_budget",
    "fit_write_result",
    "shape_inventory_page",
    "shape_order",
    "shape_page",
    "shape_shipments",
]

View = Literal["summary", "full"]
Size = Callable[[Any], int]

BUDGET_HINT = (
    "Result cut to fit the result budget; continue from next_offset, or ask for fewer fields "
    "(fields: [...]) or the summary view to get more orders per call."
)
OVERSIZED_HINT = (
    "An order is larger than the result budget and was returned whole; ask for fields: [...] "
    "to read only what you need."
)
WRITE_SUMMARY_HINT = (
    "The written order is larger than the result budget, so it is shown as a summary; read it with "
    "orders_get and fields: [...] to see the parts you need."
)
ITEMS_BUDGET_HINT = (
    "Result cut to fit the result budget; continue from next_offset with the same code and search."
)
ITEM_OVERSIZED_HINT = "An item is larger than the result budget and was returned whole."
SHIPMENTS_BUDGET_HINT = (
    "Result cut to fit the result budget: {left} of the order's {total} shipments left out (the first "
    '{kept} are shown); orders_get with fields: ["order_shipments"] reads them all from the order.'
)
SHIPMENT_OVERSIZED_HINT = "A shipment is larger than the result budget and was returned whole."
_OMITTED = "[omitted from this reply: {} characters; read the order with orders_get]"


def fit_to_budget(fixed: int, costs: Sequence[int], budget: int) -> int:
    """How many entries (in order) fit: ``fixed`` plus each entry's cost and a separator.

    Always at least one when there is one, so an entry bigger than the budget still goes out.
    """
    used = fixed
    for kept, cost in enumerate(costs):
        used += cost + (1 if kept else 0)
        if used > budget:
            return max(kept, 1)
    return len(costs)


class ShapedPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page ready for the wire: entries, the maps that go with them, and honest paging."""

    orders: tuple[dict[str, Any], ...]
    total_count: int
    limit: int
    offset: int
    has_more: bool
    next_offset: int | None
    truncated: bool
    fingerprints: dict[str, str] | None = None  # full view only: documents never carry one
    folders: dict[str, str] | None = None  # full and fields views: folder id -> name
    over_budget: bool = False
    hint: str | None = None

    def to_builtins(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "orders": list(self.orders),
            "total_count": self.total_count,
            "limit": self.limit,
            "offset": self.offset,
            "has_more": self.has_more,
            "next_offset": self.next_offset,
            "truncated": self.truncated,
        }
        if self.fingerprints is not None:
            out["fingerprints"] = self.fingerprints
        if self.folders is not None:
            out["folders"] = self.folders
        if self.over_budget:
            out["over_budget"] = True
        if self.hint is not None:
            out["hint"] = self.hint
        return out


def _folder_map(orders: Iterable[Order], folders: Sequence[Folder]) -> dict[str, str]:
    names: dict[str, str] = {}
    for order in orders:
        name = folder_name_of(folders, order.view.folder_id)
        if name is not None:
            names[str(order.view.folder_id)] = name
    return names


def _entries(
    page: OrderPage, view: View, fields: FieldTree | None, folders: Sequence[Folder]
) -> list[dict[str, Any]]:
    if fields is not None:
        return [select_fields(order, fields) for order in page.orders]
    if view == "summary":
        return [summarize(order, folders) for order in page.orders]
    return [order.doc for order in page.orders]


def _shaped(
    page: OrderPage, orders: Sequence[Order], entries: Sequence[dict[str, Any]], *, full: bool,
    folders: Sequence[Folder], maps: bool, cut: bool, over_budget: bool,
) -> ShapedPage:  # fmt: skip
    end = page.offset + len(entries)
    has_more = end < page.total_count
    hint = BUDGET_HINT if cut else (OVERSIZED_HINT if over_budget else None)
    return ShapedPage(
        orders=tuple(entries),
        total_count=page.total_count,
        limit=page.limit,
        offset=page.offset,
        has_more=has_more,
        next_offset=end if has_more else None,
        truncated=cut,
        fingerprints={o.id: o.fingerprint for o in orders} if full else None,
        folders=_folder_map(orders, folders) if maps else None,
        over_budget=over_budget,
        hint=hint,
    )


def shape_page(
    page: OrderPage,
    *,
    view: View,
    fields: FieldTree | None,
    folders: Sequence[Folder],
    budget: int,
    size: Size,
) -> ShapedPage:
    """The page in the asked view (``fields`` wins over ``view``), cut to ``budget`` characters.

    ``size(value)`` is the length of ``value`` as compact JSON. A cut keeps whole orders from
    the start of the page, so ``next_offset`` continues exactly where it stopped.
    """
    full = fields is None and view == "full"
    maps = fields is not None or full
    entries = _entries(page, view, fields, folders)
    orders = page.orders

    def build(n: int, *, cut: bool, over: bool) -> ShapedPage:
        return _shaped(page, orders[:n], entries[:n], full=full, folders=folders, maps=maps, cut=cut,
                       over_budget=over)  # fmt: skip

    whole = build(len(entries), cut=False, over=False)
    if size(whole.to_builtins()) <= budget:
        return whole
    # Estimate first (each entry's text, plus its fingerprint in the full view), then make sure.
    pairs = zip(orders, entries, strict=True)
    costs = [size(entry) + (size({o.id: o.fingerprint}) if full else 0) for o, entry in pairs]
    envelope = msgspec.structs.replace(build(0, cut=True, over=True), folders=whole.folders,
                                       next_offset=page.offset + len(entries))  # fmt: skip
    kept = fit_to_budget(size(envelope.to_builtins()), costs, budget)
    shaped = build(kept, cut=kept < len(entries), over=False)
    while kept > 1 and size(shaped.to_builtins()) > budget:
        kept -= 1
        shaped = build(kept, cut=True, over=False)
    if kept == 1 and size(shaped.to_builtins()) > budget:
        shaped = build(1, cut=shaped.truncated, over=True)
    return shaped


def shape_order(
    order: Order, *, fields: FieldTree | None, folders: Sequence[Folder], budget: int, size: Size
) -> dict[str, Any]:
    """One order for ``orders_get``: the document (or the asked fields), its folder's name and
    fingerprint. Never cut; flagged ``over_budget`` when it passes the budget alone."""
    body = select_fields(order, fields, fingerprint=False) if fields is not None else order.doc
    out: dict[str, Any] = {
        "order": body,
        "folder": folder_name_of(folders, order.view.folder_id),
        "fingerprint": order.fingerprint,
    }
    if size(out) > budget:
        out |= {"over_budget": True, "hint": OVERSIZED_HINT}
    return out


def fit_write_result(
    result: dict[str, Any], order: Order, *, folders: Sequence[Folder], budget: int, size: Size
) -> dict[str, Any]:
    """A create or update reply within ``budget``: summarized, never dropped.

    Over the budget, ``order`` becomes its summary (the write itself is unaffected), and any
    diff value still too large is replaced by a note of its size.
    """
    if size(result) <= budget:
        return result
    out = dict(result) | {"order": summarize(order, folders), "summarized": True, "hint": WRITE_SUMMARY_HINT}
    diff = out.get("diff")
    if isinstance(diff, list) and size(out) > budget:
        share = max(200, budget // (4 * max(1, len(diff))))
        out["diff"] = [_shrunk(change, share, size) for change in diff]
    return out


def _shrunk(change: object, share: int, size: Size) -> object:
    if not isinstance(change, Mapping):
        return change
    kept = dict(change)
    for side in ("before", "after"):
        chars = size(kept.get(side))
        if chars > share:
            kept[side] = _OMITTED.format(chars)
    return kept


_Build = Callable[[int, bool, bool], dict[str, Any]]


def _fit_entries(
    build: _Build, count: int, costs: Callable[[], Sequence[int]], *, budget: int, size: Size
) -> dict[str, Any]:
    """``build(n, cut, over)`` for the most leading of ``count`` entries whose text fits ``budget``.

    ``costs()`` gives the entries' own characters (estimates; the result is measured to make
    sure), asked only when the whole does not fit. At least one entry goes out when there is
    one, flagged ``over`` when it passes the budget alone, so a reader is never stuck on an
    empty page.
    """
    whole = build(count, False, False)
    if size(whole) <= budget:
        return whole
    kept = fit_to_budget(size(build(0, True, True)), costs(), budget)
    shaped = build(kept, kept < count, False)
    while kept > 1 and size(shaped) > budget:
        kept -= 1
        shaped = build(kept, True, False)
    if kept == 1 and size(shaped) > budget:
        shaped = build(1, kept < count, True)
    return shaped


def shape_inventory_page(page: InventoryPage, *, budget: int, size: Size) -> dict[str, Any]:
    """``inventory_list``'s result, cut to ``budget`` characters between items.

    Keys as before the budget (``items``, ``fingerprints`` of those items, ``total_count``,
    ``limit``, ``offset``, ``has_more``), plus ``next_offset`` (null on the last page) and
    ``truncated``, as ``orders_list`` pages; ``hint`` when cut and ``over_budget`` when one
    item alone passes the budget. A cut keeps whole items from the start of the page, so
    ``next_offset`` continues exactly where it stopped.
    """
    items = page.items

    def build(n: int, cut: bool, over: bool) -> dict[str, Any]:
        kept = items[:n]
        end = page.offset + n
        has_more = end < page.total_count
        out: dict[str, Any] = {
            "items": [i.doc for i in kept],
            "fingerprints": {i.id: i.fingerprint for i in kept},
            "total_count": page.total_count,
            "limit": page.limit,
            "offset": page.offset,
            "has_more": has_more,
            "next_offset": end if has_more else None,
            "truncated": cut,
        }
        if over:
            out["over_budget"] = True
        if cut or over:
            out["hint"] = ITEMS_BUDGET_HINT if cut else ITEM_OVERSIZED_HINT
        return out

    def costs() -> list[int]:  # each item's text, its fingerprint entry and the two separators
        return [size(i.doc) + size({i.id: i.fingerprint}) + 1 for i in items]

    return _fit_entries(build, len(items), costs, budget=budget, size=size)


def shape_shipments(
    order_id: str, shipments: Sequence[Shipment], *, budget: int, size: Size
) -> dict[str, Any]:
    """``shipments_list``'s result, cut to ``budget`` characters between shipments.

    Keys as before the budget (``order_id``, ``shipments``, ``total_count``: how many the order
    has), plus ``truncated``; when cut, the first shipments that fit and a ``hint`` saying how
    many were left out; ``over_budget`` when one shipment alone passes the budget.
    """
    total = len(shipments)

    def build(n: int, cut: bool, over: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "order_id": order_id,
            "shipments": [s.doc for s in shipments[:n]],
            "total_count": total,
            "truncated": cut,
        }
        if over:
            out["over_budget"] = True
        if cut:
            # The envelope (n == 0) is measured with the widest counts it could carry.
            out["hint"] = SHIPMENTS_BUDGET_HINT.format(left=total - n, total=total, kept=n or total)
        elif over:
            out["hint"] = SHIPMENT_OVERSIZED_HINT
        return out

    return _fit_entries(build, total, lambda: [size(s.doc) for s in shipments], budget=budget, size=size)
