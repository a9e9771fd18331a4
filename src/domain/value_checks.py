"""Checks of single values before anything is sent: body size, control characters, dates, numbers.

Pure; each check names the path of what it refuses, so a caller can list every problem at once.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "DATE_FORMATS",
    "MAX_BODY_BYTES",
    "body_size_problem",
    "control_problems",
    "date_problems",
    "is_date",
    "is_number",
]

MAX_BODY_BYTES = 1_000_000  # a create or update body larger than this is refused before sending
_ALLOWED_CONTROLS = frozenset("\t\n")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2}))?")
DATE_FORMATS = "YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"


def body_size_problem(doc: Mapping[str, Any], *, what: str = "the order's JSON body") -> str | None:
    """Why ``doc`` is too large to send as one JSON body (naming its size), or None."""
    size = len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=str).encode())
    if size <= MAX_BODY_BYTES:
        return None
    return f"{what} would be {size:,} bytes, more than the {MAX_BODY_BYTES:,}-byte limit"


def control_problems(value: object, path: str) -> list[str]:
    """Control characters (other than tab and newline) in any string or key under ``value``."""
    if isinstance(value, str):
        bad = next(
            (ch for ch in value if (ch < " " or "\x7f" <= ch <= "\x9f") and ch not in _ALLOWED_CONTROLS), None
        )
        if bad is None:
            return []
        return [f"{path} contains a control character (U+{ord(bad):04X}); only tab and newline are allowed"]
    if isinstance(value, Mapping):
        problems: list[str] = []
        for key, sub in value.items():
            problems += control_problems(key, f"{path} key") if isinstance(key, str) else []
            problems += control_problems(sub, f"{path}.{key}")
        return problems
    if isinstance(value, list | tuple):
        return [p for n, sub in enumerate(value) for p in control_problems(sub, f"{path}[{n}]")]
    return []


def is_date(value: object) -> bool:
    match = _DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(p or 0) for p in match.groups())
    try:
        datetime.date(year, month, day)
        datetime.time(hour, minute, second)
    except ValueError:
        return False
    return True


def date_problems(value: object, path: str) -> list[str]:
    """Date fields (``date_*`` keys) inside the order's lists that are not a documented format."""
    if isinstance(value, Mapping):
        problems: list[str] = []
        for key, sub in value.items():
            if (
                isinstance(key, str)
                and key.startswith("date_")
                and sub not in (None, "")
                and not is_date(sub)
            ):
                problems.append(f"{path}.{key} must be a date as {DATE_FORMATS}")
            elif isinstance(sub, Mapping | list):
                problems += date_problems(sub, f"{path}.{key}")
        return problems
    if isinstance(value, list):
        return [p for n, sub in enumerate(value) for p in date_problems(sub, f"{path}[{n}]")]
    return []


def is_number(value: object) -> bool:
    """A finite number, or a string of one (OrderDesk sends numbers as strings)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float | str):
        try:
            return math.isfinite(float(value))
        except ValueError:
            return False
    return False
