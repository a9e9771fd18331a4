"""Tenants and their OrderDesk stores in an encrypted SQLite file: the embedded multi-tenant store.

API keys are sealed with AES-256-GCM under a versioned master key (see
:mod:`orderdesk_mcp.adapters.key_sealing`), bound to their row by the associated data, so a
ciphertext copied to another row fails to decrypt. Tenants hold the SHA-256 of a random 256-bit
bearer token (a fast hash suffices for that much entropy); the token is shown once and never
stored. A revoked tenant neither authenticates nor sees its stores. The ``default`` tenant (the
one stdio serves) exists without being added; adding it gives it a token for HTTP.

The port methods run sqlite3 in a worker thread; the management methods (used by the CLI)
are synchronous. Decryption happens only in :meth:`SqliteCredentialStore.api_key`, and no
clear key is ever logged, listed or put in an exception.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import anyio.to_thread

from orderdesk_mcp.adapters.credential_admin import (
    CredentialAdminError,
    StoreRow,
    TenantRow,
    check_alias,
    check_store_id,
    check_tenant,
)
from orderdesk_mcp.adapters.key_sealing import SealBroken, Sealed, seal, unseal
from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.adapters.sqlite_file import PrivateSqlite
from orderdesk_mcp.domain.errors import CredentialsMissing
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.tenancy import DEFAULT_TENANT, StoreAccess

__all__ = ["CredentialAdminError", "CredentialsUnreadable", "SqliteCredentialStore", "StoreRow", "TenantRow"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    name TEXT PRIMARY KEY, token_hash TEXT NOT NULL, created TEXT NOT NULL, revoked TEXT
);
CREATE TABLE IF NOT EXISTS stores (
    tenant TEXT NOT NULL, store_id TEXT NOT NULL, alias TEXT NOT NULL DEFAULT '',
    read_only INTEGER NOT NULL DEFAULT 0, key_version INTEGER NOT NULL,
    nonce BLOB NOT NULL, ciphertext BLOB NOT NULL, PRIMARY KEY (tenant, store_id)
);
"""
_SEALED = "SELECT key_version, nonce, ciphertext FROM stores WHERE tenant = ? AND store_id = ?"
_UPSERT = (
    "INSERT OR REPLACE INTO stores (tenant, store_id, alias, read_only, key_version, nonce, ciphertext) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_ALIAS_CLASH = "SELECT store_id FROM stores WHERE tenant = ? AND alias = ? AND alias != '' AND store_id != ?"
_BY_ID_OR_ALIAS = (
    "SELECT store_id FROM stores WHERE tenant = ? AND (store_id = ? OR (alias = ? AND alias != ''))"
)
_RESEAL = "UPDATE stores SET key_version = ?, nonce = ?, ciphertext = ? WHERE tenant = ? AND store_id = ?"
_TENANTS = (
    "SELECT t.name, t.created, t.revoked, (SELECT COUNT(*) FROM stores s WHERE s.tenant = t.name) "
    "FROM tenants t ORDER BY t.name"
)


class CredentialsUnreadable(CredentialsMissing):
    """A key is stored for the store but does not decrypt (retired master key or a tampered row)."""

    def __init__(self, store_id: str) -> None:
        super().__init__(store_id)
        self.message = (
            f"The stored OrderDesk API key for store {store_id} cannot be decrypted (wrong or retired "
            "master key, or a tampered row); add it again with `orderdesk-mcp stores add --replace`."
        )
        self.args = (self.message,)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _sealed(row: tuple[Any, ...]) -> Sealed:
    version, nonce, ciphertext = row
    return Sealed(key_version=int(version), nonce=bytes(nonce), ciphertext=bytes(ciphertext))


class SqliteCredentialStore:
    """The :class:`~orderdesk_mcp.ports.credentials.CredentialStore` on an encrypted SQLite file.

    Args:
        path: the database file; created with mode 0600 (its directory 0700) when missing.
        keyring: the master keys; new rows use ``keyring.current_version``.
        now: ISO-8601 timestamps for tenant records.
    """

    def __init__(self, *, path: Path, keyring: Keyring, now: Callable[[], str] = _utc_now) -> None:
        self._db = PrivateSqlite(path, _SCHEMA)
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

    def _active(self, tenant: str) -> bool:
        row = self._db.one("SELECT revoked FROM tenants WHERE name = ?", (tenant,))
        return row[0] is None if row is not None else tenant == DEFAULT_TENANT

    def _stores(self, tenant: str) -> tuple[StoreAccess, ...]:
        if not self._active(tenant):
            return ()
        rows = self._db.rows(
            "SELECT store_id, alias, read_only FROM stores WHERE tenant = ? ORDER BY store_id", (tenant,)
        )
        return tuple(
            StoreAccess(ref=StoreRef(tenant=tenant, store_id=str(sid)), alias=str(alias), read_only=bool(ro))
            for sid, alias, ro in rows
        )

    def _api_key(self, store: StoreRef) -> str:
        row = self._db.one(_SEALED, (store.tenant, store.store_id)) if self._active(store.tenant) else None
        if row is None:
            raise CredentialsMissing(store.store_id)
        try:
            return unseal(self._keyring, tenant=store.tenant, store_id=store.store_id, sealed=_sealed(row))
        except SealBroken:
            log.warning(
                "the stored API key of tenant %s store %s does not decrypt", store.tenant, store.store_id
            )
            raise CredentialsUnreadable(store.store_id) from None

    def _authenticate(self, token: str) -> str | None:
        candidate = _hash_token(token).encode()
        found: str | None = None
        for name, token_hash in self._db.rows("SELECT name, token_hash FROM tenants WHERE revoked IS NULL"):
            # No early exit: the time taken does not depend on which row (if any) matches.
            if hmac.compare_digest(candidate, str(token_hash).encode()):
                found = str(name)
        return found

    # -- management (CLI) --------------------------------------------------------------------

    def add_tenant(self, name: str) -> str:
        """Create ``name``; returns its bearer token, the only time it is available.

        Raises:
            CredentialAdminError: a bad name, or the tenant exists.
        """
        check_tenant(name)
        token = secrets.token_urlsafe(32)
        with self._db.transaction():
            if self._db.one("SELECT 1 FROM tenants WHERE name = ?", (name,)) is not None:
                raise CredentialAdminError(f"tenant {name!r} already exists")
            self._db.run(
                "INSERT INTO tenants VALUES (?, ?, ?, NULL)", (name, _hash_token(token), self._now())
            )
        log.info("added tenant %s", name)
        return token

    def list_tenants(self) -> list[TenantRow]:
        return [
            TenantRow(name=str(n), created=str(c), revoked=None if r is None else str(r), stores=int(k))
            for n, c, r, k in self._db.rows(_TENANTS)
        ]

    def revoke_tenant(self, name: str) -> None:
        """Stop ``name``'s token working and hide its stores (rows are kept).

        Raises:
            CredentialAdminError: no active tenant by that name.
        """
        changed = self._db.run(
            "UPDATE tenants SET revoked = ? WHERE name = ? AND revoked IS NULL", (self._now(), name)
        )
        if not changed:
            raise CredentialAdminError(f"no active tenant named {name!r}")
        log.info("revoked tenant %s", name)

    def add_store(
        self,
        tenant: str,
        store_id: str,
        api_key: str,
        *,
        alias: str = "",
        read_only: bool = False,
        replace: bool = False,
    ) -> None:
        """Keep ``api_key`` for the tenant's store, sealed under the current master key.

        Raises:
            CredentialAdminError: bad input, an unknown tenant, a taken alias, or an existing
                store (unless ``replace``).
        """
        check_store_id(store_id)
        check_alias(alias)
        if not api_key.strip():
            raise CredentialAdminError("the API key is empty")
        version = self._keyring.current_version
        box = seal(
            self._keyring, tenant=tenant, store_id=store_id, api_key=api_key.strip(), key_version=version
        )
        with self._db.transaction():
            if not self._active(tenant):
                raise CredentialAdminError(f"no active tenant named {tenant!r}; add it with `tenants add`")
            clash = self._db.one(_ALIAS_CLASH, (tenant, alias, store_id))
            if clash is not None:
                raise CredentialAdminError(
                    f"alias {alias!r} already names store {clash[0]} of tenant {tenant}"
                )
            if not replace and self._db.one(_SEALED, (tenant, store_id)) is not None:
                raise CredentialAdminError(
                    f"store {store_id} is already configured for tenant {tenant}; use --replace to change it"
                )
            values = (tenant, store_id, alias, int(read_only), version, box.nonce, box.ciphertext)
            self._db.run(_UPSERT, values)
        log.info("stored the API key of tenant %s store %s (key version %d)", tenant, store_id, version)

    def list_stores(self, tenant: str | None = None) -> list[StoreRow]:
        """Every store (or one tenant's), without keys."""
        where, args = ("WHERE tenant = ?", (tenant,)) if tenant is not None else ("", ())
        rows = self._db.rows(
            f"SELECT tenant, store_id, alias, read_only, key_version FROM stores {where} ORDER BY 1, 2",  # noqa: S608  # fixed fragments
            args,
        )
        return [
            StoreRow(tenant=str(t), store_id=str(s), alias=str(a), read_only=bool(r), key_version=int(v))
            for t, s, a, r, v in rows
        ]

    def remove_store(self, tenant: str, store: str) -> str:
        """Delete the tenant's store named by id or alias; returns its store id.

        Raises:
            CredentialAdminError: the tenant has no such store.
        """
        with self._db.transaction():
            row = self._db.one(_BY_ID_OR_ALIAS, (tenant, store, store))
            if row is None:
                raise CredentialAdminError(f"tenant {tenant} has no store {store!r}")
            self._db.run("DELETE FROM stores WHERE tenant = ? AND store_id = ?", (tenant, row[0]))
        log.info("removed store %s of tenant %s", row[0], tenant)
        return str(row[0])

    def key_versions_in_use(self) -> dict[int, int]:
        """Master key version -> how many stored keys are sealed with it."""
        rows = self._db.rows("SELECT key_version, COUNT(*) FROM stores GROUP BY key_version")
        return {int(v): int(n) for v, n in rows}

    def rotate(self, new_version: int | None = None) -> int:
        """Re-seal every stored key under ``new_version`` (default: the current one), all or nothing.

        Returns:
            How many keys were re-sealed.

        Raises:
            CredentialAdminError: a row does not decrypt (it is named; nothing is changed).
            KeyringError: the target version does not exist.
        """
        target = self._keyring.current_version if new_version is None else new_version
        self._keyring.aesgcm(target)  # fail before touching anything when the target key is missing
        with self._db.transaction():
            rows = self._db.rows("SELECT tenant, store_id, key_version, nonce, ciphertext FROM stores")
            for tenant, store_id, *sealed in rows:
                try:
                    clear = unseal(
                        self._keyring, tenant=tenant, store_id=store_id, sealed=_sealed(tuple(sealed))
                    )
                except SealBroken:
                    raise CredentialAdminError(
                        f"store {store_id} of tenant {tenant} does not decrypt; nothing was re-encrypted "
                        "(remove it or add it again with --replace, then rotate again)"
                    ) from None
                box = seal(self._keyring, tenant=tenant, store_id=store_id, api_key=clear, key_version=target)
                self._db.run(
                    _RESEAL,
                    (target, box.nonce, box.ciphertext, tenant, store_id),
                )
        log.info("re-encrypted %d stored API keys under master key version %d", len(rows), target)
        return len(rows)
