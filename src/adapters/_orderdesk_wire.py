"""OrderDesk's wire format: decoding bodies leniently and the one status-to-error mapping."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import msgspec

from orderdesk_mcp.domain.errors import (
    AuthenticationFailed,
    ConcurrentModification,
    OrderNotFound,
    RateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from orderdesk_mcp.domain.folders import Folder
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.pagination import OrderQuery
from orderdesk_mcp.domain.retry import MAX_RETRY_AFTER, RETRIED_STATUSES

__all__ = [
    "Answer",
    "check_answer",
    "decode_body",
    "expect_order",
    "folders_of_store",
    "normalize_order",
    "query_params",
    "retry_after_of",
]

_decoder = msgspec.json.Decoder()


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    headers: dict[str, str]
    body: dict[str, Any] | None  # None: not a JSON object (HTML error page, truncated JSON)


def decode_body(raw: bytes) -> dict[str, Any] | None:
    try:
        value = _decoder.decode(raw)
    except msgspec.DecodeError:
        return None
    return value if isinstance(value, dict) else None


def _seconds(value: str | None) -> float | None:
    """Seconds from a header, at most ``MAX_RETRY_AFTER``; None when absent or not a finite number.

    The ceiling keeps one hostile or broken ``X-Retry-After: 100000`` from locking a store out
    for a day in every process.
    """
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None or not math.isfinite(seconds):
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


def retry_after_of(headers: dict[str, str]) -> float | None:
    """OrderDesk's ``X-Retry-After`` in seconds, else the standard ``Retry-After`` (lower-cased keys)."""
    own = _seconds(headers.get("x-retry-after"))
    return own if own is not None else _seconds(headers.get("retry-after"))


def check_answer(
    answer: Answer, *, store: StoreRef, order_id: str | None, secrets: Iterable[str] = ()
) -> dict[str, Any]:
    """Return the body of a successful answer, or raise the domain error it means.

    OrderDesk's own ``message`` is quoted as its words, with ``secrets`` (the store's key) and
    anything key-shaped redacted and its length capped.

    Raises:
        AuthenticationFailed: 401/403. OrderNotFound: 404 on an order. ConcurrentModification: 409.
        RateLimited: 429. UpstreamUnavailable: 500, 502, 503, 504 (worth retrying) or an unreadable
        2xx body. UpstreamRejected: 4xx, any other 5xx (a 501 will not change on a retry), or HTTP
        200 with ``status: "error"``.
    """
    status, body = answer.status, answer.body
    message = body.get("message") if body else None
    if status in (401, 403):
        raise AuthenticationFailed(store.store_id)
    if status == 404 and order_id is not None:
        raise OrderNotFound(order_id, store.store_id)
    if status == 409 and order_id is not None:
        raise ConcurrentModification(order_id)
    if status == 429:
        raise RateLimited(store.store_id, retry_after_of(answer.headers))
    if status in RETRIED_STATUSES:
        raise UpstreamUnavailable(f"HTTP {status}", retry_after=retry_after_of(answer.headers))
    if status >= 500:  # not worth retrying (501 Not Implemented, 505, ...): one request, one answer
        if isinstance(message, str) and message.strip():
            raise UpstreamRejected(message, status=status, secrets=secrets, quoted=True)
        raise UpstreamRejected(f"HTTP {status}", status=status)
    if body is None:
        if 200 <= status < 300:
            raise UpstreamUnavailable("unreadable response")
        raise UpstreamRejected(f"HTTP {status} with an unreadable body", status=status)
    if not 200 <= status < 300 or body.get("status") != "success":
        if not isinstance(message, str) or not message.strip():
            raise UpstreamRejected("no reason given", status=status)
        raise UpstreamRejected(message, status=status, secrets=secrets, quoted=True)
    return body


def normalize_order(raw: object) -> dict[str, Any]:
    """The order document with its id as a digit string; anything else is kept as sent.

    Raises:
        UpstreamUnavailable: when OrderDesk's answer has no order object.
    """
    if not isinstance(raw, dict) or "id" not in raw:
        raise UpstreamUnavailable("the answer had no order in it")
    order_id = raw["id"]
    if (
        isinstance(order_id, bool)
        or not isinstance(order_id, int | str)
        or not str(order_id).strip().isdigit()
    ):
        raise UpstreamUnavailable("the answer's order has no valid id")
    doc = dict(raw)
    doc["id"] = str(order_id).strip()
    return doc


def expect_order(raw: object, order_id: str) -> dict[str, Any]:
    """:func:`normalize_order`, refusing an answer about another order than the one asked for.

    Raises:
        UpstreamUnavailable: no order, no valid id, or another order's id.
    """
    doc = normalize_order(raw)
    if doc["id"] != order_id:
        raise UpstreamUnavailable(f"the answer was about order {doc['id'][:20]}, not {order_id}")
    return doc


def query_params(query: OrderQuery) -> dict[str, str]:
    """OrderDesk's ``GET /orders`` parameters for ``query``."""
    params = {"limit": str(query.limit), "offset": str(query.offset)}
    if query.folder_id:
        params["folder_id"] = ",".join(str(f) for f in query.folder_id)
    for name in (
        "folder_name", "source_id", "email", "search_start_date", "search_end_date", "modified_start_date",
        "modified_end_date", "order_by", "order",
    ):  # fmt: skip
        value = getattr(query, name)
        if value is not None:
            params[name] = str(value)
    return params


def folders_of_store(body: dict[str, Any]) -> tuple[Folder, ...]:
    """``GET /store``'s ``store.folders`` (a map of string ids to names) as folders, in OrderDesk's order.

    Raises: UpstreamUnavailable when the answer has no such map (an array of ``{id, name}``,
    as some third-party descriptions claim, is accepted too).
    """
    store = body.get("store")
    raw = store.get("folders") if isinstance(store, dict) else None
    if isinstance(raw, list):
        pairs = [(f.get("id"), f.get("name")) for f in raw if isinstance(f, dict)]
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise UpstreamUnavailable("the store settings had no folders in them")
    folders = []
    for ident, name in pairs:
        text = str(ident).strip()
        if text.isascii() and text.isdigit() and isinstance(name, str):
            folders.append(Folder(id=int(text), name=name))
    return tuple(folders)
