"""Commands: what each use case is asked to do, validated at construction.

Build them with the ``parse`` constructors from untrusted input; a bad value raises
``InvalidRequest`` naming the field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import msgspec

from orderdesk_mcp.domain.errors import InvalidRequest
from orderdesk_mcp.domain.field_selection import FieldTree, parse_fields
from orderdesk_mcp.domain.order import StoreRef, normalize_order_id
from orderdesk_mcp.domain.order_views import View
from orderdesk_mcp.domain.pagination import OrderQuery, validate_paging

__all__ = [
    "CreateOrderCommand",
    "DeleteOrderCommand",
    "GetOrderCommand",
    "ListOrdersCommand",
    "UpdateOrderCommand",
    "parse_order_id",
    "shown",
]

ORDER_ID_HINT = 'an order id is OrderDesk\'s numeric id, like 500001 or "500001"'


def shown(value: object) -> str:
    """``value`` as an error message quotes it: its repr, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_order_id(
    value: object, *, field: str = "order_id", what: str = "an order id", hint: str = ORDER_ID_HINT
) -> str:
    """Return the canonical id (digits, like an order's) or raise InvalidRequest saying what an id looks like.

    ``what`` and ``hint`` name the kind of id for other ids of the same form (a shipment's).
    """
    order_id = normalize_order_id(value)
    if order_id is None:
        raise InvalidRequest([f"{field} {shown(value)} is not {what}; {hint}"])
    return order_id


def _parse_fields(fields: object) -> FieldTree | None:
    if fields is None:
        return None
    if not isinstance(fields, list | tuple):
        raise InvalidRequest(['fields must be a list of field paths, like ["shipping.city"]'])
    return parse_fields(fields)


def _parse_view(view: object) -> View:
    if view in (None, "summary"):
        return "summary"
    if view == "full":
        return "full"
    raise InvalidRequest([f'view must be "summary" or "full"; got {shown(view)}'])


class GetOrderCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``fields`` (a tree of requested paths, None for the whole order) shapes the reply only."""

    store: StoreRef
    order_id: str
    fields: FieldTree | None = None

    @classmethod
    def parse(cls, store: StoreRef, order_id: object, *, fields: object = None) -> GetOrderCommand:
        return cls(store=store, order_id=parse_order_id(order_id), fields=_parse_fields(fields))


class ListOrdersCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``query`` is what OrderDesk is asked; ``view`` and ``fields`` shape the reply only."""

    store: StoreRef
    query: OrderQuery
    view: View = "summary"
    fields: FieldTree | None = None

    @classmethod
    def parse(
        cls, store: StoreRef, *, view: object = None, fields: object = None, **filters: Any
    ) -> ListOrdersCommand:
        """Build from keyword filters (None means not given); validates paging without clamping."""
        shape_view, shape_fields = _parse_view(view), _parse_fields(fields)
        given = {k: v for k, v in filters.items() if v is not None}
        for name in _DATE_FILTERS & given.keys():
            given[name] = _parse_utc_date(name, given[name])
        folder = given.get("folder_id")
        if folder is not None:
            given["folder_id"] = _parse_folder_ids(folder)
        try:
            query = msgspec.convert(given, OrderQuery)
        except msgspec.ValidationError as exc:
            raise InvalidRequest([str(exc)]) from exc
        validate_paging(query.limit, query.offset)
        return cls(store=store, query=query, view=shape_view, fields=shape_fields)


_DATE_FILTERS = frozenset(
    {"search_start_date", "search_end_date", "modified_start_date", "modified_end_date"}
)
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_HAS_TIME = re.compile(r"[T ]\d{1,2}:\d{2}")  # an ISO 8601 form with a time of day in it


def _parse_utc_date(name: str, value: object) -> str:
    """A date filter as OrderDesk documents it ('YYYY-MM-DD HH:MM:SS', UTC).

    Checked here, so "yesterday" costs no request and is refused in words the agent can act on.
    A bare date means the whole day, sent as its first second for a start and its last for an
    end: how OrderDesk reads a bare end date is not documented, and read as midnight it would
    leave out the day it names ("on or before 2026-12-01"). An ISO 8601 time
    (``2026-12-01T09:30:00Z``, ``...+01:00``), which agents often send, is turned into the
    documented form in UTC, since whether OrderDesk reads ISO forms is unknown.
    """
    text = value.strip() if isinstance(value, str) else ""
    try:
        day = datetime.strptime(text, "%Y-%m-%d").strftime("%Y-%m-%d")  # zero-padded: "2026-1-5"
    except ValueError:
        pass
    else:
        return f"{day} {'23:59:59' if name.endswith('_end_date') else '00:00:00'}"
    try:
        return datetime.strptime(text, _TIME_FORMAT).strftime(_TIME_FORMAT)
    except ValueError:
        pass
    refused = InvalidRequest(
        [f"{name} must be a UTC date, 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'; got {value!r}"]
    )
    if not _HAS_TIME.search(text):  # "20261201" or "2026-W49-2" would read as midnight, not as a day
        raise refused
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise refused from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(_TIME_FORMAT)


def _parse_folder_ids(value: object) -> tuple[int, ...]:
    items: list[object]
    if isinstance(value, str):
        items = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        items = [value]
    ids: list[int] = []
    for item in items:
        text = normalize_order_id(item)  # same shape: a positive integer
        if text is None:
            raise InvalidRequest([f"folder_id {item!r} is not a folder id (a positive integer)"])
        ids.append(int(text))
    if not ids:  # ",,," or " " would otherwise drop the filter and list every folder
        shape = "a folder id like 3, or several like '1,2'"
        raise InvalidRequest([f"folder_id must name at least one folder: {shape}; got {value!r}"])
    return tuple(ids)


class UpdateOrderCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    store: StoreRef
    order_id: str
    changes: dict[str, Any]
    expected_fingerprint: str | None = None
    dry_run: bool = False

    @classmethod
    def parse(
        cls,
        store: StoreRef,
        order_id: object,
        changes: object,
        *,
        expected_fingerprint: str | None = None,
        dry_run: bool = False,
    ) -> UpdateOrderCommand:
        if not isinstance(changes, dict):
            raise InvalidRequest(["changes must be an object of order fields to change"])
        if not changes:  # refused here: it would cost a read and change nothing
            raise InvalidRequest(["changes must name at least one order field to change"])
        return cls(
            store=store,
            order_id=parse_order_id(order_id),
            changes=dict(changes),
            expected_fingerprint=expected_fingerprint,
            dry_run=dry_run,
        )


class CreateOrderCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    store: StoreRef
    order: dict[str, Any]
    idempotency_key: str | None = None

    @classmethod
    def parse(
        cls, store: StoreRef, order: object, *, idempotency_key: str | None = None
    ) -> CreateOrderCommand:
        if not isinstance(order, dict):
            raise InvalidRequest(["order must be an object with the new order's fields"])
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
            raise InvalidRequest(["idempotency_key must be 1 to 200 characters"])
        return cls(store=store, order=dict(order), idempotency_key=idempotency_key)


class DeleteOrderCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    store: StoreRef
    order_id: str
    confirm: bool = False

    @classmethod
    def parse(cls, store: StoreRef, order_id: object, *, confirm: bool = False) -> DeleteOrderCommand:
        return cls(store=store, order_id=parse_order_id(order_id), confirm=confirm)
