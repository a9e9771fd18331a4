"""The credential store's SQLite schema, its shared statements and row helpers."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from orderdesk_mcp.adapters.key_sealing import Sealed
from orderdesk_mcp.adapters.sqlite_file import PrivateSqlite
from orderdesk_mcp.domain.tenancy import DEFAULT_TENANT

__all__ = [
    "ALIAS_CLASH",
    "BY_ID_OR_ALIAS",
    "RESEAL",
    "SCHEMA",
    "SEALED",
    "TENANTS",
    "UPSERT",
    "hash_token",
    "sealed",
    "tenant_active",
    "utc_now",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    name TEXT PRIMARY KEY, token_hash TEXT NOT NULL, created TEXT NOT NULL, revoked TEXT
);
CREATE TABLE IF NOT EXISTS stores (
    tenant TEXT NOT NULL, store_id TEXT NOT NULL, alias TEXT NOT NULL DEFAULT '',
    read_only INTEGER NOT NULL DEFAULT 0, key_version INTEGER NOT NULL,
    nonce BLOB NOT NULL, ciphertext BLOB NOT NULL, PRIMARY KEY (tenant, store_id)
);
"""
SEALED = "SELECT key_version, nonce, ciphertext FROM stores WHERE tenant = ? AND store_id = ?"
UPSERT = (
    "INSERT OR REPLACE INTO stores (tenant, store_id, alias, read_only, key_version, nonce, ciphertext) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
ALIAS_CLASH = "SELECT store_id FROM stores WHERE tenant = ? AND alias = ? AND alias != '' AND store_id != ?"
BY_ID_OR_ALIAS = (
    "SELECT store_id FROM stores WHERE tenant = ? AND (store_id = ? OR (alias = ? AND alias != ''))"
)
RESEAL = "UPDATE stores SET key_version = ?, nonce = ?, ciphertext = ? WHERE tenant = ? AND store_id = ?"
TENANTS = (
    "SELECT t.name, t.created, t.revoked, (SELECT COUNT(*) FROM stores s WHERE s.tenant = t.name) "
    "FROM tenants t ORDER BY t.name"
)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sealed(row: tuple[Any, ...]) -> Sealed:
    version, nonce, ciphertext = row
    return Sealed(key_version=int(version), nonce=bytes(nonce), ciphertext=bytes(ciphertext))


def tenant_active(db: PrivateSqlite, tenant: str) -> bool:
    """True for a tenant that exists and is not revoked, and for ``default`` until it is added."""
    row = db.one("SELECT revoked FROM tenants WHERE name = ?", (tenant,))
    return row[0] is None if row is not None else tenant == DEFAULT_TENANT
