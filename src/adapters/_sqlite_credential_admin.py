"""The credential store's management half: the synchronous tenant, store and rotation calls of the CLI."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from orderdesk_mcp.adapters._sqlite_credential_schema import (
    ALIAS_CLASH,
    BY_ID_OR_ALIAS,
    RESEAL,
    SEALED,
    TENANTS,
    UPSERT,
    hash_token,
    sealed,
    tenant_active,
)
from orderdesk_mcp.adapters.credential_admin import (
    CredentialAdminError,
    StoreRow,
    TenantRow,
    check_alias,
    check_api_key,
    check_store_id,
    check_tenant,
)
from orderdesk_mcp.adapters.key_sealing import SealBroken, seal, unseal
from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.adapters.sqlite_file import PrivateSqlite

__all__ = ["SqliteCredentialAdmin"]

# The store's own logger: operators see one source for everything the credential file does.
log = logging.getLogger("orderdesk_mcp.adapters.sqlite_credentials")


class SqliteCredentialAdmin:
    """Management methods of :class:`~orderdesk_mcp.adapters.sqlite_credentials.SqliteCredentialStore`.

    A base class only: the store sets the file, the keyring and the clock in its ``__init__``.
    """

    _db: PrivateSqlite
    _keyring: Keyring
    _now: Callable[[], str]

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
            self._db.run("INSERT INTO tenants VALUES (?, ?, ?, NULL)", (name, hash_token(token), self._now()))
        log.info("added tenant %s", name)
        return token

    def list_tenants(self) -> list[TenantRow]:
        return [
            TenantRow(name=str(n), created=str(c), revoked=None if r is None else str(r), stores=int(k))
            for n, c, r, k in self._db.rows(TENANTS)
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
        check_api_key(api_key)
        version = self._keyring.current_version
        box = seal(
            self._keyring, tenant=tenant, store_id=store_id, api_key=api_key.strip(), key_version=version
        )
        with self._db.transaction():
            if not tenant_active(self._db, tenant):
                raise CredentialAdminError(f"no active tenant named {tenant!r}; add it with `tenants add`")
            clash = self._db.one(ALIAS_CLASH, (tenant, alias, store_id))
            if clash is not None:
                raise CredentialAdminError(
                    f"alias {alias!r} already names store {clash[0]} of tenant {tenant}"
                )
            if not replace and self._db.one(SEALED, (tenant, store_id)) is not None:
                raise CredentialAdminError(
                    f"store {store_id} is already configured for tenant {tenant}; use --replace to change it"
                )
            values = (tenant, store_id, alias, int(read_only), version, box.nonce, box.ciphertext)
            self._db.run(UPSERT, values)
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
            row = self._db.one(BY_ID_OR_ALIAS, (tenant, store, store))
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
            for tenant, store_id, *sealed_row in rows:
                try:
                    clear = unseal(
                        self._keyring, tenant=tenant, store_id=store_id, sealed=sealed(tuple(sealed_row))
                    )
                except SealBroken:
                    raise CredentialAdminError(
                        f"store {store_id} of tenant {tenant} does not decrypt; nothing was re-encrypted "
                        "(remove it or add it again with --replace, then rotate again)"
                    ) from None
                box = seal(self._keyring, tenant=tenant, store_id=store_id, api_key=clear, key_version=target)
                self._db.run(
                    RESEAL,
                    (target, box.nonce, box.ciphertext, tenant, store_id),
                )
        log.info("re-encrypted %d stored API keys under master key version %d", len(rows), target)
        return len(rows)
