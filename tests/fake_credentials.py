"""FakeCredentialStore: tenants, their stores, API keys and bearer tokens in dicts."""

from __future__ import annotations

import hmac

from orderdesk_mcp.domain.errors import CredentialsMissing
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.tenancy import StoreAccess
from orderdesk_mcp.ports.credentials import CredentialStore

__all__ = ["FakeCredentialStore"]


class FakeCredentialStore:
    """Add stores with :meth:`add_store` and tokens with :meth:`add_token`; ``key_reads`` counts
    how often an API key was handed out (the HTTP adapter asks once per request)."""

    def __init__(self) -> None:
        self._stores: dict[str, list[StoreAccess]] = {}
        self._keys: dict[StoreRef, str] = {}
        self._tokens: dict[str, str] = {}
        self.key_reads = 0

    def add_store(
        self, tenant: str, store_id: str, api_key: str, *, alias: str = "", read_only: bool = False
    ) -> StoreRef:
        ref = StoreRef(tenant=tenant, store_id=store_id)
        self._stores.setdefault(tenant, []).append(StoreAccess(ref=ref, alias=alias, read_only=read_only))
        self._keys[ref] = api_key
        return ref

    def add_token(self, tenant: str, token: str) -> None:
        self._tokens[token] = tenant

    async def stores(self, tenant: str) -> tuple[StoreAccess, ...]:
        return tuple(self._stores.get(tenant, ()))

    async def api_key(self, store: StoreRef) -> str:
        key = self._keys.get(store)
        if key is None:
            raise CredentialsMissing(store.store_id)
        self.key_reads += 1
        return key

    async def authenticate(self, token: str) -> str | None:
        for known, tenant in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return tenant
        return None


_credentials: CredentialStore = FakeCredentialStore()
