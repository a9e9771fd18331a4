"""The write guard: the live suite changes only what it created itself, and only when asked to.

Every request of every target passes :func:`check_write` before it is sent, so ``make test``
exercises the guard on the simulator with every write the suite makes.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any, NoReturn

import pytest

__all__ = ["PREFIX", "check_write"]

PREFIX = "odmcp-live-"
_OWN_ORDER_PATH = re.compile(r"/orders/(?P<id>[^/]+)(?:/shipments(?:/[^/]+)?|/order-history)?")


def _refuse(method: str, path: str, why: str) -> NoReturn:
    pytest.fail(f"{method} {path} refused: {why}", pytrace=False)


def check_write(method: str, path: str, body: Any, *, own: Collection[str], writes: bool) -> None:
    """Return when the request may be sent; fail the test otherwise.

    GETs always pass. A write needs ``writes`` and then must be one of: ``POST /orders`` with a
    ``source_id`` starting with :data:`PREFIX`; a write under ``/orders/{id}`` for an id in
    ``own`` (the orders this run created); ``POST /move-orders`` of own orders only.
    """
    if method == "GET":
        return
    if not writes:
        _refuse(method, path, f"live writes are off (set ORDERDESK_TEST_WRITES=true to let the suite "
                              f"create, change and delete its own {PREFIX} orders)")  # fmt: skip
    source_id = body.get("source_id") if isinstance(body, dict) else None
    if (method, path) == ("POST", "/orders"):
        if not (isinstance(source_id, str) and source_id.startswith(PREFIX) and len(source_id) > len(PREFIX)):
            _refuse(method, path, f"the suite creates only orders whose source_id starts with {PREFIX!r} "
                                  f"(got {source_id!r})")  # fmt: skip
        return
    if (method, path) == ("POST", "/move-orders"):
        ids = body.get("order_id_list") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids:
            _refuse(method, path, "the suite moves only orders it created, named in order_id_list")
        strangers = [str(i) for i in ids if str(i) not in own]
        if strangers:
            _refuse(method, path, f"the suite moves only orders it created; {', '.join(strangers)} "
                                  f"{'is' if len(strangers) == 1 else 'are'} not among them")  # fmt: skip
        return
    match = _OWN_ORDER_PATH.fullmatch(path)
    if match is None or (method == "POST" and path.count("/") == 2):
        _refuse(method, path, "the live suite never sends this request")
    elif match["id"] not in own:
        _refuse(method, path, f"the suite changes only orders it created in this run; "
                              f"order {match['id']} is not one of them")  # fmt: skip
