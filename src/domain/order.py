"""The Order aggregate: OrderDesk's document kept untouched, plus a typed view of it.

OrderDesk's PUT replaces the whole order, so we never re-encode a typed model: the raw
document is what we merge onto and send back, and every field we do not model survives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ["Order", "OrderView", "StoreRef", "fingerprint_of", "normalize_order_id"]


class StoreRef(msgspec.Struct, frozen=True, kw_only=True):
    """Which tenant's which OrderDesk store a call is about. Every key and record carries it."""

    tenant: str
    store_id: str


class OrderView(msgspec.Struct, frozen=True, kw_only=True):
    """The few fields the core reasons about, decoded leniently from the document."""

    id: str
    source_id: str = ""
    source_name: str = ""
    email: str = ""
    folder_id: int | None = None
    date_added: str = ""
    date_updated: str = ""


def normalize_order_id(value: object) -> str | None:
    """Return the canonical order id for ``value``, or None when it cannot be one.

    OrderDesk ids are digit strings; clients often send them as JSON numbers. ``500001``,
    ``"500001"`` and ``" 500001 "`` all mean ``"500001"``; ``"abc"``, ``-1``, ``1.5``, ``True``
    and ``0`` mean nothing.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if not value.is_integer():
            return None
        text = str(int(value))
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 20 or int(text) == 0:
        return None
    return text


# Canonical JSON: compact, keys sorted at every level, UTF-8, anything unexpected as its str().
# The same bytes as ``json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
# default=str)``, which fingerprints used before, except for numbers Python writes with an
# exponent (under 0.0001, or from 1e16): msgspec writes ``1e16`` and ``0.00001`` where Python
# wrote ``1e+16`` and ``1e-05``. msgspec is 3.8 against 17.7 µs for a 1.7 KB order, and it runs
# right after OrderDesk answers, when this VM runs Python code slowest (see the README's benchmark
# notes): an uncached orders_get in process went from 2.2-2.7 to 2.0-2.1 ms of our own time.
_canonical = msgspec.json.Encoder(order="sorted", enc_hook=str)


def fingerprint_of(doc: Mapping[str, Any]) -> str:
    """A short, stable hash of the order's canonical content (``date_updated`` included)."""
    return hashlib.sha256(_canonical.encode(doc)).hexdigest()[:32]


def _view_of(doc: Mapping[str, Any]) -> OrderView:
    folder = doc.get("folder_id")
    try:
        folder_id = int(folder) if folder not in (None, "") else None
    except (TypeError, ValueError):
        folder_id = None
    return OrderView(
        id=str(doc.get("id", "")),
        source_id=str(doc.get("source_id") or ""),
        source_name=str(doc.get("source_name") or ""),
        email=str(doc.get("email") or ""),
        folder_id=folder_id,
        date_added=str(doc.get("date_added") or ""),
        date_updated=str(doc.get("date_updated") or ""),
    )


class Order(msgspec.Struct, frozen=True, kw_only=True):
    """One order as OrderDesk stores it.

    ``doc`` is the document exactly as received (never mutate it: build a new one with
    :func:`orderdesk_mcp.domain.merge.merge`); ``view`` and ``fingerprint`` are derived from it.
    """

    doc: dict[str, Any]
    view: OrderView
    fingerprint: str

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Order:
        """Wrap an upstream document. The adapter has already normalised wire quirks."""
        owned = dict(doc)
        return cls(doc=owned, view=_view_of(owned), fingerprint=fingerprint_of(owned))

    @classmethod
    def from_cached(cls, doc: Mapping[str, Any], fingerprint: str) -> Order:
        """Rebuild an order the cache stored with its fingerprint, without hashing it again."""
        owned = dict(doc)
        return cls(doc=owned, view=_view_of(owned), fingerprint=fingerprint)

    @property
    def id(self) -> str:
        return self.view.id
