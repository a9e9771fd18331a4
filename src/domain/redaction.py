"""What must never be written down: card data, the store's API key and anything shaped like one.

Pure helpers used by the audit records (:mod:`~orderdesk_mcp.domain.use_cases._audit`), the
idempotency records of creates and notes, and every error that carries OrderDesk's own words
(:func:`~orderdesk_mcp.domain.errors.safe_upstream_text`).
"""

from __future__ import annotations

import functools
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
    "redact_card_text",
    "redact_field_change",
    "redact_text",
]

REDACTED = "[redacted]"
CARD_KEYS = frozenset({
    "cc_number", "cc_exp", "cc_cvv", "cvv", "card_number", "cvv2", "cvc", "cvc2", "csc", "card_cvv",
    "card_cvc", "security_code", "card_security_code", "credit_card_number", "card_num", "cc_num",
    "card_exp", "card_expiry",
})  # fmt: skip
# Order fields that say nothing about a person: a masked audit log keeps their values, so an
# operator can still see which order was made or moved, and to what state.
NON_PERSONAL_FIELDS = frozenset({
    "source_id", "source_name", "folder_id", "payment_status", "payment_type", "shipping_method",
    "tag_color", "tag_name",
})  # fmt: skip
# A key is compared without case, spaces, underscores, dashes or dots ("Card Security Code" is
# "cardsecuritycode"): listed, holding a verification-code word, or card/cc + number/expiry words.
_CARD_KEY_WORDS = frozenset(re.sub(r"[\W_]+", "", k) for k in CARD_KEYS)
_CARD_KEY_SHAPE = re.compile(
    r"cvv|cvc|securitycode|^(?:credit)?(?:card|cc)(?:num(?:ber)?|no|exp\w*|verification\w*)$"
)
# Digit groups as people type them: joined by whitespace of any kind (a no-break space, a
# doubled space, up to three) or by one dash, dot or slash. A run is only ever searched for
# card-shaped windows of whole groups (see _card_shaped), never inside a group.
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]+(?:(?:\s{1,3}|[-./])[0-9]+)*(?![0-9])")
_GROUP = re.compile(r"[0-9]+")
_MAX_WINDOW_GROUPS = 5  # 4-4-4-4-3, the most groups a card number is typed in
_MAX_CARD_DIGITS = 19
# The first digit of the payment cards an order carries (Mastercard 2 and 5, Amex, Diners and JCB 3,
# Visa 4, Discover and UnionPay 6). A card number in text must start with one; tracking numbers
# (USPS 92-95) and most barcodes do not, nor do airline and fuel cards (1, 7, 8).
_CARD_FIRST_DIGITS = frozenset("23456")
_VERIFICATION_CODE = re.compile(r"(?i)\b(cvv2?|cvc2?|csc|security\s+code)([\s:#=.-]{0,3})[0-9]{3,4}\b")
# A long run of letters and digits with both in it: OrderDesk keys are ~50 such characters.
_KEY_SHAPED = re.compile(
    r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{24,}"
)


def is_card_key(name: object) -> bool:
    """Whether a field (or the last part of a dotted path) is named like card data.

    Case, spaces, underscores and dashes do not matter: ``CVV2``, ``Card Security Code``,
    ``card_cvv``, ``ccNumber`` all are; ``card_message`` and ``order_number`` are not.
    """
    if not isinstance(name, str):
        return False
    word = re.sub(r"[\W_]+", "", name.rsplit(".", 1)[-1].lower())
    return word in _CARD_KEY_WORDS or _CARD_KEY_SHAPE.search(word) is not None


def _is_card_digits(digits: str) -> bool:
    """13 to 19 ASCII digits that pass the Luhn check."""
    return 13 <= len(digits) <= _MAX_CARD_DIGITS and _luhn_sum(digits, doubled=False) % 10 == 0


def looks_like_card_number(value: object) -> bool:
    """13 to 19 digits (spaces, dashes and dots ignored) that start 2 to 6, as payment cards do,
    and pass the Luhn check.

    An integer (not a bool) is judged by its digits; so is a float holding a whole number. (A
    millisecond timestamp starts with 1: about 1 in 10 passed the Luhn check and was redacted.)
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        if not value.is_integer():
            return False
        value = int(value)
    if isinstance(value, int):
        if abs(value) >= 10**_MAX_CARD_DIGITS:  # also spares str() of a huge int, which raises
            return False
        digits = str(abs(value))
    elif isinstance(value, str):
        digits = re.sub(r"[ .-]", "", value.strip())
        if not (digits.isascii() and digits.isdigit()):
            return False
    else:
        return False
    return digits[:1] in _CARD_FIRST_DIGITS and _is_card_digits(digits)


def _breaks(lengths: tuple[int, ...]) -> frozenset[int]:
    """Where a window's groups break, counted in digits from its start (4-4-4-4: 4, 8 and 12)."""
    total, breaks = 0, set()
    for n in lengths[:-1]:
        total += n
        breaks.add(total)
    return frozenset(breaks)


_FOURS = frozenset({4, 8, 12, 16})


