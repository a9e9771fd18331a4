"""Sealing API keys with AES-256-GCM, bound to their row by the associated data.

The associated data is ``orderdesk-mcp/v1|<tenant>|<store_id>|<key_version>``: a ciphertext
copied to another tenant's row, another store or another key version fails authentication
instead of decrypting to someone else's key.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag

from orderdesk_mcp.adapters.keyring import Keyring, KeyringError

__all__ = ["SealBroken", "Sealed", "associated_data", "seal", "unseal"]

_NONCE_BYTES = 12


class SealBroken(Exception):
    """The ciphertext does not open: wrong row, tampered bytes, or a missing key version."""


class Sealed:
    """A nonce, a ciphertext and the master key version that sealed them."""

    __slots__ = ("ciphertext", "key_version", "nonce")

    def __init__(self, *, key_version: int, nonce: bytes, ciphertext: bytes) -> None:
        self.key_version, self.nonce, self.ciphertext = key_version, nonce, ciphertext


def associated_data(tenant: str, store_id: str, key_version: int) -> bytes:
    """The AES-GCM associated data that binds a ciphertext to its row."""
    return f"orderdesk-mcp/v1|{tenant}|{store_id}|{key_version}".encode()


def seal(keyring: Keyring, *, tenant: str, store_id: str, api_key: str, key_version: int) -> Sealed:
    """Encrypt ``api_key`` for the row ``(tenant, store_id)`` under ``key_version``.

    Raises:
        KeyringError: the key version is not available.
    """
    nonce = secrets.token_bytes(_NONCE_BYTES)
    ad = associated_data(tenant, store_id, key_version)
    ciphertext = keyring.aesgcm(key_version).encrypt(nonce, api_key.encode("utf-8"), ad)
    return Sealed(key_version=key_version, nonce=nonce, ciphertext=ciphertext)


def unseal(keyring: Keyring, *, tenant: str, store_id: str, sealed: Sealed) -> str:
    """The clear API key of the row ``(tenant, store_id)``.

    Raises:
        SealBroken: the ciphertext belongs to another row, was altered, or its key was retired.
    """
    ad = associated_data(tenant, store_id, sealed.key_version)
    try:
        clear = keyring.aesgcm(sealed.key_version).decrypt(sealed.nonce, sealed.ciphertext, ad)
    except (InvalidTag, KeyringError):
        raise SealBroken(f"the key of store {store_id} (tenant {tenant}) does not decrypt") from None
    return clear.decode("utf-8")
