"""Shipments: OrderDesk's tracking records of an order (``/orders/{id}/shipments``).

A shipment is kept as the document OrderDesk sent. Adding one is safe to repeat because a
shipment is identified by its tracking number and carrier: :func:`same_shipment` is the
one rule both the reconciliation after a lost answer and the duplicate check use.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

import msgspec

__all__ = ["NewShipment", "Shipment", "find_added", "find_shipment", "same_shipment"]


class NewShipment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A shipment to add; ``None`` fields are not sent (OrderDesk guesses ``tracking_url``)."""

    tracking_number: str
    carrier_code: str
    shipment_method: str | None = None
    weight: float | None = None
    cost: float | None = None
    tracking_url: str | None = None
    status: str | None = None

    def body(self) -> dict[str, Any]:
        """The ``POST /orders/{id}/shipments`` body."""
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not None}


class Shipment(msgspec.Struct, frozen=True, kw_only=True):
    """One shipment as OrderDesk stores it (``doc``), with the fields the core reasons about."""

    doc: dict[str, Any]
    id: str
    tracking_number: str
    carrier_code: str

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Shipment:
        owned = dict(doc)
        return cls(
            doc=owned,
            id=str(owned.get("id", "")),
            tracking_number=str(owned.get("tracking_number") or ""),
            carrier_code=str(owned.get("carrier_code") or ""),
        )


def _norm(text: str) -> str:
    return "".join(text.split()).casefold()


def _untracked(tracking_number: str) -> bool:
    return _norm(tracking_number) in ("", "n/a")


def same_shipment(shipment: Shipment, new: NewShipment) -> bool:
    """Whether ``shipment`` is ``new``: same tracking number and carrier, ignoring case and blanks.

    ``"n/a"`` (OrderDesk's "no tracking number") never matches: such shipments are not unique.
    """
    tracking = _norm(new.tracking_number)
    if _untracked(tracking):
        return False
    return _norm(shipment.tracking_number) == tracking and _norm(shipment.carrier_code) == _norm(
        new.carrier_code
    )


def find_shipment(shipments: Iterable[Shipment], new: NewShipment) -> Shipment | None:
    """The first of ``shipments`` that is ``new``, or None."""
    return next((s for s in shipments if same_shipment(s, new)), None)


def find_added(
    shipments: Iterable[Shipment], new: NewShipment, known_ids: Collection[str]
) -> Shipment | None:
    """The shipment that adding ``new`` left among ``shipments``, or None.

    With a tracking number that is :func:`find_shipment`. A shipment without one (``"n/a"``) is
    never unique, so it is the first untracked shipment of the same carrier whose id is not in
    ``known_ids``: the ids listed before the add, under the order's write lock, so that a new one
    is ours (a writer outside this service adding one in the same moment cannot be told apart).
    """
    if not _untracked(new.tracking_number):
        return find_shipment(shipments, new)
    carrier = _norm(new.carrier_code)
    return next(
        (
            s
            for s in shipments
            if s.id not in known_ids and _untracked(s.tracking_number) and _norm(s.carrier_code) == carrier
        ),
        None,
    )
