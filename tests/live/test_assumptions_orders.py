"""What the simulator assumes about OrderDesk's order and store answers, checked over raw HTTP.

Each test runs on the simulator over loopback in ``make test`` and on the real API in
``make test-live``; it speaks aiohttp directly, so it checks OrderDesk, not our client. The
README's table maps every assumption to its source in ORDERDESK_API.md and to its test here.
Write tests create their own ``odmcp-live-`` orders and the fixture deletes them afterwards.
"""

from __future__ import annotations

import pytest

from tests.live.config import with_live
from tests.live.run import new_source_id
from tests.live.shapes import (
    DATE_TIME,
    MISSING_ORDER_ID,
    is_digits,
    is_number,
    own_order_doc,
    says_how_long_it_took,
)
from tests.live.wire import OrderDeskWire

pytestmark = pytest.mark.anyio

reads = pytest.mark.parametrize("orderdesk", with_live("simulator"), indirect=True)
writes = pytest.mark.parametrize("orderdesk", with_live("simulator", writes=True), indirect=True)
DRAIN_LIMIT = 3  # drain the store's bucket to see a 429 only when that costs at most this many requests
MONEY = ("product_total", "shipping_total", "handling_total", "tax_total", "discount_total", "order_total")


@reads
async def test_answers_are_success_envelopes_that_say_how_long_they_took(orderdesk: OrderDeskWire) -> None:
    known = await orderdesk.known_order()
    answers = [
        await orderdesk.get("/test"),
        await orderdesk.store_settings(),
        await orderdesk.first_page(),
        await orderdesk.get(f"/orders/{known['id']}"),
    ]
    assert [a.status for a in answers] == [200, 200, 200, 200]
    test, store, listed, fetched = (a.obj() for a in answers)
    for body in (test, store, listed, fetched):
        assert body["status"] == "success"
        assert says_how_long_it_took(body), sorted(body)
    assert test["message"] == "Connection Successful"
    assert DATE_TIME.fullmatch(test["current_date_time"])
    assert isinstance(store["store"], dict)
    assert isinstance(listed["orders"], list)
    assert fetched["order"]["id"] == known["id"]


@reads
async def test_total_records_is_a_number_or_a_digit_string(orderdesk: OrderDeskWire) -> None:
    listed = (await orderdesk.first_page()).obj()
    total = listed["total_records"]
    assert isinstance(total, int) or (isinstance(total, str) and total.isdigit()), total
    assert int(total) >= len(listed["orders"]) == int(listed["records_returned"])
    assert (int(listed["offset"]), int(listed["limit"])) == (0, 1)


@reads
async def test_the_folder_name_filter_lists_only_that_folders_orders(orderdesk: OrderDeskWire) -> None:
    known = await orderdesk.known_order()
    folders = (await orderdesk.store_settings()).obj()["store"]["folders"]
    assert isinstance(folders, dict), "store.folders is a map of folder id to name"
    assert isinstance(known["folder_id"], int), "an order's folder_id is a number"
    name = folders[str(known["folder_id"])]
    page = (await orderdesk.get("/orders", folder_name=name, limit="10")).obj()
    assert page["orders"]
    assert {o["folder_id"] for o in page["orders"]} == {known["folder_id"]}


@reads
async def test_a_missing_order_is_404_with_an_error_envelope_on_get(orderdesk: OrderDeskWire) -> None:
    answer = await orderdesk.get(f"/orders/{MISSING_ORDER_ID}")
    assert answer.status == 404
    assert answer.obj()["status"] == "error"
    assert isinstance(answer.obj()["message"], str)


@reads
async def test_ids_and_numbers_come_as_strings_or_numbers(orderdesk: OrderDeskWire) -> None:
    known = await orderdesk.known_order()
    store = (await orderdesk.store_settings()).obj()["store"]
    assert is_digits(known["id"]), "order ids are digit strings"
    assert is_digits(store["id"]), "the store id is a digit string"
    assert all(is_digits(k) for k in store["folders"]), "folder ids are string keys"
    assert all(is_number(known[key]) for key in MONEY if key in known), {k: known.get(k) for k in MONEY}
    assert isinstance(known.get("email_count", "0"), str), "email_count is a digit string"
    for item in known["order_items"]:
        assert is_digits(item["id"]), "item ids are digit strings"
        assert is_number(item["price"])
        assert is_number(item["quantity"])


