"""The simulator's state and OrderDesk's business rules, shared by the HTTP app and the
in-process gateway.

Full replacement on PUT, computed read-only fields, folders, duplicate detection by
(source_name, source_id), and a token bucket per store (burst 20, 3 per second).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from adapters.simulator._faults import Faults
from adapters.system_clock import SystemClock
from ports.clock import Clock

__all__ = ["DEFAULT_FOLDERS", "RequestRecord", "SimError", "SimulatorState"]

DEFAULT_FOLDERS = {1: "New", 2: "Prepared", 3: "Closed", 4: "Canceled"}
_SORTABLE = {"date_added", "date_updated", "id", "source_id", "email", "order_total", "shipping_last_name"}
MAX_LIMIT = 500


class SimError(Exception):
    """An OrderDesk error answer: HTTP status plus its ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class RequestRecord(msgspec.Struct, kw_only=True):
    method: str
    path: str
    store_id: str
    time: float
    correlation_id: str = ""
    status: int = 0


@dataclass
class _Store:
    api_key: str
    folders: dict[int, str]
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: float = 20.0
    refilled_at: float = 0.0


def _num(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


class SimulatorState:
    """Stores, orders and the request log of one simulated OrderDesk."""

    burst = 20
    per_second = 3.0

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.stores: dict[str, _Store] = {}
        self.requests: list[RequestRecord] = []
        self.faults = Faults()
        self._next_id = 500_001

    # -- set-up ---------------------------------------------------------------
    def add_store(self, store_id: str, api_key: str, *, folders: dict[int, str] | None = None) -> None:
        self.stores[store_id] = _Store(
            api_key, dict(folders or DEFAULT_FOLDERS), refilled_at=self.clock.monotonic()
        )

    def seed(self, store_id: str, docs: Iterable[Mapping[str, Any]]) -> list[str]:
        store = self._store(store_id)
        ids = []
        for raw in docs:
            doc = copy.deepcopy(dict(raw))
            doc["id"] = str(doc.get("id") or self._new_id())
            self._next_id = max(self._next_id, int(doc["id"]) + 1)
            store.orders[doc["id"]] = doc
            ids.append(doc["id"])
        return ids

    def seed_samples(self, store_id: str, count: int = 25, *, seed: int = 7) -> list[str]:
        from adapters.simulator._seed import sample_orders

        return self.seed(store_id, sample_orders(count, seed=seed, first_id=self._next_id))

    def orders(self, store_id: str) -> dict[str, dict[str, Any]]:
        """The live documents of a store (tests assert on and edit them)."""
        return self._store(store_id).orders

    def authenticate(self, store_id: str, api_key: str) -> bool:
        store = self.stores.get(store_id)
        return store is not None and store.api_key == api_key

    # -- rate limit -----------------------------------------------------------
    def take_token(self, store_id: str) -> tuple[bool, int, float]:
        """(allowed, tokens remaining, seconds until the next token)."""
        store = self._store(store_id)
        now = self.clock.monotonic()
        store.tokens = min(self.burst, store.tokens + (now - store.refilled_at) * self.per_second)
        store.refilled_at = now
        if not self.faults.rate_limit_enabled:
            return True, int(store.tokens), 0.0
        if store.tokens >= 1:
            store.tokens -= 1
            return True, int(store.tokens), 0.0
        return False, 0, (1 - store.tokens) / self.per_second

    # -- orders ---------------------------------------------------------------
    def get_order(self, store_id: str, order_id: str) -> dict[str, Any]:
        store = self._store(store_id)
        doc = store.orders.get(order_id)
        if doc is None:
            raise SimError(404, "Order not found")
        served = copy.deepcopy(doc)
        watch = self.faults.take_watch(order_id)
        if watch is not None:
            self.faults.external_edits += 1
            if watch.mutate is not None:
                watch.mutate(doc)
            else:
                meta = doc.get("order_metadata")
                doc["order_metadata"] = (meta if isinstance(meta, dict) else {}) | {
                    "external_edit": self.faults.external_edits
                }
            doc["date_updated"] = self._now_text()
        return served

    def list_orders(
        self, store_id: str, params: Mapping[str, str]
    ) -> tuple[int, list[dict[str, Any]], int, int]:
        """(total, page, limit, offset) for ``GET /orders`` query parameters."""
        store = self._store(store_id)
        limit = self._int_param(params, "limit", 50)
        offset = self._int_param(params, "offset", 0)
        if not 1 <= limit <= MAX_LIMIT:
            raise SimError(422, f"limit must be between 1 and {MAX_LIMIT}")
        if offset < 0:
            raise SimError(422, "offset must be 0 or more")
        docs = [d for d in store.orders.values() if self._matches(store, d, params)]
        order_by = params.get("order_by", "date_added")
        if order_by not in _SORTABLE:
            raise SimError(422, f"Invalid order_by: {order_by[:40]}")
        descending = params.get("order", "desc").lower() != "asc"
        docs.sort(key=lambda d: (self._sort_key(d, order_by), int(d["id"])), reverse=descending)
        return len(docs), [copy.deepcopy(d) for d in docs[offset : offset + limit]], limit, offset

    def create_order(self, store_id: str, doc: Mapping[str, Any]) -> dict[str, Any]:
        store = self._store(store_id)
        body = copy.deepcopy(dict(doc))
        self._validate_new(body)
        source_name = str(body.get("source_name") or "Order Desk")
        source_id = str(body.get("source_id") or "")
        if source_id:
            for existing in store.orders.values():
                if (existing.get("source_id"), existing.get("source_name")) == (source_id, source_name):
                    raise SimError(422, f"Duplicate order: existing order id {existing['id']}")
        order_id = str(self._new_id())
        body.setdefault("shipping", copy.deepcopy(body.get("customer") or {}))
        body.setdefault("customer", copy.deepcopy(body.get("shipping") or {}))
        body |= {"id": order_id, "source_id": source_id or order_id, "source_name": source_name}
        body.setdefault("folder_id", next(iter(store.folders)))
        body.setdefault("payment_status", "Captured")
        body["date_added"] = body["date_updated"] = self._now_text()
        body.setdefault("order_shipments", [])
        self._stamp_items(body)
        self._compute(store, body)
        store.orders[order_id] = body
        return copy.deepcopy(body)

    def replace_order(self, store_id: str, order_id: str, doc: Mapping[str, Any]) -> dict[str, Any]:
        store = self._store(store_id)
        old = store.orders.get(order_id)
        if old is None:
            raise SimError(404, "Order not found")
        if self.faults.take_conflict():
            raise SimError(409, "Order was modified by another request")
        body = copy.deepcopy(dict(doc))  # full replacement: what is not sent is gone
        body |= {"id": order_id, "date_added": old.get("date_added", ""), "date_updated": self._now_text()}
        body["order_shipments"] = copy.deepcopy(old.get("order_shipments", []))
        self._stamp_items(body)
        self._compute(store, body)
        store.orders[order_id] = body
        return copy.deepcopy(body)

    def delete_order(self, store_id: str, order_id: str) -> None:
        if self._store(store_id).orders.pop(order_id, None) is None:
            raise SimError(404, "Order not found")

    def store_info(self, store_id: str) -> dict[str, Any]:
        store = self._store(store_id)
        return {
            "id": store_id,
            "name": f"Simulated store {store_id}",
            "settings": {"timezone": "UTC", "orders_per_page": 50},
            "folders": {str(k): v for k, v in store.folders.items()},
        }

    # -- helpers --------------------------------------------------------------
    def _store(self, store_id: str) -> _Store:
        store = self.stores.get(store_id)
        if store is None:
            raise SimError(401, "Invalid store ID or API key")
        return store

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _now_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.clock.time()))

    @staticmethod
    def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
        raw = params.get(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise SimError(422, f"{name} must be a whole number") from None

    @staticmethod
    def _sort_key(doc: Mapping[str, Any], order_by: str) -> Any:
        if order_by == "id":
            return int(doc["id"])
        if order_by == "order_total":
            return _num(doc.get("order_total"))
        if order_by == "shipping_last_name":
            return str((doc.get("shipping") or {}).get("last_name", ""))
        return str(doc.get(order_by, ""))

    @staticmethod
    def _matches(store: _Store, doc: Mapping[str, Any], params: Mapping[str, str]) -> bool:
        if "folder_id" in params:
            wanted = {int(p) for p in params["folder_id"].split(",") if p.strip().isdigit()}
            if doc.get("folder_id") not in wanted:
                return False
        if (
            "folder_name" in params
            and store.folders.get(int(doc.get("folder_id") or 0)) != params["folder_name"]
        ):
            return False
        for key in ("source_id", "source_name", "email"):
            if key in params and str(doc.get(key, "")) != params[key]:
                return False
        ranges = {
            "search_start_date": ("date_added", 1), "search_end_date": ("date_added", -1),
            "modified_start_date": ("date_updated", 1), "modified_end_date": ("date_updated", -1),
        }  # fmt: skip
        for param, (field_name, sign) in ranges.items():
            if param in params:
                bound = (
                    params[param]
                    if len(params[param]) > 10
                    else params[param] + (" 00:00:00" if sign > 0 else " 23:59:59")
                )
                value = str(doc.get(field_name, ""))
                if (sign > 0 and value < bound) or (sign < 0 and value > bound):
                    return False
        return True

    @staticmethod
    def _validate_new(body: Mapping[str, Any]) -> None:
        problems = []
        items = body.get("order_items")
        if not isinstance(items, list) or not items:
            problems.append("at least one order item is required")
        named = False
        for part in ("shipping", "customer"):
            section = body.get(part)
            if isinstance(section, dict):
                names = section.get("first_name") and section.get("last_name")
                named = named or bool(names or section.get("company"))
        if not named:
            problems.append("a first and last name or a company is required in shipping or customer")
        if problems:
            raise SimError(422, "; ".join(problems))

    def _stamp_items(self, body: dict[str, Any]) -> None:
        items = body.get("order_items")
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and not item.get("id"):
                    item["id"] = str(self._new_id())

    @staticmethod
    def _compute(store: _Store, body: dict[str, Any]) -> None:
        items = [i for i in body.get("order_items") or [] if isinstance(i, dict)]
        quantity = sum(int(_num(i.get("quantity", 1))) for i in items)
        product = sum(_num(i.get("price")) * _num(i.get("quantity", 1)) for i in items)
        discounts = sum(_num(d.get("amount")) for d in body.get("discount_list") or [] if isinstance(d, dict))
        extra = sum(_num(body.get(k)) for k in ("shipping_total", "handling_total", "tax_total"))
        email = body.get("email")
        body |= {
            "quantity_total": quantity,
            "weight_total": round(sum(_num(i.get("weight")) * _num(i.get("quantity", 1)) for i in items), 3),
            "product_total": round(product, 2),
            "discount_total": round(discounts, 2),
            "order_total": round(product + extra - discounts, 2),
            "email_count": str(
                sum(
                    1
                    for o in store.orders.values()
                    if email and o.get("email") == email and o["id"] != body["id"]
                )
                + 1
            ),
        }
        body.setdefault("folder_id", 1)
        if not math.isfinite(body["order_total"]):
            body["order_total"] = 0.0
