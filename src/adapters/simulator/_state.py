"""The simulator's state (stores, id counters, clock, faults) behind the HTTP app and the in-process gateway.

Full replacement on PUT, computed read-only fields, folders, duplicate detection by
(source_name, source_id) and a token bucket per store (burst 20, 3 per second, on the clock).
The work on orders, shipments and inventory is in ``_orders``, ``_shipments`` and ``_inventory``.
Every operation hands out deep copies, so callers never alias the stored documents; only
:meth:`SimulatorState.orders` gives the live dicts, for tests to inspect and edit.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Mapping
from typing import Any

from orderdesk_mcp.adapters.simulator import _inventory, _orders, _shipments
from orderdesk_mcp.adapters.simulator._faults import Faults
from orderdesk_mcp.adapters.simulator._rules import SimError
from orderdesk_mcp.adapters.simulator._store import DEFAULT_FOLDERS, RequestRecord, Store
from orderdesk_mcp.adapters.system_clock import SystemClock
from orderdesk_mcp.ports.clock import Clock

__all__ = ["DEFAULT_FOLDERS", "FIRST_ORDER_ID", "RequestRecord", "SimError", "SimulatorState"]

FIRST_ORDER_ID = 500_001
FIRST_ITEM_ID = 900_001
FIRST_SHIPMENT_ID = 700_001
FIRST_INVENTORY_ID = 2_501


class SimulatorState:
    """Stores, orders, fault switches and the request log of one simulated OrderDesk."""

    def __init__(self, *, clock: Clock | None = None, burst: int = 20, per_second: float = 3.0) -> None:
        """A simulator with no stores; ``burst``/``per_second`` set every store's bucket."""
        self.clock: Clock = clock or SystemClock()
        self.burst = burst
        self.per_second = per_second
        self.stores: dict[str, Store] = {}
        self.requests: list[RequestRecord] = []
        self.faults = Faults()
        self._next_id = FIRST_ORDER_ID
        self._next_item_id = FIRST_ITEM_ID
        self._next_shipment_id = FIRST_SHIPMENT_ID
        self._next_inventory_id = FIRST_INVENTORY_ID

    # -- set-up ---------------------------------------------------------------
    def add_store(self, store_id: str, api_key: str, *, folders: dict[int, str] | None = None) -> None:
        """Add (or reset) a store; folders default to OrderDesk's sample New/Prepared/Closed/Canceled."""
        self.stores[store_id] = Store(
            api_key=api_key,
            folders=dict(folders or DEFAULT_FOLDERS),
            burst=self.burst,
            per_second=self.per_second,
            refilled_at=self.clock.monotonic(),
        )

    def seed(self, store_id: str, docs: Iterable[Mapping[str, Any]]) -> list[str]:
        """Store ``docs`` exactly as given (ids assigned when missing); returns their ids.

        Raises:
            ValueError: for an id that is not a digit string (OrderDesk ids always are).
        """
        store = self._store(store_id)
        ids = []
        for raw in docs:
            doc = copy.deepcopy(dict(raw))
            order_id = str(doc.get("id") or self._new_id())
            if not order_id.isdigit():
                raise ValueError(f"order ids are digit strings, not {order_id!r}")
            doc["id"] = order_id
            self._next_id = max(self._next_id, int(order_id) + 1)
            store.orders[order_id] = doc
            ids.append(order_id)
        return ids

    def seed_samples(self, store_id: str, count: int = 25, *, seed: int = 7) -> list[str]:
        """Seed ``count`` deterministic sample orders (see :mod:`orderdesk_mcp.adapters.simulator._seed`)."""
        from orderdesk_mcp.adapters.simulator._seed import sample_orders

        return self.seed(store_id, sample_orders(count, seed=seed, first_id=self._next_id))

    def orders(self, store_id: str) -> dict[str, dict[str, Any]]:
        """The live documents of a store (tests assert on and edit them)."""
        return self._store(store_id).orders

    def authenticate(self, store_id: str, api_key: str) -> bool:
        """True when the store exists and ``api_key`` is its key."""
        store = self.stores.get(store_id)
        return store is not None and store.accepts(api_key)

    # -- rate limit -----------------------------------------------------------
    def take_token(self, store_id: str) -> tuple[bool, int, float]:
        """Take one token: (allowed, tokens remaining, seconds until the next token)."""
        store = self._store(store_id)
        return store.take_token(self.clock.monotonic(), enforce=self.faults.rate_limit_enabled)

    # -- orders (see _orders) -------------------------------------------------
    def get_order(self, store_id: str, order_id: str) -> dict[str, Any]:
        """The order as stored (then a ``change_after_read`` watch may edit it). Raises: SimError 404."""
        return _orders.get_order(self._store(store_id), order_id, faults=self.faults, now=self._now_text)

    def list_orders(
        self, store_id: str, params: Mapping[str, str]
    ) -> tuple[int, list[dict[str, Any]], int, int]:
        """(total, page, limit, offset) for ``GET /orders`` query parameters. Raises: SimError 422."""
        return _orders.list_orders(self._store(store_id), params)

    def create_order(self, store_id: str, doc: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /orders``. Raises: SimError 422 (missing field, duplicate source, unknown folder)."""
        return _orders.create_order(self._store(store_id), doc, new_id=self._new_id,
                                    new_item_id=self._new_item_id, now=self._now_text)  # fmt: skip

    def replace_order(self, store_id: str, order_id: str, doc: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /orders/{id}``, a full replacement. Raises: SimError 404, 409 (armed conflict), 422."""
        return _orders.replace_order(self._store(store_id), order_id, doc, faults=self.faults,
                                     new_item_id=self._new_item_id, now=self._now_text)  # fmt: skip

    def delete_order(self, store_id: str, order_id: str) -> None:
        """Raises: SimError 404 "Order not found"."""
        _orders.delete_order(self._store(store_id), order_id)

    # -- shipments, moves, history (see _shipments) ----------------------------
    def list_shipments(self, store_id: str, order_id: str) -> list[dict[str, Any]]:
        """Raises: SimError 404 "Order not found"."""
        return _shipments.list_shipments(self._store(store_id), order_id)

    def add_shipment(self, store_id: str, order_id: str, body: Mapping[str, Any]) -> None:
        """Raises: SimError 404; 200 "Shipment Not Added" for a duplicate; 422 for a missing field."""
        self._next_shipment_id += 1
        shipment_id = str(self._next_shipment_id - 1)
        _shipments.add_shipment(
            self._store(store_id), order_id, body, shipment_id=shipment_id, now=self._now_text()
        )

    def delete_shipment(self, store_id: str, order_id: str, shipment_id: str) -> None:
        """Raises: SimError 404 "Order not found" / "Shipment not found"."""
        _shipments.delete_shipment(self._store(store_id), order_id, shipment_id, now=self._now_text())

    def move_orders(self, store_id: str, body: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        """``POST /move-orders``: (message, per-order results). Raises: SimError 422."""
        return _shipments.move_orders(self._store(store_id), body, now=self._now_text())

    def add_history(self, store_id: str, order_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /orders/{id}/order-history``: the order with its history. Raises: SimError 404/422."""
        return _shipments.add_history(self._store(store_id), order_id, body, now=self._now_text())

    def history(self, store_id: str, order_id: str) -> list[dict[str, Any]]:
        """The live order-history entries of an order (tests assert on them)."""
        return self._store(store_id).history.setdefault(order_id, [])

    # -- inventory (see _inventory) -------------------------------------------
    def seed_inventory(self, store_id: str, docs: Iterable[Mapping[str, Any]]) -> list[int]:
        """Add inventory items (ids assigned); returns their ids. Raises: SimError 422."""
        ids = []
        for doc in docs:
            self._next_inventory_id += 1
            ids.append(_inventory.add_item(self._store(store_id), doc, item_id=self._next_inventory_id - 1,
                                           now=self._now_text()))  # fmt: skip
        return ids

    def inventory(self, store_id: str) -> dict[int, dict[str, Any]]:
        """The live inventory items of a store (tests assert on and edit them)."""
        return self._store(store_id).inventory

    def list_inventory(self, store_id: str, params: Mapping[str, str]) -> tuple[int, list[dict[str, Any]]]:
        """(total, page). Raises: SimError 422 for a bad limit or offset."""
        return _inventory.list_items(self._store(store_id), params)

    def get_inventory_item(self, store_id: str, item_id: str) -> dict[str, Any]:
        """Raises: SimError 404 "Inventory Item not found"."""
        return _inventory.get_item(self._store(store_id), item_id)

    def replace_inventory_item(self, store_id: str, item_id: str, body: Mapping[str, Any]) -> None:
        """Full replacement (unsent documented fields blanked). Raises: SimError 404/422."""
        _inventory.replace_item(self._store(store_id), item_id, body, now=self._now_text())

    def store_info(self, store_id: str) -> dict[str, Any]:
        """``GET /store``'s ``store``: folders as a string-keyed map, and no secrets."""
        store = self._store(store_id)
        return {
            "id": store_id,
            "name": f"Simulated store {store_id}",
            "settings": {"timezone": "UTC", "date_format": "Y-m-d H:i:s", "orders_per_page": 50},
            "folders": {str(k): v for k, v in store.folders.items()},
        }

    def now_text(self) -> str:
        """The clock's time as OrderDesk writes it: ``YYYY-MM-DD HH:MM:SS`` in UTC."""
        return self._now_text()

    # -- helpers --------------------------------------------------------------
    def _store(self, store_id: str) -> Store:
        store = self.stores.get(store_id)
        if store is None:
            raise SimError(401, "Invalid store ID or API key")
        return store

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _new_item_id(self) -> str:
        self._next_item_id += 1
        return str(self._next_item_id - 1)

    def _now_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.clock.time()))
