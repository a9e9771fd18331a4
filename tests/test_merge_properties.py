"""Properties of the merge policy (hypothesis): what it keeps, removes and how changes compose."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orderdesk_mcp.domain.merge import carries, diff, merge

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
ADDRESS = st.dictionaries(
    st.sampled_from(["first_name", "last_name", "company", "city", "phone", "postal_code"]),
    st.text(max_size=6),
    max_size=4,
)
# Orders with unmodelled keys (any name, any value) and nested objects that merge key by key.
DOCS = st.fixed_dictionaries(
    {
        "id": st.just("500001"),
        "shipping": ADDRESS,
        "order_metadata": st.dictionaries(st.text(max_size=4), VALUES),
    },
    optional={"customer": ADDRESS, "email": st.text(max_size=8), "order_items": st.lists(VALUES, max_size=2)},
).flatmap(
    lambda base: st.dictionaries(st.text(min_size=1, max_size=10), VALUES, max_size=6).map(lambda x: x | base)
)
SCALAR_KEYS = st.sampled_from(["email", "shipping_method", "tag_name", "payment_type", "customer_id"])
ADDRESS_CHANGE = st.dictionaries(
    st.sampled_from(["first_name", "city", "phone", "state"]), st.none() | st.text(max_size=6), max_size=3
)
CHANGES = st.dictionaries(SCALAR_KEYS, st.none() | st.text(max_size=10), max_size=3) | st.fixed_dictionaries(
    {}, optional={"shipping": ADDRESS_CHANGE, "customer": ADDRESS_CHANGE, "email": st.text(max_size=5)}
)


@given(DOCS)
def test_no_changes_is_the_identity(doc: dict[str, Any]) -> None:
    assert merge(doc, {}) == doc
    assert diff(doc, merge(doc, {})) == ()


@given(DOCS, CHANGES)
def test_keys_the_changes_do_not_name_survive_exactly_unknown_ones_included(
    doc: dict[str, Any], changes: dict[str, Any]
) -> None:
    merged = merge(doc, changes)
    for key, value in doc.items():
        if key not in changes:
            assert merged[key] == value
    assert {c.field.split(".")[0] for c in diff(doc, merged)} <= set(changes)


@given(DOCS, CHANGES)
def test_merge_never_mutates_the_fetched_document(doc: dict[str, Any], changes: dict[str, Any]) -> None:
    before = copy.deepcopy(doc)
    merge(doc, changes)
    assert doc == before


@given(DOCS, CHANGES, CHANGES)
def test_changes_to_disjoint_fields_commute(
    doc: dict[str, Any], a: dict[str, Any], b: dict[str, Any]
) -> None:
    b = {k: v for k, v in b.items() if k not in a}
    assert merge(merge(doc, a), b) == merge(merge(doc, b), a)


@given(DOCS, ADDRESS_CHANGE, ADDRESS_CHANGE)
def test_disjoint_keys_inside_one_nested_object_commute(
    doc: dict[str, Any], a: dict[str, Any], b: dict[str, Any]
) -> None:
    b = {k: v for k, v in b.items() if k not in a}
    one = merge(merge(doc, {"shipping": a}), {"shipping": b})
    assert one == merge(merge(doc, {"shipping": b}), {"shipping": a})
    assert one == merge(doc, {"shipping": a | b})


@given(DOCS, SCALAR_KEYS)
def test_null_removes_a_top_level_field(doc: dict[str, Any], key: str) -> None:
    merged = merge(doc | {key: "x"}, {key: None})
    assert key not in merged
    assert [(c.field, c.before, c.after) for c in diff(doc | {key: "x"}, merged)] == [(key, "x", None)]


@given(DOCS, st.sampled_from(["first_name", "city", "phone"]))
def test_null_inside_a_nested_object_removes_only_that_key(doc: dict[str, Any], sub: str) -> None:
    doc["shipping"] = doc["shipping"] | {sub: "x", "country": "GB"}
    merged = merge(doc, {"shipping": {sub: None}})
    assert sub not in merged["shipping"]
    assert merged["shipping"] == {k: v for k, v in doc["shipping"].items() if k != sub}


@given(DOCS, ADDRESS_CHANGE)
def test_a_nested_merge_keeps_every_sibling_key(doc: dict[str, Any], change: dict[str, Any]) -> None:
    merged = merge(doc, {"shipping": change})
    for sub, value in doc["shipping"].items():
        if sub not in change:
            assert merged["shipping"][sub] == value
    for sub, value in change.items():
        assert merged["shipping"].get(sub) == value


@given(DOCS, st.lists(VALUES, max_size=3))
def test_arrays_are_replaced_whole(doc: dict[str, Any], items: list[Any]) -> None:
    assert merge(doc, {"order_items": items})["order_items"] == items


@given(VALUES)
def test_every_value_carries_itself(value: Any) -> None:
    assert carries(value, value)
