"""Tenants and their OrderDesk stores in an encrypted SQLite file: the embedded multi-tenant store.

API keys are sealed with AES-256-GCM under a versioned master key (see
:mod:`orderdesk_mcp.adapters.key_sealing`), bound to their row by the associated data, so a
ciphertext copied to another row fails to decrypt. Tenants hold the SHA-256 of a random 256-bit
bearer token (a fast hash suffices for that much entropy); the token is shown once and never
stored. A revoked tenant neither authenticates nor sees its stores. The ``default`` tenant (the
one stdio serves) exists without being added; adding it gives it a token for HTTP.

The port methods run sqlite3 in a worker thread; the management methods (used by the CLI,
inherited from :mod:`orderdesk_mcp.adapters._sqlite_credential_admin`) are synchronous; the
schema and the statements both share are in ``_sqlite_credential_schema``. Decryption happens
only in :meth:`SqliteCredentialStore.api_key`, and no clear key is ever logged, listed or put
in an exception.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Self

import anyio.to_thread

from orderdesk_mcp.adapters._sqlite_credential_admin import SqliteCredentialAdmin
from orderdesk_mcp.adapters._sqlite_credential_schema import (
    SCHEMA,
    SEALED,
    hash_token,
    sealed,
    tenant_active,
    utc_now,
)
from orderdesk_mcp.adapters.credential_admin import CredentialAdminError, StoreRow, TenantRow
from orderdesk_mcp.adapters.key_sealing import SealBroken, Sealed, unseal
from orderdesk_mcp.adapters.keyring import MASTER_KEY_ENV, Keyring, KeyringError
from orderdesk_mcp.adapters.sqlite_file import PrivateSqlite
from orderdesk_mcp.domain.errors import CredentialsMissing
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.tenancy import StoreAccess

__all__ = ["CredentialAdminError", "CredentialsUnreadable", "SqliteCredentialStore", "StoreRow", "TenantRow"]

log = logging.getLogger(__name__)
_DAMAGED_ADVICE = (
    "restore it from a backup, or move it aside and add the tenants and stores again "
    "(orderdesk-mcp tenants add, orderdesk-mcp stores add)"
)


class CredentialsUnreadable(CredentialsMissing):
    """A key is stored for the store but does not decrypt (retired master key or a tampered row).

    Args:
        store_id: the store whose row does not decrypt.
        missing_version: the master key version the row names when the keyring lacks it (after
            re-reading the key file); None when the version is there but the row does not open.
        file_backed: whether the keys come from ``master.key`` (else ``ORDERDESK_MASTER_KEY``).
    """

    def __init__(
        self, store_id: str, *, missing_version: int | None = None, file_backed: bool = True
    ) -> None:
        super().__init__(store_id)
        head = f"The stored OrderDesk API key for store {store_id}"
        if missing_version is None:
            self.message = (
                f"{head} cannot be decrypted (wrong or retired master key, or a tampered row); "
                "add it again with `orderdesk-mcp stores add --replace`."
            )
        elif file_backed:
            self.message = (
                f"{head} is sealed with master key version {missing_version}, which the master key file "
                "does not have (retired, or the file was replaced); put that version back in the file, "
                "or add the key again with `orderdesk-mcp stores add --replace`."
            )
        else:
            # The environment of a running process cannot change: only a restart brings the version in.
            self.message = (
                f"{head} is sealed with master key version {missing_version}, which this server's "
                f"ORDERDESK_MASTER_KEY does not have; restart the server with ORDERDESK_MASTER_KEY holding "
                f"version {missing_version} (the value `orderdesk-mcp keys rotate` ran with)."
            )
        self.args = (self.message,)


class SqliteCredentialStore(SqliteCredentialAdmin):
    """The :class:`~orderdesk_mcp.ports.credentials.CredentialStore` on an encrypted SQLite file.

    Args:
        path: the database file; created with mode 0600 (its directory 0700) when missing.
        keyring: the master keys; new rows use ``keyring.current_version``.
        now: ISO-8601 timestamps for tenant records.
    """

    def __init__(self, *, path: Path, keyring: Keyring, now: Callable[[], str] = utc_now) -> None:
        self._db = PrivateSqlite(path, SCHEMA, advice=_DAMAGED_ADVICE)
        self._keyring = keyring
        self._now = now

    def __repr__(self) -> str:
        return f"SqliteCredentialStore(path={self._db.path})"

    def __enter__(self) -> Self:
        self._db.open()
        return self

    def __exit__(self, *_: object) -> None:
        self._db.close()

    async def __aenter__(self) -> Self:
        await anyio.to_thread.run_sync(self._db.open)
        return self

    async def __aexit__(self, *_: object) -> None:
        self._db.close()

    # -- the port ----------------------------------------------------------------------------

    async def stores(self, tenant: str) -> tuple[StoreAccess, ...]:
        """The tenant's stores (no secrets); none for an unknown or revoked tenant."""
        return await anyio.to_thread.run_sync(self._stores, tenant)

    async def api_key(self, store: StoreRef) -> str:
        """The clear API key of ``store``, only ever for its own tenant.

        Raises:
            CredentialsMissing: the tenant has no such store (or is revoked);
                :class:`CredentialsUnreadable` (a subclass) when the row does not decrypt.
        """
        return await anyio.to_thread.run_sync(self._api_key, store)

    async def authenticate(self, token: str) -> str | None:
        """The active tenant whose token this is, compared in constant time against every hash."""
        return await anyio.to_thread.run_sync(self._authenticate, token)

    async def check_keys(self) -> None:
        """For readiness: every master key version the stored keys use opens at least one of them.

        A replica with a wrong or missing master key would fail every call, so it must not look
        ready; one tampered row among others of its version does not make it unready. The keys
        are opened here, in the adapter, and dropped. Raises: CredentialsUnreadable.
        """
        await anyio.to_thread.run_sync(self._check_keys)

    def _stores(self, tenant: str) -> tuple[StoreAccess, ...]:
        if not tenant_active(self._db, tenant):
            return ()
        rows = self._db.rows(
            "SELECT store_id, alias, read_only FROM stores WHERE tenant = ? ORDER BY store_id", (tenant,)
        )
        return tuple(
            StoreAccess(ref=StoreRef(tenant=tenant, store_id=str(sid)), alias=str(alias), read_only=bool(ro))
            for sid, alias, ro in rows
        )

    def _api_key(self, store: StoreRef) -> str:
        active = tenant_active(self._db, store.tenant)
        row = self._db.one(SEALED, (store.tenant, store.store_id)) if active else None
        if row is None:
            raise CredentialsMissing(store.store_id)
        box = sealed(row)
        key = self._opened(store, box)
        # A `keys rotate` in another process may have sealed the row under a version (or a key file)
        # this process has not loaded yet: re-read master.key once and try again before giving up.
        if key is None and self._reload_keyring():
            key = self._opened(store, box)
        if key is not None:
            return key
        log.warning(
            "the stored API key of tenant %s store %s does not decrypt (sealed with master key version %d; "
            "loaded versions %s from %s)",
            store.tenant,
            store.store_id,
            box.key_version,
            self._keyring.versions,
            self._keyring.path or MASTER_KEY_ENV,
        )
        raise self._unreadable(store.store_id, box.key_version) from None

    def _check_keys(self) -> None:
        by_version: dict[int, list[tuple[StoreRef, Sealed]]] = {}
        for tenant, store_id, *box in self._db.rows(
            "SELECT tenant, store_id, key_version, nonce, ciphertext FROM stores"
        ):
            sealed_box = sealed(tuple(box))
            ref = StoreRef(tenant=str(tenant), store_id=str(store_id))
            by_version.setdefault(sealed_box.key_version, []).append((ref, sealed_box))
        for version, rows in sorted(by_version.items()):
            if any(self._opened(ref, box) is not None for ref, box in rows):
                continue
            # As for a call: another process may have rotated; re-read master.key once and retry.
            if not (self._reload_keyring() and any(self._opened(ref, box) is not None for ref, box in rows)):
                raise self._unreadable(rows[0][0].store_id, version)

    def _opened(self, store: StoreRef, box: Sealed) -> str | None:
        """The clear key in ``box``, or None when the loaded master keys do not open it."""
        try:
            return unseal(self._keyring, tenant=store.tenant, store_id=store.store_id, sealed=box)
        except SealBroken:
            return None

    def _unreadable(self, store_id: str, version: int) -> CredentialsUnreadable:
        """The error for a row sealed with ``version`` that does not open (naming a missing version)."""
        missing = None if version in self._keyring.versions else version
        return CredentialsUnreadable(store_id, missing_version=missing, file_backed=self._keyring.file_backed)

    def _reload_keyring(self) -> bool:
        try:
            return self._keyring.reload()
        except KeyringError as exc:  # say why in the log; the call fails as unreadable below
            log.warning("could not re-read the master key file: %s", exc)
            return False

    def _authenticate(self, token: str) -> str | None:
        candidate = hash_token(token).encode()
        found: str | None = None
        for name, token_hash in self._db.rows("SELECT name, token_hash FROM tenants WHERE revoked IS NULL"):
            # No early exit: the time taken does not depend on which row (if any) matches.
            if hmac.compare_digest(candidate, str(token_hash).encode()):
                found = str(name)
        return found
