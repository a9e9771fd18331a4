"""Rules and records for managing credentials: names that are safe to store, and secret-free listings.

Tenant names and store ids end up in cache keys, log lines and the AES-GCM associated data
(``|``-separated), so they are restricted to plain characters. Aliases must start with a
letter so one can never be mistaken for a (numeric) OrderDesk store id.
"""

from __future__ import annotations

import re
import unicodedata

import msgspec

__all__ = [
    "CredentialAdminError",
    "StoreRow",
    "TenantRow",
    "check_alias",
    "check_api_key",
    "check_store_id",
    "check_tenant",
    "has_control_character",
]

_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_STORE_ID = re.compile(r"[0-9]{1,20}")
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9 ._-]{0,63}")


class CredentialAdminError(ValueError):
    """A management request cannot be done; the message says why (and never holds a secret)."""


class TenantRow(msgspec.Struct, frozen=True, kw_only=True):
    """One tenant as listed: no token, no hash."""

    name: str
    created: str
    revoked: str | None
    stores: int


class StoreRow(msgspec.Struct, frozen=True, kw_only=True):
    """One store as listed: no key."""

    tenant: str
    store_id: str
    alias: str
    read_only: bool
    key_version: int


def check_tenant(name: str) -> None:
    """Raises: CredentialAdminError unless ``name`` is 1-64 letters, digits, ``.``, ``_`` or ``-``."""
    if not _TENANT.fullmatch(name):
        raise CredentialAdminError(
            "a tenant name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )


def check_store_id(store_id: str) -> None:
    """Raises: CredentialAdminError unless ``store_id`` is OrderDesk's numeric store id."""
    if not _STORE_ID.fullmatch(store_id):
        raise CredentialAdminError("a store id is OrderDesk's numeric store id (digits only)")


def check_alias(alias: str) -> None:
    """Raises: CredentialAdminError unless ``alias`` is empty or a name starting with a letter."""
    if alias and not _ALIAS.fullmatch(alias):
        raise CredentialAdminError(
            "an alias is 1-64 letters, digits, spaces, '.', '_' or '-', starting with a letter"
        )


def has_control_character(text: str) -> bool:
    """True when ``text`` holds a control character (CR, LF, tab, DEL, ...): never part of an API key,
    and refused in an HTTP header, so every call with it would fail."""
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def check_api_key(api_key: str) -> None:
    """Raises: CredentialAdminError for an empty key or one holding a control character.

    An HTTP client refuses a header with CR, LF or other control characters, so such a key
    would be stored fine and then fail every call; the key itself is never put in the message.
    """
    if not api_key.strip():
        raise CredentialAdminError("the API key is empty")
    if has_control_character(api_key.strip()):
        raise CredentialAdminError(
            "the API key contains a control character (a tab or similar); give the key alone, on one line"
        )
