"""Raw HTTP to OrderDesk (or the simulator), so the assumption tests check OrderDesk, not our client.

Every request goes through the run's write guard, request budget and client-side bucket; every
answer resynchronises the bucket from ``X-Tokens-Remaining``/``X-Retry-After``; the first answer
that refuses the run's own key stops the run. Orders the run creates are registered from the
answers and deleted by :meth:`OrderDeskWire.clean_up`, which the fixtures call in a ``finally``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
import pytest

from tests.live.run import TestRun

__all__ = ["USER_AGENT", "OrderDeskWire", "WireAnswer", "open_wire"]

USER_AGENT = "orderdesk-mcp-live-tests/0.2 (+https://github.com/orderdesk-mcp/orderdesk-mcp)"
_decoder = msgspec.json.Decoder()


@dataclass(frozen=True)
class WireAnswer:
    """One answer as it came: status, headers (lower-cased names) and the decoded JSON body."""

    method: str
    path: str
    status: int
    headers: Mapping[str, str]
    body: Any  # None when the body is not JSON

    def obj(self) -> dict[str, Any]:
        """The body as a JSON object; fails the test, naming the request, when it is not one."""
        if not isinstance(self.body, dict):
            pytest.fail(f"{self.method} {self.path} answered HTTP {self.status} without a JSON object")
        return self.body

    def tokens_remaining(self) -> int | None:
        raw = self.headers.get("x-tokens-remaining", "")
        return int(raw) if raw.isdigit() else None


def _seconds(raw: str | None) -> float | None:
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


class OrderDeskWire:
    """OrderDesk's REST API v2 spoken with aiohttp directly, for one run's store."""

    def __init__(self, run: TestRun, session: aiohttp.ClientSession) -> None:
        self.run = run
        self._session = session

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        api_key: str | None = None,
        bucket: bool = True,
        cleanup: bool = False,
    ) -> WireAnswer:
        """Send one request and return its answer, whatever its status.

        ``api_key`` replaces the run's key (a refusal of another key does not stop the run);
        ``bucket=False`` sends without waiting for a client-side token (still counted).
        """
        run = self.run
        await run.before(method, path, body, bucket=bucket, cleanup=cleanup)
        headers = {
            "ORDERDESK-STORE-ID": run.store.store_id,
            "ORDERDESK-API-KEY": api_key if api_key is not None else run.api_key,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        async with self._session.request(
            method, f"{run.base_url}{path}", params=params, json=body, headers=headers
        ) as response:
            raw = await response.read()
            answer = WireAnswer(
                method=method,
                path=path,
                status=response.status,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=_decode(raw),
            )
        retry_after = _seconds(answer.headers.get("x-retry-after")) if answer.status == 429 else None
        await run.limiter.observe(
            run.store, tokens_remaining=answer.tokens_remaining(), retry_after=retry_after
        )
        if answer.status in (401, 403) and api_key is None:
            run.key_refused(f"HTTP {answer.status}")
        self._register(answer, body)
        return answer

    def _register(self, answer: WireAnswer, sent: Any) -> None:
        body = answer.body if isinstance(answer.body, dict) else {}
        ok = 200 <= answer.status < 300 and body.get("status") == "success"
        if (answer.method, answer.path) == ("POST", "/orders") and ok and isinstance(body.get("order"), dict):
            self.run.was_created(str(body["order"].get("id")), str(sent["source_id"]))
        elif answer.path.removeprefix("/orders/") in self.run.created:
            order_id = answer.path.removeprefix("/orders/")
            if answer.method == "DELETE" and (ok or answer.status == 404):
                self.run.was_deleted(order_id)
            elif answer.method == "PUT" and ok:  # a PUT that brought a deleted order back: delete it again
                self.run.deleted.discard(order_id)

    async def get(self, path: str, **params: str) -> WireAnswer:
        return await self.send("GET", path, params=params or None)

    async def create_order(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """POST an own order (its ``source_id`` must carry the prefix) and return it as stored."""
        answer = await self.send("POST", "/orders", body=dict(doc))
        order = answer.obj().get("order")
        if not (200 <= answer.status < 300 and isinstance(order, dict)):
            pytest.fail(f"POST /orders answered HTTP {answer.status}: {answer.body!r:.300}")
        return order

    async def known_order(self) -> dict[str, Any]:
        """An order that exists in the store, read from the first page of the list (once per run)."""
        listed = await self.first_page()
        orders = listed.obj().get("orders")
        if not isinstance(orders, list) or not orders:
            pytest.fail(
                f"store {self.run.store.store_id} has no orders, so the read tests have nothing to read; "
                "add one order to it first"
            )
        order: dict[str, Any] = orders[0]
        return order

    async def first_page(self) -> WireAnswer:
        """``GET /orders?limit=1``, sent once per run."""
        return await self._once("first_page", "/orders", limit="1")

    async def store_settings(self) -> WireAnswer:
        """``GET /store``, sent once per run."""
        return await self._once("store", "/store")

    async def _once(self, name: str, path: str, **params: str) -> WireAnswer:
        key = f"wire:{name}"
        if key not in self.run.memo:
            self.run.memo[key] = await self.get(path, **params)
        answer: WireAnswer = self.run.memo[key]
        return answer

    async def clean_up(self) -> None:
        """Delete every order the run created and still holds; look up creates that named no order.

        Fails the test, naming each order by id and ``source_id``, when one cannot be deleted.
        """
        run = self.run
        before = len(run.left_behind)
        for order_id in run.outstanding():
            answer = await self.send("DELETE", f"/orders/{order_id}", cleanup=True)
            if order_id not in run.deleted:
                run.left_behind.append(f"order {order_id} ({run.created[order_id]}): HTTP {answer.status}")
        for source_id in sorted(run.pending):
            listed = await self.send("GET", "/orders", params={"source_id": source_id}, cleanup=True)
            orders = listed.body.get("orders") if isinstance(listed.body, dict) else None
            found = [o for o in orders or [] if isinstance(o, dict) and o.get("source_id") == source_id]
            run.pending.discard(source_id)
            if not found:
                run.budget.release()
            for order in found:
                order_id = str(order.get("id"))
                run.created[order_id] = source_id
                answer = await self.send("DELETE", f"/orders/{order_id}", cleanup=True)
                if order_id not in run.deleted:
                    run.left_behind.append(f"order {order_id} ({source_id}): HTTP {answer.status}")
        if len(run.left_behind) > before:
            pytest.fail("could not delete what the test created: " + "; ".join(run.left_behind[before:]))


def _decode(raw: bytes) -> Any:
    try:
        return _decoder.decode(raw)
    except msgspec.DecodeError:
        return None


@asynccontextmanager
async def open_wire(run: TestRun) -> AsyncIterator[OrderDeskWire]:
    """A wire on its own aiohttp session; what the run still holds is deleted on the way out."""
    timeout = aiohttp.ClientTimeout(total=60, connect=15)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        wire = OrderDeskWire(run, session)
        try:
            yield wire
        finally:
            await wire.clean_up()
