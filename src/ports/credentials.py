"""The credential store port: which stores a tenant has, and their API keys."""

from __future__ import annotations

from typing import Protocol

from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.tenancy import StoreAccess

__all__ = ["CredentialStore", "StoreAccess"]


class CredentialStore(Protocol):
    async def stores(self, tenant: str) -> tuple[StoreAccess, ...]:
        """The tenant's stores (no secrets)."""
        ...

    async def api_key(self, store: StoreRef) -> str:
        """The clear API key; only the adapter that calls OrderDesk asks. Raises: CredentialsMissing."""
        ...

    async def authenticate(self, token: str) -> str | None:
        """The tenant whose bearer token this is, or None (constant-time comparison)."""
        ...
