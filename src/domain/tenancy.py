"""Choosing the store a call is about, from the tenant's stores and the caller's selector."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from orderdesk_mcp.domain.errors import NoStoreConfigured, StoreNotFound, StoreSelectionRequired
from orderdesk_mcp.domain.order import StoreRef

__all__ = ["DEFAULT_TENANT", "StoreAccess", "choose_store"]

DEFAULT_TENANT = "default"


class StoreAccess(msgspec.Struct, frozen=True, kw_only=True):
    """A store as its tenant sees it. Never carries the API key."""

    ref: StoreRef
    alias: str = ""
    read_only: bool = False


def choose_store(stores: Sequence[StoreAccess], selector: str | None) -> StoreAccess:
    """Pick by store id or alias; default to the only store.

    Raises: StoreSelectionRequired when there are several and no selector; NoStoreConfigured
    when there are none; StoreNotFound when nothing matches (another tenant's store reads exactly
    like a missing one).
    """
    if selector is None or not selector.strip():
        if len(stores) == 1:
            return stores[0]
        if not stores:
            raise NoStoreConfigured()
        raise StoreSelectionRequired(sorted(s.alias or s.ref.store_id for s in stores))
    wanted = selector.strip()
    for access in stores:
        if wanted in (access.ref.store_id, access.alias):
            return access
    raise StoreNotFound(wanted)
