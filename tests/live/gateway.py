"""The gateway contract's targets: the simulator in process, our HTTP client on a loopback simulator,
and our HTTP client on the real OrderDesk, each behind the run's guard, budget and bucket.

:class:`GuardedGateway` is an ``OrderGateway`` and a ``FolderDirectory``: every call passes the
write guard, counts as one request and waits for a client-side token; orders it creates are
registered and deleted by :meth:`GuardedGateway.clean_up`, which :func:`open_target` calls in a
``finally``. A refusal of the run's own credentials stops the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from orderdesk_mcp.adapters.env_credentials import EnvCredentialStore
from orderdesk_mcp.adapters.http_gateway import HttpOrderGateway
from orderdesk_mcp.adapters.simulated_gateway import SimulatedOrderGateway
from orderdesk_mcp.adapters.simulator import SimulatorState
from orderdesk_mcp.domain.errors import AuthenticationFailed, OrderDeskError, OrderNotFound
from orderdesk_mcp.domain.folders import Folder
from orderdesk_mcp.domain.order import Order, StoreRef
from orderdesk_mcp.domain.pagination import OrderPage, OrderQuery
from orderdesk_mcp.ports.folders import FolderDirectory
from orderdesk_mcp.ports.gateway import OrderGateway
from tests.fakes import FakeClock
from tests.live.run import TestRun, live_run, new_source_id, simulated_run
from tests.live.shapes import own_order_doc
from tests.upstream_harness import served_simulator

__all__ = ["GatewayTarget", "GuardedGateway", "open_target"]

_T = TypeVar("_T")
Gateways = SimulatedOrderGateway | HttpOrderGateway


class GuardedGateway:
    """``inner`` seen through ``run``: guarded, counted and paced; its own orders cleaned up."""

    def __init__(self, inner: Gateways, run: TestRun) -> None:
        self._inner = inner
        self.run = run

    async def _call(
        self,
        method: str,
        path: str,
        op: Callable[[], Awaitable[_T]],
        body: Any = None,
        *,
        cleanup: bool = False,
    ) -> _T:
        await self.run.before(method, path, body, cleanup=cleanup)
        try:
            return await op()
        except AuthenticationFailed as exc:
            if exc.store_id == self.run.store.store_id:
                self.run.key_refused(type(exc).__name__)
            raise

    async def fetch(self, store: StoreRef, order_id: str) -> Order:
        return await self._call("GET", f"/orders/{order_id}", lambda: self._inner.fetch(store, order_id))

    async def list_page(self, store: StoreRef, query: OrderQuery, *, cleanup: bool = False) -> OrderPage:
        return await self._call(
            "GET", "/orders", lambda: self._inner.list_page(store, query), cleanup=cleanup
        )

    async def create(self, store: StoreRef, doc: Mapping[str, Any]) -> Order:
        order = await self._call("POST", "/orders", lambda: self._inner.create(store, doc), dict(doc))
        self.run.was_created(order.id, str(doc["source_id"]))
        return order

    async def replace(self, store: StoreRef, order_id: str, doc: Mapping[str, Any]) -> Order:
        op = lambda: self._inner.replace(store, order_id, doc)  # noqa: E731
        return await self._call("PUT", f"/orders/{order_id}", op, dict(doc))

    async def delete(self, store: StoreRef, order_id: str, *, cleanup: bool = False) -> None:
        try:
            await self._call("DELETE", f"/orders/{order_id}", lambda: self._inner.delete(store, order_id),
                             cleanup=cleanup)  # fmt: skip
        except OrderNotFound:
            self.run.was_deleted(order_id)
            raise
        self.run.was_deleted(order_id)

    async def check_connection(self, store: StoreRef) -> None:
        if store != self.run.store:  # no key for it: the HTTP client refuses before sending anything
            return await self._inner.check_connection(store)
        await self._call("GET", "/test", lambda: self._inner.check_connection(store))
        return None

    async def folders(self, store: StoreRef) -> tuple[Folder, ...]:
        return await self._call("GET", "/store", lambda: self._inner.folders(store))

    async def clean_up(self) -> list[str]:
        """Delete what the run still holds; look up creates that named no order by ``source_id``.

        Returns the ids it deleted. Fails the test, naming each order by id and ``source_id``,
        when one cannot be deleted.
        """
        run, store = self.run, self.run.store
        before = len(run.left_behind)
        outstanding = run.outstanding()
        for order_id in outstanding:
            await self._delete_quietly(order_id)
        for source_id in sorted(run.pending):
            page = await self.list_page(store, OrderQuery(source_id=source_id), cleanup=True)
            found = [o.id for o in page.orders if o.doc.get("source_id") == source_id]
            run.pending.discard(source_id)
            if not found:
                run.budget.release()
            for order_id in found:
                run.created[order_id] = source_id
                await self._delete_quietly(order_id)
            outstanding += found
        if len(run.left_behind) > before:
            pytest.fail("could not delete what the test created: " + "; ".join(run.left_behind[before:]))
        return outstanding

    async def _delete_quietly(self, order_id: str) -> None:
        try:
            await self.delete(self.run.store, order_id, cleanup=True)
        except OrderNotFound:
            pass
        except OrderDeskError as exc:
            self.run.left_behind.append(f"order {order_id} ({self.run.created[order_id]}): {exc}")


@dataclass
class GatewayTarget:
    """What a contract test gets: the guarded gateway, its store, and the simulator's truth if any."""

    kind: str
    gateway: GuardedGateway
    state: SimulatorState | None  # None on the live target: nothing is known about the store

    @property
    def store(self) -> StoreRef:
        return self.gateway.run.store

    async def folders(self) -> tuple[Folder, ...]:
        """The store's folders (``GET /store``), read once per run."""
        memo = self.gateway.run.memo
        if "gateway:folders" not in memo:
            directory: FolderDirectory = self.gateway
            memo["gateway:folders"] = await directory.folders(self.store)
        folders: tuple[Folder, ...] = memo["gateway:folders"]
        return folders

    async def known_order(self) -> Order:
        """An order that exists in the store, read from the first page of the list (once per run)."""
        memo = self.gateway.run.memo
        if "gateway:known" not in memo:
            page = await self.gateway.list_page(self.store, OrderQuery(limit=1))
            if not page.orders:
                pytest.fail(f"store {self.store.store_id} has no orders, so the read tests have nothing "
                            "to read; add one order to it first")  # fmt: skip
            memo["gateway:known"] = page.orders[0]
        order: Order = memo["gateway:known"]
        return order

    @staticmethod
    def new_order(**fields: Any) -> dict[str, Any]:
        """An order document the guard accepts (a fresh ``odmcp-live-`` source_id) with ``fields``."""
        return own_order_doc(new_source_id(), **fields)


