"""The simulator's aiohttp application: OrderDesk's REST API v2 for orders, faithfully shaped.

One middleware does what OrderDesk does before any handler: it records the request, adds the
injected latency, checks ``ORDERDESK-STORE-ID``/``ORDERDESK-API-KEY`` (401 otherwise, never
echoing the key), takes a token from the store's bucket (429 with ``X-Retry-After`` when
empty) and applies a queued fault. Every answer from a known store carries
``X-Tokens-Remaining``; every error is ``{"status":"error","message":...}``. Routes are served
both at the root and under ``/api/v2``. Nothing is printed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import msgspec
from aiohttp import web

from orderdesk_mcp.adapters.simulator._faults import HttpFault
from orderdesk_mcp.adapters.simulator._rules import SimError
from orderdesk_mcp.adapters.simulator._state import RequestRecord, SimulatorState

__all__ = ["create_app"]

_STATE: web.AppKey[SimulatorState] = web.AppKey("state", SimulatorState)
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_FIXED_TIME = "0.0010 seconds"


def _json(body: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=_encoder.encode(body), status=status, content_type="application/json", headers=headers
    )


def _took(started: float) -> str:
    return f"{time.perf_counter() - started:.4f} seconds"


def _error(status: int, message: str, started: float, headers: dict[str, str] | None = None) -> web.Response:
    body = {"status": "error", "message": message, "execution_time": _took(started)}
    return _json(body, status=status, headers=headers)


def _retry_after(seconds: float) -> dict[str, str]:
    return {"X-Retry-After": str(max(1, math.ceil(seconds)))}


async def _apply_fault(
    fault: HttpFault, request: web.Request, handler: _Handler, started: float
) -> web.StreamResponse:
    if fault.kind == "slow":
        await anyio.sleep(fault.seconds)
        return await handler(request)
    if fault.kind == "fail":
        default = _encoder.encode({"status": "error", "message": "Server error"})
        body = fault.body if fault.body is not None else default
        return web.Response(
            body=body, status=fault.status, content_type=fault.content_type, headers=fault.headers
        )
    if fault.kind == "rate_limit":
        return _error(429, "Rate limit exceeded", started, _retry_after(fault.seconds))
    if fault.kind == "error_body":
        return _error(200, fault.message, started)
    if fault.kind == "huge":
        padded = {"status": "success", "padding": "x" * max(0, fault.size)}
        return web.Response(body=_encoder.encode(padded), content_type="application/json")
    # drop: close the connection without an answer (after applying the request if asked)
    if fault.after_processing:
        await handler(request)
    if request.transport is not None:
        request.transport.close()
    raise ConnectionResetError("simulated dropped connection")


@web.middleware
async def _front(request: web.Request, handler: _Handler) -> web.StreamResponse:
    state = request.app[_STATE]
    started = time.perf_counter()
    store_id = request.headers.get("ORDERDESK-STORE-ID", "")
    record = RequestRecord(
        method=request.method,
        path=request.path,
        store_id=store_id,
        time=state.clock.monotonic(),
        correlation_id=request.headers.get("X-Correlation-ID", ""),
    )
    state.requests.append(record)
    if state.faults.latency > 0:
        await anyio.sleep(state.faults.latency)
    if not state.authenticate(store_id, request.headers.get("ORDERDESK-API-KEY", "")):
        record.status = 401
        return _error(401, "Invalid store ID or API key", started)
    allowed, remaining, wait = state.take_token(store_id)
    tokens = {"X-Tokens-Remaining": str(remaining)}
    if not allowed:
        record.status = 429
        return _error(429, "Rate limit exceeded", started, tokens | _retry_after(wait))
    fault = state.faults.take_http(request.path, method=request.method)
    try:
        response = await (_apply_fault(fault, request, handler, started) if fault else handler(request))
    except SimError as exc:
        response = _error(exc.status, exc.message, started)
    except web.HTTPException as exc:  # unknown route, wrong method, body over the size limit
        response = _error(exc.status, exc.reason, started)
    record.status = response.status
    response.headers.update(tokens)
    return response


def _store_id(request: web.Request) -> str:
    return request.headers["ORDERDESK-STORE-ID"]


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = _decoder.decode(await request.read())
    except msgspec.DecodeError:
        raise SimError(400, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise SimError(400, "Request body must be a JSON object")
    return body


async def _test(request: web.Request) -> web.StreamResponse:
    now = request.app[_STATE].now_text()
    return _json({"status": "success", "message": "Connection Successful", "current_date_time": now,
                  "execution_time": _FIXED_TIME})  # fmt: skip


async def _store(request: web.Request) -> web.StreamResponse:
    info = request.app[_STATE].store_info(_store_id(request))
    return _json({"status": "success", "execution_time": _FIXED_TIME, "store": info})


async def _get_order(request: web.Request) -> web.StreamResponse:
    started = time.perf_counter()
    order = request.app[_STATE].get_order(_store_id(request), request.match_info["order_id"])
    return _json({"status": "success", "message": f"Execution took {_took(started)}", "order": order})


async def _list_orders(request: web.Request) -> web.StreamResponse:
    started = time.perf_counter()
    total, orders, limit, offset = request.app[_STATE].list_orders(_store_id(request), request.query)
    return _json(
        {"status": "success", "message": f"Execution took {_took(started)}", "total_records": total,
         "records_returned": len(orders), "offset": offset, "limit": limit, "orders": orders}
    )  # fmt: skip


async def _create_order(request: web.Request) -> web.StreamResponse:
    order = request.app[_STATE].create_order(_store_id(request), await _body(request))
    return _json({"status": "success", "message": "Order Created", "execution_time": _FIXED_TIME,
                  "order": order})  # fmt: skip


async def _replace_order(request: web.Request) -> web.StreamResponse:
    state, order_id = request.app[_STATE], request.match_info["order_id"]
    order = state.replace_order(_store_id(request), order_id, await _body(request))
    return _json({"status": "success", "message": "Order Updated", "execution_time": _FIXED_TIME,
                  "order": order})  # fmt: skip


async def _delete_order(request: web.Request) -> web.StreamResponse:
    order_id = request.match_info["order_id"]
    request.app[_STATE].delete_order(_store_id(request), order_id)
    return _json({"status": "success", "message": f"Order {order_id} Deleted", "execution_time": _FIXED_TIME})


async def _list_shipments(request: web.Request) -> web.StreamResponse:
    shipments = request.app[_STATE].list_shipments(_store_id(request), request.match_info["order_id"])
    return _json({"status": "success", "execution_time": _FIXED_TIME, "total_records": len(shipments),
                  "shipments": shipments})  # fmt: skip


async def _add_shipment(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    request.app[_STATE].add_shipment(_store_id(request), request.match_info["order_id"], body)
    return _json({"status": "success", "message": "Shipment Added", "execution_time": _FIXED_TIME})


async def _delete_shipment(request: web.Request) -> web.StreamResponse:
    order_id, shipment_id = request.match_info["order_id"], request.match_info["shipment_id"]
    request.app[_STATE].delete_shipment(_store_id(request), order_id, shipment_id)
    return _json({"status": "success", "message": f"Shipment {shipment_id} Deleted",
                  "execution_time": _FIXED_TIME})  # fmt: skip


async def _add_history(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    order = request.app[_STATE].add_history(_store_id(request), request.match_info["order_id"], body)
    return _json({"status": "success", "execution_time": _FIXED_TIME, "total_records": 1, "order": order})


async def _move_orders(request: web.Request) -> web.StreamResponse:
    message, results = request.app[_STATE].move_orders(_store_id(request), await _body(request))
    return _json({"status": "success", "message": message, "execution_time": _FIXED_TIME, "results": results})


async def _list_inventory(request: web.Request) -> web.StreamResponse:
    total, items = request.app[_STATE].list_inventory(_store_id(request), request.query)
    # OrderDesk's sample sends this total as a string (ORDERDESK_API §2.7)
    return _json({"status": "success", "execution_time": _FIXED_TIME, "records_returned": len(items),
                  "total_records": str(total), "inventory_items": items})  # fmt: skip


async def _get_inventory_item(request: web.Request) -> web.StreamResponse:
    item = request.app[_STATE].get_inventory_item(_store_id(request), request.match_info["item_id"])
    return _json({"status": "success", "execution_time": _FIXED_TIME, "records_returned": 1,
                  "inventory_item": item})  # fmt: skip


async def _replace_inventory_item(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    request.app[_STATE].replace_inventory_item(_store_id(request), request.match_info["item_id"], body)
    return _json({"status": "success", "message": "Inventory Item Updated", "execution_time": _FIXED_TIME})


def create_app(state: SimulatorState, *, max_body_bytes: int = 8 * 1024 * 1024) -> web.Application:
    """The simulator as an aiohttp application over ``state``.

    Serve it with ``web.run_app(create_app(state), print=None)`` or an ``AppRunner``; tests use
    ``aiohttp.test_utils.TestServer``. Request bodies above ``max_body_bytes`` get a 413.
    """
    app = web.Application(middlewares=[_front], client_max_size=max_body_bytes)
    app[_STATE] = state
    for prefix in ("", "/api/v2"):
        app.router.add_get(f"{prefix}/test", _test)
        app.router.add_get(f"{prefix}/store", _store)
        app.router.add_get(f"{prefix}/orders", _list_orders)
        app.router.add_post(f"{prefix}/orders", _create_order)
        app.router.add_get(f"{prefix}/orders/{{order_id}}", _get_order)
        app.router.add_put(f"{prefix}/orders/{{order_id}}", _replace_order)
        app.router.add_delete(f"{prefix}/orders/{{order_id}}", _delete_order)
        app.router.add_get(f"{prefix}/orders/{{order_id}}/shipments", _list_shipments)
        app.router.add_post(f"{prefix}/orders/{{order_id}}/shipments", _add_shipment)
        app.router.add_delete(f"{prefix}/orders/{{order_id}}/shipments/{{shipment_id}}", _delete_shipment)
        app.router.add_post(f"{prefix}/orders/{{order_id}}/order-history", _add_history)
        app.router.add_post(f"{prefix}/move-orders", _move_orders)
        app.router.add_get(f"{prefix}/inventory-items", _list_inventory)
        app.router.add_get(f"{prefix}/inventory-items/{{item_id}}", _get_inventory_item)
        app.router.add_put(f"{prefix}/inventory-items/{{item_id}}", _replace_inventory_item)
    return app
