"""Seeded builders of realistic OrderDesk order documents (polyfactory ``MsgspecFactory``).

The Structs below describe what a client may send to ``POST /orders`` (ORDERDESK_API §5): no
ids, no server dates, no computed totals. They exist only to generate data; tests get plain
dicts, because documents travel as dicts (a re-encoded Struct would drop unknown fields).
The same seed always gives the same documents.
"""

from __future__ import annotations

import itertools
from random import Random
from typing import Any, Literal

import msgspec
from polyfactory import PostGenerated
from polyfactory.factories.msgspec_factory import MsgspecFactory

__all__ = ["order_doc", "order_docs"]

SOURCES = ("Order Desk", "Shopify", "WooCommerce", "Amazon", "eBay", "Etsy")
_PRODUCTS = (
    ("Blue T-Shirt", "TS-BLU"),
    ("Coffee Mug", "MUG-01"),
    ("Sticker Pack", "STK-3"),
    ("Tote", "TOTE"),
)
_VARIATIONS: tuple[dict[str, str], ...] = ({}, {"Size": "Small", "Color": "Black"}, {"Size": "XL"})
_seeds = itertools.count(1)


class Address(msgspec.Struct, frozen=True, kw_only=True):
    first_name: str
    last_name: str
    company: str
    address1: str
    address2: str
    city: str
    state: str
    postal_code: str
    country: str
    phone: str


class Item(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    code: str
    price: float
    quantity: int
    weight: float
    delivery_type: Literal["ship", "noship", "download", "future"]
    category_code: str
    variation_list: dict[str, str]
    metadata: dict[str, str]


class Note(msgspec.Struct, frozen=True, kw_only=True):
    username: str
    content: str


class NewOrder(msgspec.Struct, frozen=True, kw_only=True):
    source_id: str
    source_name: str
    email: str
    shipping_method: str
    shipping_total: float
    handling_total: float
    tax_total: float
    payment_type: str
    customer: Address
    shipping: Address
    checkout_data: dict[str, str]
    order_metadata: dict[str, int]
    order_notes: tuple[Note, ...]
    order_items: tuple[Item, ...]


def _money(rng: Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), 2)


class AddressFactory(MsgspecFactory[Address]):
    __model__ = Address

    @classmethod
    def first_name(cls) -> str:
        return str(cls.__faker__.first_name())

    @classmethod
    def last_name(cls) -> str:
        return str(cls.__faker__.last_name())

    @classmethod
    def company(cls) -> str:
        return str(cls.__faker__.company()) if cls.__random__.random() < 0.2 else ""

    @classmethod
    def address1(cls) -> str:
        return str(cls.__faker__.street_address())

    @classmethod
    def address2(cls) -> str:
        return ""

    @classmethod
    def city(cls) -> str:
        return str(cls.__faker__.city())

    @classmethod
    def state(cls) -> str:
        return str(cls.__faker__.state_abbr())

    @classmethod
    def postal_code(cls) -> str:
        return str(cls.__faker__.postcode())

    @classmethod
    def country(cls) -> str:
        return "US"

    @classmethod
    def phone(cls) -> str:
        return f"555-{cls.__random__.randint(1000, 9999)}"


class ItemFactory(MsgspecFactory[Item]):
    __model__ = Item

    @classmethod
    def name(cls) -> str:
        return cls.__random__.choice(_PRODUCTS)[0]

    code = PostGenerated(lambda _name, values: dict(_PRODUCTS)[values["name"]])

    @classmethod
    def price(cls) -> float:
        return _money(cls.__random__, 2, 80)

    @classmethod
    def quantity(cls) -> int:
        return cls.__random__.randint(1, 4)

    @classmethod
    def weight(cls) -> float:
        return round(cls.__random__.uniform(0.1, 3), 1)

    @classmethod
    def category_code(cls) -> str:
        return "DEFAULT"

    @classmethod
    def variation_list(cls) -> dict[str, str]:
        return dict(cls.__random__.choice(_VARIATIONS))

    @classmethod
    def metadata(cls) -> dict[str, str]:
        return {}


class NoteFactory(MsgspecFactory[Note]):
    __model__ = Note

    @classmethod
    def username(cls) -> str:
        return "Ops"

    @classmethod
    def content(cls) -> str:
        return str(cls.__faker__.sentence())


class NewOrderFactory(MsgspecFactory[NewOrder]):
    __model__ = NewOrder

    @classmethod
    def source_id(cls) -> str:
        return f"SRC-{cls.__random__.randint(10**7, 10**8 - 1)}"

    @classmethod
    def source_name(cls) -> str:
        return cls.__random__.choice(SOURCES)

    @classmethod
    def email(cls) -> str:
        return str(cls.__faker__.email(domain="example.com"))

    @classmethod
    def shipping_method(cls) -> str:
        return cls.__random__.choice(("Ground", "2-Day", "Overnight"))

    @classmethod
    def shipping_total(cls) -> float:
        return _money(cls.__random__, 0, 15)

    @classmethod
    def handling_total(cls) -> float:
        return _money(cls.__random__, 0, 3)

    @classmethod
    def tax_total(cls) -> float:
        return _money(cls.__random__, 0, 8)

    @classmethod
    def payment_type(cls) -> str:
        return cls.__random__.choice(("Visa", "MasterCard", "PayPal"))

    @classmethod
    def customer(cls) -> Address:
        return AddressFactory.build()

    @classmethod
    def shipping(cls) -> Address:
        return AddressFactory.build()

    @classmethod
    def checkout_data(cls) -> dict[str, str]:
        return {"Gift Message": str(cls.__faker__.sentence())} if cls.__random__.random() < 0.5 else {}

    @classmethod
    def order_metadata(cls) -> dict[str, int]:
        return {"fraud_protection_score": cls.__random__.randint(0, 9)}

    @classmethod
    def order_notes(cls) -> tuple[Note, ...]:
        return tuple(NoteFactory.batch(cls.__random__.randint(0, 2)))

    @classmethod
    def order_items(cls) -> tuple[Item, ...]:
        return tuple(ItemFactory.batch(cls.__random__.randint(1, 3)))


def _seed_all(seed: int) -> None:
    for factory in (AddressFactory, ItemFactory, NoteFactory, NewOrderFactory):
        factory.seed_random(seed)


def order_docs(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` distinct new-order documents, the same for the same ``seed``."""
    _seed_all(seed)
    # through JSON, so the documents hold exactly what travels (lists, not tuples)
    return [msgspec.json.decode(msgspec.json.encode(order)) for order in NewOrderFactory.batch(n)]


def order_doc(**overrides: Any) -> dict[str, Any]:
    """One new-order document with ``overrides`` applied on top (a key set to ``...`` is removed).

    Each call in a test run uses the next seed, so successive documents differ (distinct
    ``source_id``s) and a rerun of the same tests builds the same documents.
    """
    doc = order_docs(1, seed=10_000 + next(_seeds))[0]
    for key, value in overrides.items():
        if value is ...:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc
