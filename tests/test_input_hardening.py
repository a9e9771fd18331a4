"""Nothing wrong accepted: what a create or an update refuses before any request, with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from orderdesk_mcp.adapters.memory_write_lock import MemoryWriteLock
from orderdesk_mcp.domain.commands import CreateOrderCommand, UpdateOrderCommand
from orderdesk_mcp.domain.conflict_policy import ConflictPolicy
from orderdesk_mcp.domain.errors import InvalidRequest
from orderdesk_mcp.domain.merge import merge, validate_changes
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.order_rules import check_new_order
from orderdesk_mcp.domain.use_cases.create_order import CreateOrder
from orderdesk_mcp.domain.use_cases.update_order import UpdateOrder
from tests.fake_cache import FakeOrderCache
from tests.fakes import FakeAuditLog, FakeClock, FakeOrderGateway

pytestmark = pytest.mark.anyio

STORE = StoreRef(tenant="acme", store_id="100001")
ORDER: dict[str, Any] = {
    "id": "500001",
    "email": "ada@example.com",
    "shipping": {"first_name": "Ada", "last_name": "Lovelace", "city": "London"},
    "order_items": [{"id": "1", "name": "Mug", "price": 9.5, "quantity": 1}],
}
NEW: dict[str, Any] = {k: v for k, v in ORDER.items() if k != "id"}


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.gateway = FakeOrderGateway({"500001": ORDER})
        self.audit = FakeAuditLog()
        cache, records = FakeOrderCache(self.clock), FakeOrderCache(self.clock)
        self.update = UpdateOrder(
            gateway=self.gateway, cache=cache, audit=self.audit, clock=self.clock, policy=ConflictPolicy(),
            lock=MemoryWriteLock(clock=self.clock),
        )  # fmt: skip
        self.create = CreateOrder(
            gateway=self.gateway, cache=cache, records=records, audit=self.audit, clock=self.clock
        )


async def _update_error(changes: dict[str, Any]) -> tuple[str, World]:
    world = World()
    with pytest.raises(InvalidRequest) as caught:
        await world.update(UpdateOrderCommand.parse(STORE, "500001", changes))
    assert world.gateway.writes == []
    return str(caught.value), world


async def _create_error(order: dict[str, Any]) -> tuple[str, World]:
    world = World()
    with pytest.raises(InvalidRequest) as caught:
        await world.create(CreateOrderCommand.parse(STORE, order))
    assert world.gateway.calls == {}
    return str(caught.value), world


@pytest.mark.parametrize("items", [[], None])
async def test_an_update_cannot_empty_or_remove_the_items(items: list[Any] | None) -> None:
    message, world = await _update_error({"order_items": items})
    assert (
        message
        == "Invalid request: order_items cannot be emptied or removed: an order needs at least one item."
    )
    assert world.gateway.calls == {}  # refused before the order was even read


async def test_an_update_cannot_remove_the_only_name() -> None:
    message, _ = await _update_error({"shipping": None})
    assert message == (
        "Invalid request: this change would leave the order without a name: shipping or customer needs a "
        "first_name and last_name, or a company."
    )


async def test_an_update_cannot_blank_the_last_name_when_there_is_no_company() -> None:
    message, _ = await _update_error({"shipping": {"last_name": None}})
    assert message.startswith("Invalid request: this change would leave the order without a name")


async def test_removing_shipping_is_fine_when_the_customer_has_a_name() -> None:
    current = ORDER | {"customer": {"company": "Analytical Engines Ltd"}}
    validate_changes({"shipping": None}, current=current)
    assert "shipping" not in merge(current, {"shipping": None})


async def test_a_nul_in_an_update_is_refused_before_any_request() -> None:
    message, world = await _update_error({"shipping": {"city": "Lon\x00don"}})
    assert message == (
        "Invalid request: shipping.city contains a control character (U+0000); "
        "only tab and newline are allowed."
    )
    assert world.gateway.calls == {}


async def test_control_characters_are_refused_at_any_depth_but_tab_and_newline_are_free_text() -> None:
    message, _ = await _create_error(NEW | {"order_notes": [{"content": "line\x1bescape"}]})
    assert message == (
        "Invalid request: order_notes[0].content contains a control character (U+001B); "
        "only tab and newline are allowed."
    )
    assert check_new_order(NEW | {"order_notes": [{"content": "two\nlines\tand a tab"}]}) == []


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"price": -1}, "order_items[0].price must not be negative"),
        ({"price": "-0.01"}, "order_items[0].price must not be negative"),
        ({"quantity": -2}, "order_items[0].quantity must not be negative"),
        ({"quantity": 1.5}, "order_items[0].quantity must be a whole number"),
        ({"quantity": "2.5"}, "order_items[0].quantity must be a whole number"),
        ({"price": "NaN"}, "order_items[0].price must be a number"),
        ({"quantity": float("inf")}, "order_items[0].quantity must be a number"),
    ],
)
async def test_negative_prices_and_quantities_and_fractional_quantities_are_refused(
    item: dict[str, Any], problem: str
) -> None:
    message, _ = await _create_error(NEW | {"order_items": [{"name": "Mug"} | item]})
    assert message == f"Invalid request: {problem}."


async def test_a_whole_quantity_given_as_a_float_or_a_string_is_fine() -> None:
    assert check_new_order(NEW | {"order_items": [{"name": "Mug", "quantity": 2.0, "price": "0"}]}) == []
    assert check_new_order(NEW | {"order_items": [{"name": "Mug", "quantity": "3", "price": 0}]}) == []


@pytest.mark.parametrize(
    "date", ["2026-13-01", "01/02/2026", "2026-01-01T10:00:00Z", "yesterday", "2026-02-30"]
)
async def test_a_date_not_in_the_documented_formats_is_refused(date: str) -> None:
    message, _ = await _update_error({"order_notes": [{"content": "hi", "date_added": date}]})
    assert (
        message
        == "Invalid request: order_notes[0].date_added must be a date as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS."
    )


@pytest.mark.parametrize("date", ["2026-02-28", "2026-02-28 23:59:59"])
async def test_the_documented_date_formats_are_accepted(date: str) -> None:
    validate_changes({"order_notes": [{"content": "hi", "date_added": date}]})


async def test_a_create_over_1_mb_is_refused_with_its_size() -> None:
    big = NEW | {"order_items": [{"name": "x" * 1000, "price": 1, "quantity": 1} for _ in range(1100)]}
    message, _ = await _create_error(big)
    assert message.startswith("Invalid request: the order's JSON body would be 1,")
    assert message.endswith(" bytes, more than the 1,000,000-byte limit.")


async def test_an_update_over_1_mb_is_refused_with_its_size_before_any_request() -> None:
    items = [{"name": "y" * 1000, "price": 1, "quantity": 1} for _ in range(1100)]
    message, world = await _update_error({"order_items": items})
    assert message.startswith("Invalid request: the changes alone would be 1,")
    assert world.gateway.calls == {}


async def test_an_update_that_makes_the_merged_order_pass_1_mb_is_refused_with_its_size() -> None:
    current = ORDER | {"order_metadata": {"blob": "z" * 600_000}}
    with pytest.raises(InvalidRequest) as caught:
        merge(current, {"checkout_data": {"more": "w" * 500_000}})
    assert str(caught.value) == (
        "Invalid request: the order's JSON body would be 1,100,234 bytes, more than the 1,000,000-byte limit."
    )


def test_a_card_number_given_where_it_does_not_belong_never_reaches_an_error() -> None:
    from orderdesk_mcp.domain.commands import GetOrderCommand

    with pytest.raises(InvalidRequest) as caught:
        GetOrderCommand.parse(STORE, "4111 1111 1111 1111")
    assert str(caught.value) == (
        "Invalid request: order_id '[redacted]' is not an order id; "
        'an order id is OrderDesk\'s numeric id, like 500001 or "500001".'
    )
