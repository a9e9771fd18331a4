"""ListFolders: a store's folders, cached per store (folders change rarely; 5 minutes by default).

Folders come from OrderDesk's store settings. Agents list them (``folders_list``), name them
in filters and moves, and see each order's folder name beside its id; all of that reads
through this one cached use case, so resolving a name costs no request most of the time.
"""

from __future__ import annotations

from orderdesk_mcp.domain.cache_keys import store_scope
from orderdesk_mcp.domain.context import record_cache
from orderdesk_mcp.domain.folders import Folder, resolve_folder
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.single_flight import SingleFlight
from orderdesk_mcp.ports.cache import OrderCache
from orderdesk_mcp.ports.folders import FolderDirectory

__all__ = ["FOLDERS_TTL", "ListFolders", "folders_key"]

FOLDERS_TTL = 300.0


def folders_key(store: StoreRef) -> str:
    return f"{store_scope(store)}:folders"


class ListFolders:
    def __init__(
        self,
        *,
        directory: FolderDirectory,
        cache: OrderCache,
        ttl: float = FOLDERS_TTL,
        flights: SingleFlight[tuple[Folder, ...]] | None = None,
    ) -> None:
        self._directory = directory
        self._cache = cache
        self._ttl = ttl
        self._flights: SingleFlight[tuple[Folder, ...]] = flights or SingleFlight()
        # Per store: the last value read from the cache and the folders built from it. Every
        # orders_get and orders_list reads the folders; an unchanged value is compared, not rebuilt.
        self._built: dict[str, tuple[object, tuple[Folder, ...]]] = {}

    async def __call__(self, store: StoreRef) -> tuple[Folder, ...]:
        """Return the store's folders. Raises: the directory's upstream errors (never cached)."""
        key = folders_key(store)
        value = await self._cache.get(key)
        built = self._built.get(key)
        if built is not None and built[0] == value:
            cached: tuple[Folder, ...] | None = built[1]
        else:
            cached = _folders_from_cache(value)
            if cached is not None:
                self._built[key] = (value, cached)
        record_cache("folders", hit=cached is not None)
        if cached is not None:
            return cached
        return await self._flights.run(key, lambda: self._fill(store, key))

    async def resolve(self, store: StoreRef, wanted: str | int) -> Folder:
        """The folder ``wanted`` names (id or case-insensitive name). Raises: UnknownFolder."""
        return resolve_folder(await self(store), wanted)

    async def _fill(self, store: StoreRef, key: str) -> tuple[Folder, ...]:
        folders = await self._directory.folders(store)
        await self._cache.set(key, [[f.id, f.name] for f in folders], ttl=self._ttl)
        return folders


def _folders_from_cache(value: object) -> tuple[Folder, ...] | None:
    if not isinstance(value, list):
        return None
    folders = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 2):
            return None
        ident, name = item
        if not isinstance(ident, int) or not isinstance(name, str):
            return None
        folders.append(Folder(id=ident, name=name))
    return tuple(folders)
