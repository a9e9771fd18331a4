"""The simulator's aiohttp application: OrderDesk's REST API v2 for orders, faithfully shaped.

Auth headers are checked on every request, envelopes follow the docs, every response
carries ``X-Tokens-Remaining``, and fault switches are applied before the handlers run.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import msgspec
from aiohttp import web

from adapters.simulator._faults import HttpFault
from adapters.simulator._state import RequestRecord, SimError, SimulatorState

__all__ = ["create_app"]

_STATE: web.AppKey[SimulatorState] = web.AppKey("state", SimulatorState)
_encoder = msgspec.json.Encoder()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(body: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=_encoder.encode(body), status=status, content_type="application/json", headers=headers
    )


def _took(started: float) -> str:
    return f"{time.perf_counter() - started:.4f} seconds"


def _error(status: int, message: str, started: float, headers: dict[str, str] | None = None) -> web.Response:
    return _json(
        {"status": "error", "message": message, "execution_time": _took(started)},
        status=status,
        headers=headers,
    )


async def _apply_fault(
    fault: HttpFault, request: web.Request, handler: Handler, started: float
) -> web.StreamResponse:
    if fault.kind == "slow":
        await anyio.sleep(fault.seconds)
        return await handler(request)
    if fault.kind == "fail":
        body = (
            fault.body
            if fault.body is not None
            else _encoder.encode({"status": "error", "message": "Server error"})
        )
        return web.Response(
            body=body, status=fault.status, content_type=fault.content_type, headers=fault.headers
        )
    if fault.kind == "rate_limit":
        return _error(
            429, "Rate limit exceeded", started, {"X-Retry-After": str(max(1, round(fault.seconds)))}
        )
    if fault.kind == "error_body":
        return _error(200, fault.message, started)
    if fault.kind == "huge":
        padding = "x" * max(0, fault.size)
        return web.Response(
            body=_encoder.encode({"status": "success", "padding": padding}), content_type="application/json"
        )
    # drop: close the connection without an answer (after applying the request if asked)
    if fault.after_processing:
        await handler(request)
    if request.transport is not None:
        request.transport.close()
    raise ConnectionResetError("simulated dropped connection")


@web.middleware
async def _front(request: web.Request, handler: Handler) -> web.StreamResponse:
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
    if state.faults.latency:
        await anyio.sleep(state.faults.latency)
    if not state.authenticate(store_id, request.headers.get("ORDERDESK-API-KEY", "")):
        record.status = 401
        return _error(401, "Invalid store ID or API key", started)
    allowed, remaining, wait = state.take_token(store_id)
    tokens = {"X-Tokens-Remaining": str(remaining)}
    if not allowed:
        record.status = 429
        return _error(
            429, "Rate limit exceeded", started, tokens | {"X-Retry-After": str(max(1, int(wait + 0.999)))}
        )
    fault = state.faults.take_http(request.path)
    try:
        response = await (_apply_fault(fault, request, handler, started) if fault else handler(request))
    except SimError as exc:
        response = _error(exc.status, exc.message, started)
    record.status = response.status
    response.headers.update(tokens)
    return response


async def _test(request: web.Request) -> web.StreamResponse:
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(request.app[_STATE].clock.time()))
    return _json({"status": "success", "message": "Connection Successful", "current_date_time": now,
                  "execution_time": "0.0010 seconds"})  # fmt: skip


async def _store(request: web.Request) -> web.StreamResponse:
    state = request.app[_STATE]
    info = state.store_info(request.headers["ORDERDESK-STORE-ID"])
    return _json({"status": "success", "execution_time": "0.0010 seconds", "store": info})


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        raise SimError(400, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise SimError(400, "Request body must be a JSON object")
    return body


async def _get_order(request: web.Request) -> web.StreamResponse:
    started = time.perf_counter()
    order = request.app[_STATE].get_order(
        request.headers["ORDERDESK-STORE-ID"], request.match_info["order_id"]
    )
    return _json({"status": "success", "message": f"Execution took {_took(started)}", "order": order})


async def _list_orders(request: web.Request) -> web.StreamResponse:
    started = time.perf_counter()
    state = request.app[_STATE]
    total, orders, limit, offset = state.list_orders(request.headers["ORDERDESK-STORE-ID"], request.query)
    return _json(
        {"status": "success", "message": f"Execution took {_took(started)}", "total_records": total,
         "records_returned": len(orders), "offset": offset, "limit": limit, "orders": orders}
    )  # fmt: skip


async def _create_order(request: web.Request) -> web.StreamResponse:
    order = request.app[_STATE].create_order(request.headers["ORDERDESK-STORE-ID"], await _body(request))
    return _json(
        {"status": "success", "message": "Order Created", "execution_time": "0.0010 seconds", "order": order}
    )


async def _replace_order(request: web.Request) -> web.StreamResponse:
    state = request.app[_STATE]
    order = state.replace_order(
        request.headers["ORDERDESK-STORE-ID"], request.match_info["order_id"], await _body(request)
    )
    return _json(
        {"status": "success", "message": "Order Updated", "execution_time": "0.0010 seconds", "order": order}
    )


async def _delete_order(request: web.Request) -> web.StreamResponse:
    order_id = request.match_info["order_id"]
    request.app[_STATE].delete_order(request.headers["ORDERDESK-STORE-ID"], order_id)
    return _json(
        {"status": "success", "message": f"Order {order_id} Deleted", "execution_time": "0.0010 seconds"}
    )


def create_app(state: SimulatorState) -> web.Application:
    """The simulator as an aiohttp application (serve it with AppRunner or ``web.run_app``)."""
    app = web.Application(middlewares=[_front], client_max_size=8 * 1024 * 1024)
    app[_STATE] = state
    for prefix in ("", "/api/v2"):
        app.router.add_get(f"{prefix}/test", _test)
        app.router.add_get(f"{prefix}/store", _store)
        app.router.add_get(f"{prefix}/orders", _list_orders)
        app.router.add_post(f"{prefix}/orders", _create_order)
        app.router.add_get(f"{prefix}/orders/{{order_id}}", _get_order)
        app.router.add_put(f"{prefix}/orders/{{order_id}}", _replace_order)
        app.router.add_delete(f"{prefix}/orders/{{order_id}}", _delete_order)
    return app