@functools.lru_cache(maxsize=4096)  # a few shapes come back again and again in a long run
def _card_shaped(lengths: tuple[int, ...]) -> bool:
    """Group lengths as a card number is typed: one block of 13 to 19 digits; 13 to 16 digits
    broken only every fourth digit (4-4-4-4, 4-4-4-1) with any of those spaces missed (4-8-4, 8-8,
    12-4); Amex's 4-6-5 with either space missed (10-5, 4-11); Diners' 4-6-4 and the 17 to 19 digit
    4-4-4-4-1..3 exactly as printed.

    Money amounts (3-2-2-2), ids (9-9, 7-7), a phone number and its extension (10-4), a 12-digit
    tracking number and a ZIP code (12-5) and shifted breaks (6-10) are not.
    """
    total = sum(lengths)
    if not 13 <= total <= _MAX_CARD_DIGITS:
        return False
    breaks = _breaks(lengths)
    if not breaks:
        return True
    if total <= 16 and breaks <= _FOURS:
        return True
    if total == 15 and breaks <= {4, 10}:  # Amex
        return True
    return lengths == (4, 6, 4) or (total > 16 and breaks == _FOURS)


def _luhn_sum(group: str, *, doubled: bool) -> int:
    """The Luhn sum of ``group``'s digits, its last digit doubled or not (then every other one)."""
    total = 0
    for n, ch in enumerate(reversed(group)):
        d = ord(ch) - 48
        if (n % 2 == 1) != doubled:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total


def _window_passes(groups: list[str], sums: list[tuple[int, int] | None], first: int, stop: int) -> bool:
    """Whether groups ``first`` to ``stop`` (excluded), read as one number, pass the Luhn check."""
    total, doubled = 0, False
    for i in range(stop - 1, first - 1, -1):
        pair = sums[i]
        if pair is None:
            pair = sums[i] = (_luhn_sum(groups[i], doubled=False), _luhn_sum(groups[i], doubled=True))
        total += pair[doubled]
        doubled ^= len(groups[i]) % 2 == 1
    return total % 10 == 0


def _card_in_run(match: re.Match[str]) -> str:
    """A run of digit groups, of any length, with every card number in it as ``[redacted]``.

    Every window of up to five consecutive groups that is card-shaped (:func:`_card_shaped`),
    starts as a payment card does (2 to 6) and passes the Luhn check is redacted with the
    separators between its groups; other groups (an expiry like "0227" or "02/27", a CVV, a ZIP
    code, an order number) stay, and overlapping windows are redacted as one. A block of more than
    19 digits is never searched inside, and each group starts at most five windows, so a run is
    scanned in linear time.
    """
    run = match.group(0)
    spans = [(g.start(), g.end()) for g in _GROUP.finditer(run)]
    groups = [run[a:b] for a, b in spans]
    lengths = tuple(map(len, groups))
    # Each group's Luhn sum with its last digit doubled or not: a window's check is then the sum
    # of at most five of them, so a long run costs a pass over its digits, not one per window.
    sums: list[tuple[int, int] | None] = [None] * len(groups)  # filled when a window needs them
    covered = [False] * len(groups)
    for first in range(len(groups)):
        if groups[first][0] not in _CARD_FIRST_DIGITS:
            continue
        digits = 0
        for stop in range(first + 1, min(first + _MAX_WINDOW_GROUPS, len(groups)) + 1):
            digits += lengths[stop - 1]
            if digits > _MAX_CARD_DIGITS:
                break
            if (
                digits >= 13
                and _card_shaped(lengths[first:stop])
                and _window_passes(groups, sums, first, stop)
            ):
                covered[first:stop] = [True] * (stop - first)
    if not any(covered):
        return run
    parts: list[str] = []
    end = 0  # of the text already taken into parts
    for i, (a, b) in enumerate(spans):
        if not covered[i]:
            continue
        if i == 0 or not covered[i - 1]:
            parts += [run[end:a], REDACTED]
        end = b
    return "".join(parts) + run[end:]


def redact_card_numbers(text: str) -> str:
    """``text`` with every card number in it as ``[redacted]``: 13 to 19 digits starting 2 to 6 and
    passing the Luhn check, grouped as :func:`_card_shaped` says by whitespace, dashes, dots or
    slashes, even with other digit groups (an expiry, a CVV, another number) typed beside them."""
    return _DIGIT_RUN.sub(_card_in_run, text)


def redact_card_text(text: str) -> str:
    """``text`` without card numbers, nor the digits of a verification code (``cvv 737``)."""
    return _VERIFICATION_CODE.sub(rf"\1\2{REDACTED}", redact_card_numbers(text))


def redact_card_data(value: Any) -> Any:
    """``value`` (plain builtins) with no card data left, at any depth.

    Card-named keys hold ``[redacted]``; every string (keys included) goes through
    :func:`redact_card_text`; numbers that look like card numbers become ``[redacted]``. A string
    is judged by how its digits are grouped, as in any text: "129.99 45.00 12.50" is no card
    number even when its 13 digits pass the Luhn check.
    """
    if isinstance(value, Mapping):
        return {
            _redacted_key(k): REDACTED if is_card_key(k) else redact_card_data(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_card_data(v) for v in value]
    if isinstance(value, str):
        return redact_card_text(value)
    if looks_like_card_number(value):
        return REDACTED
    return value


def _redacted_key(key: object) -> object:
    """A mapping key without card data: text redacted, a number that is a card number replaced."""
    if isinstance(key, str):
        return redact_card_text(key)
    return REDACTED if looks_like_card_number(key) else key


def redact_field_change(field: str, before: Any, after: Any) -> tuple[str, Any, Any]:
    """One field-level change with no card data: a card-named field keeps only whether it was set."""
    if is_card_key(field):
        return (
            redact_card_text(field),
            None if before is None else REDACTED,
            None if after is None else REDACTED,
        )
    return redact_card_text(field), redact_card_data(before), redact_card_data(after)


def redact_text(text: str, *, secrets: Iterable[str] = ()) -> str:
    """``text`` without the given secrets, anything key-shaped, card numbers or verification codes."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, REDACTED)
    text = _KEY_SHAPED.sub(REDACTED, text)
    return redact_card_text(text)