@asynccontextmanager
async def open_target(kind: str, state: SimulatorState) -> AsyncIterator[GatewayTarget]:
    """The contract target ``kind`` ("simulated", "http" or "live"); cleans up on the way out."""
    run = live_run() if kind == "live" else simulated_run(clock=FakeClock())
    async with _inner_gateway(kind, state, run) as inner:
        guarded = GuardedGateway(inner, run)
        try:
            yield GatewayTarget(kind=kind, gateway=guarded, state=None if kind == "live" else state)
        finally:
            await guarded.clean_up()


@asynccontextmanager
async def _inner_gateway(kind: str, state: SimulatorState, run: TestRun) -> AsyncIterator[Gateways]:
    if kind == "simulated":
        async with SimulatedOrderGateway(state) as simulated:
            yield simulated
        return
    async with served_simulator(state) if kind == "http" else nullcontext(run.base_url) as base_url:
        gateway = HttpOrderGateway(
            base_url=base_url,
            credentials=EnvCredentialStore(store_id=run.store.store_id, api_key=run.api_key),
            limiter=run.limiter,
            read_timeout=30.0,
        )
        async with gateway:
            yield gateway


def _ports(guarded: GuardedGateway) -> tuple[OrderGateway, FolderDirectory]:
    return guarded, guarded  # mypy checks that the guarded gateway still implements both ports
