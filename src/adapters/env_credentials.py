"""One store from the environment (``ORDERDESK_STORE_ID`` / ``ORDERDESK_API_KEY``): what stdio users need.

The store belongs to one tenant (``default`` unless told otherwise); every other tenant sees
no stores. There are no bearer tokens here: :meth:`EnvCredentialStore.authenticate` always
answers None, so an HTTP server on this store needs its own authenticator (or loopback).
The key is held in memory and never appears in a repr, log or message.
"""

from __future__ import annotations

from orderdesk_mcp.adapters._lifespan import NoOpLifespan
from orderdesk_mcp.domain.errors import CredentialsMissing
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.tenancy import DEFAULT_TENANT, StoreAccess

__all__ = ["EnvCredentialStore"]


class EnvCredentialStore(NoOpLifespan):
    """The :class:`~orderdesk_mcp.ports.credentials.CredentialStore` for one configured store.

    Args:
        store_id: OrderDesk's store id.
        api_key: its API key (an empty key reads as not configured).
        tenant: the tenant the store belongs to.
        alias: an optional name the ``store`` tool argument also accepts.
        read_only: refuse writes to this store.
    """

    def __init__(
        self,
        *,
        store_id: str,
        api_key: str,
        tenant: str = DEFAULT_TENANT,
        alias: str = "",
        read_only: bool = False,
    ) -> None:
        self._access = StoreAccess(
            ref=StoreRef(tenant=tenant, store_id=store_id), alias=alias, read_only=read_only
        )
        self._api_key = api_key

    def __repr__(self) -> str:
        return (
            f"EnvCredentialStore(tenant={self._access.ref.tenant!r}, store_id={self._access.ref.store_id!r})"
        )

    async def stores(self, tenant: str) -> tuple[StoreAccess, ...]:
        """The one store for its tenant; nothing for anyone else."""
        return (self._access,) if tenant == self._access.ref.tenant else ()

    async def api_key(self, store: StoreRef) -> str:
        """The key, only for exactly the configured tenant and store.

        Raises:
            CredentialsMissing: any other store or tenant, or an empty key.
        """
        if store != self._access.ref or not self._api_key:
            raise CredentialsMissing(store.store_id)
        return self._api_key

    async def authenticate(self, token: str) -> str | None:
        """Always None: environment credentials carry no bearer tokens."""
        return None
