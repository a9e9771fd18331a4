"""The write-lock port: writes to one resource of one store are serialized.

OrderDesk cannot detect a concurrent write (no version, ETag or 409), so writers going
through this service take the resource's lock from the merge-base read to the end of the
PUT and its verification. Resources are named by the caller: ``"order:123"``,
``"inventory:42"``.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from orderdesk_mcp.domain.order import StoreRef

__all__ = ["WriteLock"]


class WriteLock(Protocol):
    def hold(self, store: StoreRef, resource: str) -> AbstractAsyncContextManager[None]:
        """Hold the lock of ``resource`` in ``store`` for the ``async with`` block.

        Waits at most until the current call's deadline (``domain.context``).

        Raises: WriteInProgress when the lock cannot be had in time.
        """
        ...
