"""What the simulator assumes about OrderDesk's shipments, folder moves, history notes and inventory.

Written against the wire shapes in ORDERDESK_API.md sections 2.3, 2.5, 2.7 and 2.8, over raw
HTTP like ``test_assumptions_orders.py``: on the simulator in ``make test``, on the real API in
``make test-live``.
"""

from __future__ import annotations

import re

import pytest

from tests.live.config import with_live
from tests.live.run import new_source_id
from tests.live.shapes import DATE_TIME, is_digits, own_order_doc, says_how_long_it_took
from tests.live.wire import OrderDeskWire

pytestmark = pytest.mark.anyio

_SIMULATOR = pytest.param("simulator")
reads = pytest.mark.parametrize("orderdesk", with_live(_SIMULATOR), indirect=True)
writes = pytest.mark.parametrize("orderdesk", with_live(_SIMULATOR, writes=True), indirect=True)


@reads
async def test_the_inventory_list_sends_total_records_as_a_digit_string(orderdesk: OrderDeskWire) -> None:
    answer = await orderdesk.get("/inventory-items", limit="5")
    assert answer.status == 200, answer.body
    body = answer.obj()
    assert body["status"] == "success"
    assert says_how_long_it_took(body)
    assert is_digits(body["total_records"]), body["total_records"]
    assert int(body["records_returned"]) == len(body["inventory_items"]) <= 5


@writes
async def test_a_second_identical_shipment_is_answered_shipment_not_added(orderdesk: OrderDeskWire) -> None:
    order = await orderdesk.create_order(own_order_doc(new_source_id()))
    shipment = {"tracking_number": new_source_id(), "carrier_code": "USPS", "shipment_method": "Priority"}
    path = f"/orders/{order['id']}/shipments"
    added = await orderdesk.send("POST", path, body=shipment)
    again = await orderdesk.send("POST", path, body=shipment)
    assert added.status == 200, added.body
    assert (added.obj()["status"], added.obj()["message"]) == ("success", "Shipment Added")
    assert (again.obj()["status"], again.obj()["message"]) == ("error", "Shipment Not Added")
    listed = (await orderdesk.get(path)).obj()
    assert (listed["status"], int(listed["total_records"])) == ("success", 1)
    [kept] = listed["shipments"]
    assert (kept["tracking_number"], kept["carrier_code"]) == (shipment["tracking_number"], "USPS")
    assert is_digits(kept["id"])


@writes
async def test_a_move_answers_per_order_and_a_history_note_answers_with_the_order(
    orderdesk: OrderDeskWire,
) -> None:
    order = await orderdesk.create_order(own_order_doc(new_source_id()))
    # into the folder it is already in: a move runs the destination folder's rules, and an own
    # order's first folder has run them already
    body = {"order_id_list": [int(order["id"])], "destination_folder_id": order["folder_id"]}
    moved = await orderdesk.send("POST", "/move-orders", body=body)
    assert moved.status == 200, moved.body
    assert moved.obj()["status"] == "success"
    assert re.fullmatch(r"1 Orders? Moved", moved.obj()["message"]), moved.obj()["message"]
    [result] = moved.obj()["results"]
    assert (result["order_id"], result["original_folder_id"]) == (int(order["id"]), order["folder_id"])
    assert isinstance(result["message"], str)
    # As long as orders_add_note takes (2,000 characters): the docs count the date and user name in
    # that limit for order notes (about 1,800 usable) and say nothing of history notes.
    # Characters, not bytes, with what HTML would escape: a limit counted otherwise would cut it.
    note = f"odmcp-live note {new_source_id()} ".ljust(1996, "x") + " é&<"
    noted = await orderdesk.send(
        "POST", f"/orders/{order['id']}/order-history", body={"note": note, "source_name": "API"}
    )
    assert noted.status == 200, noted.body
    answer = noted.obj()
    assert answer["status"] == "success"
    assert says_how_long_it_took(answer)
    assert answer["order"]["id"] == order["id"]
    entries = [e for e in answer["order"]["order_history"] if e["note"] == note]
    assert [e["source_name"] for e in entries] == ["API"]
    assert DATE_TIME.fullmatch(entries[0]["date_added"])


@reads
async def test_the_inventory_list_honours_the_code_and_search_filters(orderdesk: OrderDeskWire) -> None:
    # Section 2.7 barely documents these parameters; inventory_list sends them as they are, so this is
    # what tells whether OrderDesk filters by them (exact code; name or code containing the text).
    page = (await orderdesk.get("/inventory-items", limit="50")).obj()["inventory_items"]
    coded = [item for item in page if str(item.get("code") or "").strip() and str(item.get("name") or "")]
    if not coded:
        pytest.skip("the store has no inventory item with a code and a name to filter by")
    item = coded[0]
    by_code = (await orderdesk.get("/inventory-items", code=str(item["code"]), limit="50")).obj()
    assert str(item["id"]) in {str(found["id"]) for found in by_code["inventory_items"]}
    assert {found["code"] for found in by_code["inventory_items"]} == {item["code"]}
    word = str(item["name"]).split()[0]
    by_search = (await orderdesk.get("/inventory-items", search=word.upper(), limit="50")).obj()
    assert str(item["id"]) in {str(found["id"]) for found in by_search["inventory_items"]}
    for found in by_search["inventory_items"]:
        text = f"{found.get('name', '')}\n{found.get('code', '')}".casefold()
        assert word.casefold() in text, found
