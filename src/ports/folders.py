"""The folder directory port: a store's folders, from OrderDesk's store settings (``GET /store``)."""

from __future__ import annotations

from typing import Protocol

from orderdesk_mcp.domain.folders import Folder
from orderdesk_mcp.domain.order import StoreRef

__all__ = ["FolderDirectory"]


class FolderDirectory(Protocol):
    async def folders(self, store: StoreRef) -> tuple[Folder, ...]:
        """Return the store's folders in OrderDesk's order.

        Raises: AuthenticationFailed, CredentialsMissing, RateLimited, UpstreamUnavailable,
        UpstreamRejected.
        """
        ...
