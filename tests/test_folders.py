"""Folders: resolving an agent's folder name or id, OrderDesk's folder map, and the cached listing."""

from __future__ import annotations

import pytest

from orderdesk_mcp.adapters._orderdesk_wire import folders_of_store
from orderdesk_mcp.adapters.memory_cache import MemoryOrderCache
from orderdesk_mcp.domain.errors import UnknownFolder, UpstreamUnavailable
from orderdesk_mcp.domain.folders import Folder, folder_name_of, resolve_folder
from orderdesk_mcp.domain.order import StoreRef
from orderdesk_mcp.domain.use_cases.list_folders import ListFolders, folders_key
from tests.fakes import FakeClock

FOLDERS = (Folder(id=21654, name="New"), Folder(id=21655, name="Prepared"), Folder(id=7, name="2024"))
STORE = StoreRef(tenant="t", store_id="1")


@pytest.mark.parametrize("wanted", ["prepared", " PREPARED ", "Prepared", 21655, "21655"])
def test_a_folder_is_found_by_any_case_of_its_name_or_by_its_id(wanted: str | int) -> None:
    assert resolve_folder(FOLDERS, wanted) == Folder(id=21655, name="Prepared")


def test_a_digit_string_that_is_no_id_is_tried_as_a_name() -> None:
    assert resolve_folder((Folder(id=1, name="2024"),), "2024") == Folder(id=1, name="2024")


def test_an_unknown_folder_names_every_folder_of_the_store() -> None:
    with pytest.raises(UnknownFolder) as caught:
        resolve_folder(FOLDERS, "NoSuchFolder")
    assert str(caught.value) == (
        "Folder 'NoSuchFolder' does not exist in this store; its folders are: "
        "New (id 21654), Prepared (id 21655), 2024 (id 7)."
    )


def test_folder_name_of_an_unknown_id_is_none() -> None:
    assert folder_name_of(FOLDERS, 21654) == "New"
    assert folder_name_of(FOLDERS, 99) is None
    assert folder_name_of(FOLDERS, None) is None


def test_orderdesk_folder_map_keeps_its_order_and_skips_entries_that_are_no_folder() -> None:
    body = {"store": {"folders": {"21654": "New", "21655": "Prepared", "x": "Bad", "3": None}}}
    assert folders_of_store(body) == (Folder(id=21654, name="New"), Folder(id=21655, name="Prepared"))


def test_a_folder_array_is_accepted_too() -> None:
    body = {"store": {"folders": [{"id": 5, "name": "New"}, {"id": "6", "name": "Closed"}]}}
    assert folders_of_store(body) == (Folder(id=5, name="New"), Folder(id=6, name="Closed"))


def test_store_settings_without_folders_are_an_upstream_error() -> None:
    with pytest.raises(UpstreamUnavailable):
        folders_of_store({"store": {"id": "1"}})


class _CountingDirectory:
    def __init__(self) -> None:
        self.calls = 0

    async def folders(self, store: StoreRef) -> tuple[Folder, ...]:
        self.calls += 1
        return FOLDERS


@pytest.mark.anyio
async def test_folders_are_read_once_then_served_from_the_cache_until_the_ttl() -> None:
    clock = FakeClock()
    directory = _CountingDirectory()
    folders = ListFolders(directory=directory, cache=MemoryOrderCache(clock=clock), ttl=300)
    assert await folders(STORE) == FOLDERS
    assert await folders.resolve(STORE, "new") == FOLDERS[0]
    assert directory.calls == 1
    clock.advance(301)
    assert await folders(STORE) == FOLDERS
    assert directory.calls == 2


@pytest.mark.anyio
async def test_folders_another_replica_wrote_to_the_cache_are_the_ones_served() -> None:
    clock = FakeClock()
    cache = MemoryOrderCache(clock=clock)
    folders = ListFolders(directory=_CountingDirectory(), cache=cache, ttl=300)
    assert await folders(STORE) == FOLDERS
    renamed = [[21654, "Open"], [21655, "Prepared"], [7, "2024"]]
    await cache.set(folders_key(STORE), renamed, ttl=300)  # as another replica refreshing them would
    assert await folders(STORE) == (Folder(id=21654, name="Open"), *FOLDERS[1:])
    assert await folders(STORE) == (Folder(id=21654, name="Open"), *FOLDERS[1:])
