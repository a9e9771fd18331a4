"""Fingerprints: the same canonical bytes as the json.dumps form used before, stable and order-blind."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orderdesk_mcp.adapters.simulator._seed import sample_orders
from orderdesk_mcp.domain.order import fingerprint_of


def _json_dumps_fingerprint(doc: Any) -> str:
    """How fingerprints were computed before msgspec did it (the reference)."""
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


# Numbers Python writes without an exponent: where the two encoders are documented to agree.
_plain_floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: "e" not in repr(x))
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _plain_floats | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


@given(st.dictionaries(st.text(max_size=12), _json, max_size=8))
def test_any_json_document_without_exponent_numbers_keeps_the_fingerprint_it_had(doc: dict[str, Any]) -> None:
    assert fingerprint_of(doc) == _json_dumps_fingerprint(doc)


def test_every_sample_order_keeps_its_fingerprint_and_key_order_does_not_matter() -> None:
    for order in sample_orders(25, seed=7, first_id=100001):
        assert fingerprint_of(order) == _json_dumps_fingerprint(order)
        assert fingerprint_of(dict(reversed(list(order.items())))) == fingerprint_of(order)


def test_only_numbers_python_writes_with_an_exponent_hash_differently_than_before() -> None:
    for number in (1e16, 0.00001, 2.5e-7):
        doc = {"id": "1", "weight": number}
        assert fingerprint_of(doc) != _json_dumps_fingerprint(doc)
    assert fingerprint_of({"id": "1", "weight": 0.0001}) == _json_dumps_fingerprint(
        {"id": "1", "weight": 0.0001}
    )
