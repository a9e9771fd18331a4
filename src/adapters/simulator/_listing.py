"""``GET /orders``: parameter parsing, filters, sorting and paging, as OrderDesk documents them.

Choices where the docs are silent (ORDERDESK_API §8): ``limit`` above 500 (or below 1) is a
422, never clamped, so a client bug is loud; dates are UTC and must be ``YYYY-MM-DD`` or
``YYYY-MM-DD HH:MM:SS`` (a bare date covers the whole day); unknown ``order_by`` or ``order``
values and non-numeric ``folder_id`` entries are 422s; an offset past the end is an empty page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from orderdesk_mcp.adapters.simulator._rules import SimError, number

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "SORTABLE", "select"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
SORTABLE = ("date_added", "date_updated", "id", "source_id", "email", "order_total", "shipping_last_name")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?")
_RANGES = {  # parameter -> (document field, True for a lower bound)
    "search_start_date": ("date_added", True),
    "search_end_date": ("date_added", False),
    "modified_start_date": ("date_updated", True),
    "modified_end_date": ("date_updated", False),
}
_EXACT = ("source_id", "source_name", "email")


def _whole(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit():
        raise SimError(422, f"{name} must be a whole number of 0 or more")
    return int(raw)


def _is_date(raw: str) -> bool:
    if not _DATE.fullmatch(raw):
        return False
    try:
        datetime.strptime(raw, "%Y-%m-%d %H:%M:%S" if len(raw) > 10 else "%Y-%m-%d")
    except ValueError:  # 2026-02-30, 24:00:00
        return False
    return True


def _bound(name: str, raw: str, lower: bool) -> str:
    if not _is_date(raw):
        raise SimError(422, f"{name} must be a UTC date as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS")
    if len(raw) == 10:
        return raw + (" 00:00:00" if lower else " 23:59:59")
    return raw


def _folder_ids(raw: str) -> set[int]:
    parts = [p.strip() for p in raw.split(",")]
    if not all(p.isdigit() for p in parts):
        raise SimError(422, "folder_id must be a folder id or a comma-separated list of folder ids")
    return {int(p) for p in parts}


def _id_key(value: object) -> tuple[int, str]:
    text = str(value)
    return len(text), text  # digit strings sort numerically without int() on hostile ids


def _sort_key(doc: Mapping[str, Any], order_by: str) -> Any:
    if order_by == "id":
        return _id_key(doc.get("id", ""))
    if order_by == "order_total":
        return number(doc.get("order_total"))
    if order_by == "shipping_last_name":
        shipping = doc.get("shipping")
        return str(shipping.get("last_name", "")) if isinstance(shipping, dict) else ""
    return str(doc.get(order_by, ""))


def select(
    docs: list[dict[str, Any]], folders: Mapping[int, str], params: Mapping[str, str]
) -> tuple[int, list[dict[str, Any]], int, int]:
    """(total matching, the page, limit, offset) for ``params``; the page holds the stored dicts.

    Raises:
        SimError: 422 for a parameter OrderDesk would not accept (see the module docstring).
    """
    limit = _whole(params, "limit", DEFAULT_LIMIT)
    offset = _whole(params, "offset", 0)
    if not 1 <= limit <= MAX_LIMIT:
        raise SimError(422, f"limit must be between 1 and {MAX_LIMIT}")
    order_by = params.get("order_by", "date_added")
    if order_by not in SORTABLE:
        raise SimError(422, f"order_by must be one of: {', '.join(SORTABLE)}")
    direction = params.get("order", "desc").lower()
    if direction not in ("asc", "desc"):
        raise SimError(422, "order must be asc or desc")
    wanted_folders = _folder_ids(params["folder_id"]) if "folder_id" in params else None
    folder_name = params.get("folder_name")
    ranges = [
        (field, lower, _bound(name, params[name], lower))
        for name, (field, lower) in _RANGES.items()
        if name in params
    ]

    def matches(doc: Mapping[str, Any]) -> bool:
        folder = doc.get("folder_id")
        if wanted_folders is not None and folder not in wanted_folders:
            return False
        if folder_name is not None and (not isinstance(folder, int) or folders.get(folder) != folder_name):
            return False
        if any(key in params and str(doc.get(key, "")) != params[key] for key in _EXACT):
            return False
        for field, lower, bound in ranges:
            value = str(doc.get(field, ""))
            if (value < bound) if lower else (value > bound):
                return False
        return True

    found = [d for d in docs if matches(d)]
    found.sort(key=lambda d: (_sort_key(d, order_by), _id_key(d.get("id", ""))), reverse=direction == "desc")
    return len(found), found[offset : offset + limit], limit, offset
