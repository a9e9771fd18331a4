"""RacingOrderGateway: a FakeOrderGateway with the misbehaviours writes must survive.

- another writer that edits the order right after our read (once, n times or always);
- an OrderDesk that normalises what it saves (new item ids, numbers as strings) or silently
  drops a field;
- a create whose answer is lost after the order was stored (or before it was), and a PUT
  whose answer is lost after it was applied;
- a create that yields to other tasks, so concurrent callers really interleave.

Upstream 409s need nothing new: ``fail_next("replace", ConcurrentModification(...))``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import anyio

from orderdesk_mcp.domain.errors import OutcomeUnknown, UpstreamUnavailable
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.ports.gateway import OrderGateway
from tests.fakes import FakeOrderGateway

__all__ = ["RacingOrderGateway", "set_tag"]

Edit = Callable[[dict[str, Any]], None]


def set_tag(doc: dict[str, Any]) -> None:
    """The other writer's edit used by default: a tag and a metadata key."""
    doc["tag_name"] = f"other-{doc.get('date_updated', '')}"
    doc.setdefault("order_metadata", {})["picked_by"] = "warehouse"


class RacingOrderGateway(FakeOrderGateway):
    def __init__(self, orders: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        super().__init__(orders)
        self._races: dict[str, tuple[Edit, int | None]] = {}
        self._edits = 0
        self.normalise = False
        self.drop_on_save: set[str] = set()
        self.drop_saves: int | None = None  # how many saves drop ``drop_on_save`` (None: all)
        self.lose_create_answers = 0
        self.lose_create_requests = 0
        self.lose_replace_answers = 0

    def race_after_read(self, order_id: str, edit: Edit = set_tag, *, times: int | None = 1) -> None:
        """After each of the next ``times`` reads (None: every read), another writer runs ``edit``."""
        self._races[order_id] = (edit, times)

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        order = await super().fetch(store, order_id)
        race = self._races.get(order_id)
        if race is not None:
            edit, times = race
            self._edits += 1
            doc = self.docs[order_id]
            doc["date_updated"] = f"2026-01-01 00:00:{self._edits:02d}"
            edit(doc)
            self.writes.append(("other-writer", order_id, copy.deepcopy(doc)))
            if times is not None:
                if times <= 1:
                    del self._races[order_id]
                else:
                    self._races[order_id] = (edit, times - 1)
        return order

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        saved = await super().replace(store, order_id, doc)
        if self.lose_replace_answers:
            self.lose_replace_answers -= 1
            raise UpstreamUnavailable("connection lost", maybe_sent=True)
        stored = self.docs[order_id]
        dropping = self.drop_saves is None or self.drop_saves > 0
        if self.drop_saves:
            self.drop_saves -= 1
        for key in self.drop_on_save if dropping else ():
            stored.pop(key, None)
        if self.normalise:
            for n, item in enumerate(stored.get("order_items") or []):
                item.setdefault("id", f"77{n:03d}")
                for key in ("price", "quantity", "weight"):
                    if isinstance(item.get(key), int | float):
                        item[key] = str(item[key])
        if self.drop_on_save or self.normalise:
            return Order.from_document(copy.deepcopy(stored))
        return saved

    async def create(self, store: StoreRef, doc: Mapping[str, Any]) -> Order:
        await anyio.lowlevel.checkpoint()  # let concurrent callers interleave, as over a network
        if self.lose_create_requests:
            self.lose_create_requests -= 1
            self.calls["create"] = self.calls.get("create", 0) + 1
            raise OutcomeUnknown("order creation", "connection reset before an answer")
        created = await super().create(store, doc)
        if self.lose_create_answers:
            self.lose_create_answers -= 1
            raise OutcomeUnknown("order creation", "connection reset before an answer")
        return created


_gateway: OrderGateway = RacingOrderGateway()
