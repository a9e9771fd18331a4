"""What must never be written down: card data, the store's API key and anything shaped like one.

Pure helpers used by the audit records (:mod:`~orderdesk_mcp.domain.use_cases._audit`) and by
every error that carries OrderDesk's own words (:func:`~orderdesk_mcp.domain.errors.safe_upstream_text`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "CARD_KEYS",
    "REDACTED",
    "is_card_key",
    "looks_like_card_number",
    "redact_card_data",
    "redact_card_numbers",
    "redact_text",
]

REDACTED = "[redacted]"
CARD_KEYS = frozenset({"cc_number", "cc_exp", "cc_cvv", "cvv", "card_number"})
# Order fields that say nothing about a person: a masked audit log keeps their values, so an
# operator can still see which order was made or moved, and to what state.
NON_PERSONAL_FIELDS = frozenset({
    "source_id", "source_name", "folder_id", "payment_status", "payment_type", "shipping_method",
    "tag_color", "tag_name",
})  # fmt: skip
# 13 to 19 digits, optionally grouped by single spaces or dashes (how people type card numbers).
_CARD_RUN = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")
# A long run of letters and digits with both in it: OrderDesk keys are ~50 such characters.
_KEY_SHAPED = re.compile(
    r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{24,}"
)


def is_card_key(name: object) -> bool:
    """Whether a field (or the last part of a dotted path) is named like card data, any case."""
    return isinstance(name, str) and name.rsplit(".", 1)[-1].strip().lower() in CARD_KEYS


def _luhn(digits: str) -> bool:
    total = 0
    for n, ch in enumerate(reversed(digits)):
        d = int(ch)
        if n % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def looks_like_card_number(value: object) -> bool:
    """13 to 19 digits (spaces and dashes ignored) that pass the Luhn check."""
    if not isinstance(value, str):
        return False
    digits = value.strip().replace(" ", "").replace("-", "")
    return digits.isascii() and digits.isdigit() and 13 <= len(digits) <= 19 and _luhn(digits)


def redact_card_data(value: Any) -> Any:
    """``value`` with card-named keys (at any depth) and card-number strings as ``[redacted]``."""
    if isinstance(value, Mapping):
        return {k: REDACTED if is_card_key(k) else redact_card_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_card_data(v) for v in value]
    if looks_like_card_number(value):
        return REDACTED
    return value


def _card_in_text(match: re.Match[str]) -> str:
    return REDACTED if looks_like_card_number(match.group(0)) else match.group(0)


def redact_card_numbers(text: str) -> str:
    """``text`` with every run of 13 to 19 digits that passes the Luhn check as ``[redacted]``."""
    return _CARD_RUN.sub(_card_in_text, text)


def redact_text(text: str, *, secrets: Iterable[str] = ()) -> str:
    """``text`` without the given secrets, anything key-shaped, or card numbers."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, REDACTED)
    text = _KEY_SHAPED.sub(REDACTED, text)
    return redact_card_numbers(text)
