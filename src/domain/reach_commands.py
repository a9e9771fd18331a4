"""Commands of the folder-move, shipment, history-note and inventory use cases.

Built with the ``parse`` constructors from untrusted input; a bad value raises
``InvalidRequest`` naming the field.
"""

from __future__ import annotations

from typing import Any

import msgspec

from orderdesk_mcp.domain.commands import parse_order_id, shown
from orderdesk_mcp.domain.errors import InvalidRequest
from orderdesk_mcp.domain.inventory import InventoryQuery, normalize_item_id
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.shipment import NewShipment
from orderdesk_mcp.domain.value_checks import control_problems

__all__ = [
    "MAX_MOVE",
    "MAX_NOTE",
    "AddNoteCommand",
    "AddShipmentCommand",
    "AdjustStockCommand",
    "DeleteShipmentCommand",
    "GetItemCommand",
    "ListInventoryCommand",
    "ListShipmentsCommand",
    "MoveOrdersCommand",
    "UpdateItemCommand",
    "parse_item_id",
]

MAX_MOVE = 100
MAX_NOTE = 2000
MAX_INVENTORY_LIMIT = 500


def parse_item_id(value: object, *, field: str = "item_id") -> str:
    item_id = normalize_item_id(value)
    if item_id is None:
        raise InvalidRequest([f"{field} {shown(value)} is not an inventory item id (OrderDesk's numeric id)"])
    return item_id


def _text(value: object, field: str, *, limit: int = 200, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest([f"{field} must be a non-empty string"])
    if len(value) > limit:
        raise InvalidRequest([f"{field} must be at most {limit} characters"])
    return value.strip()


class MoveOrdersCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    store: StoreRef
    order_ids: tuple[str, ...]
    folder: str

    @classmethod
    def parse(cls, store: StoreRef, order_ids: object, folder: object) -> MoveOrdersCommand:
        if not isinstance(order_ids, list | tuple) or not 1 <= len(order_ids) <= MAX_MOVE:
            raise InvalidRequest([f"order_ids must be a list of 1 to {MAX_MOVE} order ids"])
        ids = tuple(dict.fromkeys(parse_order_id(v, field="order_ids entry") for v in order_ids))
        if isinstance(folder, bool) or not isinstance(folder, str | int) or not str(folder).strip():
            raise InvalidRequest(["folder must be a folder name (like 'Prepared') or a folder id"])
        return cls(store=store, order_ids=ids, folder=str(folder).strip())


class ListShipmentsCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    store: StoreRef
    order_id: str

    @classmethod
    def parse(cls, store: StoreRef, order_id: object) -> ListShipmentsCommand:
        return cls(store=store, order_id=parse_order_id(order_id))


class AddShipmentCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    store: StoreRef
    order_id: str
    shipment: NewShipment

    @classmethod
    def parse(cls, store: StoreRef, order_id: object, **fields: Any) -> AddShipmentCommand:
        given = {k: v for k, v in fields.items() if v is not None}
        for name in ("tracking_number", "carrier_code"):
            given[name] = _text(given.get(name), name)
        for name in ("shipment_method", "tracking_url", "status"):
            if name in given:
                given[name] = _text(given[name], name, limit=2000 if name == "tracking_url" else 200)
        try:
            shipment = msgspec.convert(given, NewShipment)
        except msgspec.ValidationError as exc:
            raise InvalidRequest([str(exc)]) from exc
        return cls(store=store, order_id=parse_order_id(order_id), shipment=shipment)


class DeleteShipmentCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    store: StoreRef
    order_id: str
    shipment_id: str
    confirm: bool = False

    @classmethod
    def parse(
        cls, store: StoreRef, order_id: object, shipment_id: object, *, confirm: bool = False
    ) -> DeleteShipmentCommand:
        return cls(
            store=store,
            order_id=parse_order_id(order_id),
            shipment_id=parse_order_id(
                shipment_id,
                field="shipment_id",
                what="a shipment id",
                hint="shipments_list shows the order's shipment ids (digits)",
            ),
            confirm=confirm,
        )


class AddNoteCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    store: StoreRef
    order_id: str
    note: str
    idempotency_key: str | None = None

    @classmethod
    def parse(
        cls, store: StoreRef, order_id: object, note: object, *, idempotency_key: str | None = None
    ) -> AddNoteCommand:
        if not isinstance(note, str) or not note.strip():
            raise InvalidRequest(["note must be a non-empty string"])
        if len(note) > MAX_NOTE:
            raise InvalidRequest([f"note must be at most {MAX_NOTE} characters (it has {len(note)})"])
        controls = control_problems(note, "note")  # as orders_update: only tab and newline
        if controls:
            raise InvalidRequest(controls)
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
            raise InvalidRequest(["idempotency_key must be 1 to 200 characters"])
        return cls(store=store, order_id=parse_order_id(order_id), note=note, idempotency_key=idempotency_key)


class ListInventoryCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    store: StoreRef
    query: InventoryQuery

    @classmethod
    def parse(
        cls, store: StoreRef, *, limit: int, offset: int, code: str | None = None, search: str | None = None
    ) -> ListInventoryCommand:
        problems = []
        if not 1 <= limit <= MAX_INVENTORY_LIMIT:
            problems.append(f"limit must be 1 to {MAX_INVENTORY_LIMIT}")
        if offset < 0:
            problems.append("offset must be 0 or more")
        if problems:
            raise InvalidRequest(problems)
        query = InventoryQuery(
            limit=limit,
            offset=offset,
            code=_text(code, "code", required=False),
            search=_text(search, "search", required=False),
        )
        return cls(store=store, query=query)


class GetItemCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    store: StoreRef
    item_id: str

    @classmethod
    def parse(cls, store: StoreRef, item_id: object) -> GetItemCommand:
        return cls(store=store, item_id=parse_item_id(item_id))


class UpdateItemCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    store: StoreRef
    item_id: str
    changes: dict[str, Any]
    expected_fingerprint: str | None = None
    dry_run: bool = False

    @classmethod
    def parse(
        cls,
        store: StoreRef,
        item_id: object,
        changes: object,
        *,
        expected_fingerprint: str | None = None,
        dry_run: bool = False,
    ) -> UpdateItemCommand:
        if not isinstance(changes, dict) or not changes:
            raise InvalidRequest(["changes must be a non-empty object of inventory fields to change"])
        return cls(
            store=store,
            item_id=parse_item_id(item_id),
            changes=dict(changes),
            expected_fingerprint=expected_fingerprint,
            dry_run=dry_run,
        )


class AdjustStockCommand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    store: StoreRef
    item_id: str | None
    code: str | None
    delta: int
    reason: str | None = None
    allow_negative: bool = False

    @classmethod
    def parse(
        cls,
        store: StoreRef,
        *,
        item_id: object = None,
        code: object = None,
        delta: object,
        reason: str | None = None,
        allow_negative: bool = False,
    ) -> AdjustStockCommand:
        if (item_id is None) == (code is None):
            raise InvalidRequest(["pass exactly one of item_id or code"])
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
            raise InvalidRequest(["delta must be a whole number other than 0 (like 10 or -2)"])
        return cls(
            store=store,
            item_id=parse_item_id(item_id) if item_id is not None else None,
            code=_text(code, "code") if code is not None else None,
            delta=delta,
            reason=_text(reason, "reason", limit=500, required=False),
            allow_negative=allow_negative,
        )
