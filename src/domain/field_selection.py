"""Field selection: ``fields: [...]`` as a tree of paths, and an order projected onto it.

A path is a top-level key or a dotted path (``shipping.city``); a path through a list applies
to each object in it (``order_items.name``). A path absent from the order is left out:

- when no element of a list has the path (``order_items.nonexistent``, ``order_items.0``), the
  list's key is left out, as any other absent path;
- when some elements have it, the list keeps every element in its place, so its length and
  positions stay the order's: an element without the path shows as ``{}``;
- an empty list stays ``[]`` (it has no element to lack the path), except inside an element of
  a list: there it counts as lacking the path (``order_items.metadata.image`` with every item's
  ``metadata: []`` leaves ``order_items`` out, as OrderDesk sends empty maps as ``[]``).

Selecting a path that *is* an empty list (``order_notes``, ``order_items.metadata``) shows ``[]``.

Pure; the order document is never altered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orderdesk_mcp.domain.errors import InvalidRequest
from orderdesk_mcp.domain.order import Order

__all__ = ["MAX_FIELDS", "FieldTree", "parse_fields", "select_fields"]

FieldTree = Mapping[str, "FieldTree"]  # {} means "the whole value"

MAX_FIELDS = 50
_MAX_PATH = 200


def _malformed(path: str) -> str | None:
    """Why ``path`` is not a field path, or None when it is one."""
    if not path or len(path) > _MAX_PATH:
        return f"must be 1 to {_MAX_PATH} characters"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        return "must not contain control characters"
    if any(not part or part != part.strip() for part in path.split(".")):
        return "must be a top-level key or a dotted path like shipping.city (no empty or padded parts)"
    return None


def parse_fields(fields: Sequence[object]) -> FieldTree:
    """The requested paths as a tree; a whole-key request covers any deeper path under it.

    Raises:
        InvalidRequest: naming every malformed path (or too many of them).
    """
    if not 1 <= len(fields) <= MAX_FIELDS:
        raise InvalidRequest([f"fields must list 1 to {MAX_FIELDS} paths; got {len(fields)}"])
    problems: list[str] = []
    tree: dict[str, Any] = {}
    for raw in fields:
        why = _malformed(raw) if isinstance(raw, str) else "must be a string"
        if why is not None:
            shown = repr(raw) if len(repr(raw)) <= 60 else repr(raw)[:57] + "..."
            problems.append(f"field path {shown} {why}")
            continue
        assert isinstance(raw, str)
        node = tree
        parts = raw.split(".")
        for depth, part in enumerate(parts):
            existing = node.get(part)
            if existing is not None and not existing:
                break  # the whole value is already requested
            if depth == len(parts) - 1:
                node[part] = {}
            else:
                node = node.setdefault(part, {})
    if problems:
        raise InvalidRequest(problems)
    return tree


_ABSENT = object()


def _project(value: object, tree: FieldTree, *, in_list: bool = False) -> object:
    if not tree:
        return value
    if isinstance(value, Mapping):
        picked = {}
        for key, sub in tree.items():
            if key in value:
                projected = _project(value[key], sub, in_list=in_list)
                if projected is not _ABSENT:
                    picked[key] = projected
        return picked if picked else _ABSENT
    if isinstance(value, list):
        if not value and in_list:
            # Inside a list element an empty list has nothing under it (OrderDesk sends an empty
            # map as []), so the element lacks the path; showing [] would keep the outer list.
            return _ABSENT
        # A path through a list applies to each object in it (order_items.name); positions are
        # kept, so order_items[1] of the selection is order_items[1] of the order.
        projected_items = [_project(item, tree, in_list=True) for item in value]
        if value and all(item is _ABSENT for item in projected_items):
            return _ABSENT
        return [{} if item is _ABSENT else item for item in projected_items]
    return _ABSENT


def select_fields(order: Order, tree: FieldTree, *, fingerprint: bool = True) -> dict[str, Any]:
    """Only the requested fields of the order (absent paths left out), plus id and fingerprint."""
    picked = _project(order.doc, tree)
    out: dict[str, Any] = {"id": order.id}
    if isinstance(picked, dict):
        out.update({key: value for key, value in picked.items() if key != "id"})
    if fingerprint:
        out["fingerprint"] = order.fingerprint
    return out