@reads
async def test_date_filters_take_timestamps_and_include_both_ends(orderdesk: OrderDeskWire) -> None:
    # orders_list sends every date filter as 'YYYY-MM-DD HH:MM:SS' (a bare date as its whole day):
    # a window from the second the newest order was added to that same second lists it. Both
    # bounds are its own date_added, whatever zone OrderDesk keeps it in.
    known = await orderdesk.known_order()
    added = known["date_added"]
    assert DATE_TIME.fullmatch(added), added
    # Several orders may share the second (an import): ask for enough that ties cannot crowd it out.
    window = await orderdesk.get("/orders", search_start_date=added, search_end_date=added, limit="100")
    assert window.status == 200, window.body
    assert known["id"] in [o["id"] for o in window.obj()["orders"]]


@reads
async def test_a_wrong_key_is_refused_with_401_and_an_error_envelope(orderdesk: OrderDeskWire) -> None:
    wrong = "odmcp-live-not-a-key"
    answer = await orderdesk.send("GET", "/test", api_key=wrong)
    assert answer.status == 401
    assert answer.obj()["status"] == "error"
    assert wrong not in repr(answer.body)


@reads
async def test_answers_carry_x_tokens_remaining_and_a_429_carries_x_retry_after(
    orderdesk: OrderDeskWire,
) -> None:
    first, second = await orderdesk.get("/test"), await orderdesk.get("/test")
    before, after = first.tokens_remaining(), second.tokens_remaining()
    assert before is not None, "X-Tokens-Remaining is on every answer"
    assert after is not None, "X-Tokens-Remaining is on every answer"
    assert 0 <= after <= before + 1 <= 21, (before, after)  # a burst of 20, refilled at 3 per second
    if after > DRAIN_LIMIT:
        return  # draining a real store's bucket would make its other integrations wait; see README
    drained = [await orderdesk.send("GET", "/test", bucket=False) for _ in range(after + 1)]
    limited = next((a for a in drained if a.status == 429), None)
    assert limited is not None, [a.status for a in drained]
    assert limited.headers.get("x-retry-after", "").isdigit(), dict(limited.headers)
    assert int(limited.headers["x-retry-after"]) >= 1
    assert limited.obj()["status"] == "error"


@writes
async def test_a_deleted_order_is_404_on_put_and_delete(orderdesk: OrderDeskWire) -> None:
    order = await orderdesk.create_order(own_order_doc(new_source_id()))
    deleted = await orderdesk.send("DELETE", f"/orders/{order['id']}")
    assert (deleted.status, deleted.obj()["status"]) == (200, "success")
    again = [
        await orderdesk.send("PUT", f"/orders/{order['id']}", body=order),
        await orderdesk.send("DELETE", f"/orders/{order['id']}"),
    ]
    assert [a.status for a in again] == [404, 404]
    assert [a.obj()["status"] for a in again] == ["error", "error"]


@writes
async def test_string_numbers_are_totalled_and_a_put_replaces_the_whole_document(
    orderdesk: OrderDeskWire,
) -> None:
    doc = own_order_doc(
        new_source_id(),
        checkout_data={"Note": "odmcp"},
        order_items=[{"name": "Mug", "price": "10", "quantity": 2}],
        discount_list=[{"name": "odmcp", "amount": "1.70"}],
    )
    order = await orderdesk.create_order(doc)
    totals = {key: float(order[key]) for key in ("product_total", "discount_total", "order_total")}
    assert totals == {"product_total": 20.0, "discount_total": 1.7, "order_total": 18.3}
    [old_item] = order["order_items"]
    assert is_digits(old_item["id"]), "a new item gets a digit-string id"
    doc = {k: v for k, v in order.items() if k != "checkout_data"}
    doc["order_items"] = [{"name": "Plate", "price": 4, "quantity": 1}]
    put = await orderdesk.send("PUT", f"/orders/{order['id']}", body=doc)
    assert (put.status, put.obj()["status"]) == (200, "success")
    fetched = await orderdesk.get(f"/orders/{order['id']}")
    for saved in (put.obj()["order"], fetched.obj()["order"]):
        assert not saved.get("checkout_data"), "what the PUT left out is blank"
        [item] = saved["order_items"]
        assert item["name"] == "Plate", "an item the PUT left out is gone"
        assert is_digits(item["id"])
        assert item["id"] != old_item["id"]


@writes
async def test_a_put_from_a_stale_read_is_not_refused_and_the_last_write_wins(
    orderdesk: OrderDeskWire,
) -> None:
    order = await orderdesk.create_order(own_order_doc(new_source_id()))
    first = await orderdesk.send("PUT", f"/orders/{order['id']}", body=order | {"email": "first@example.com"})
    await orderdesk.run.clock.sleep(1.1)  # date_updated has one-second resolution
    stale = await orderdesk.send(
        "PUT", f"/orders/{order['id']}", body=order | {"email": "second@example.com"}
    )
    assert [first.status, stale.status] == [200, 200], "no 409 for a PUT built on an older read"
    assert stale.obj()["order"]["email"] == "second@example.com"
