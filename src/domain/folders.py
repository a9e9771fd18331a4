"""Folders: where OrderDesk keeps each order, and how an agent's folder name or id is resolved.

OrderDesk's store settings map folder ids to names; orders carry ``folder_id``. Agents name
folders the way people do ("prepared"), so names match case-insensitively (and ignoring
surrounding blanks); a folder id, as a number or a digit string, matches by id.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from orderdesk_mcp.domain.errors import UnknownFolder

__all__ = ["Folder", "folder_name_of", "resolve_folder"]


class Folder(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str


def resolve_folder(folders: Iterable[Folder], wanted: str | int) -> Folder:
    """Return the folder ``wanted`` names: an id (int or digit string) or a name, any case.

    A digit string is tried as an id first, then as a name (a folder may be called "2024").

    Raises:
        UnknownFolder: nothing matches; the message lists every folder of the store.
    """
    known = tuple(folders)
    text = str(wanted).strip()
    if text.isascii() and text.isdigit():
        for folder in known:
            if folder.id == int(text):
                return folder
    folded = text.casefold()
    for folder in known:
        if folder.name.strip().casefold() == folded:
            return folder
    raise UnknownFolder(text, [f"{f.name} (id {f.id})" for f in known])


def folder_name_of(folders: Iterable[Folder], folder_id: int | None) -> str | None:
    """The name of the folder with ``folder_id``, or None when unknown."""
    for folder in folders:
        if folder.id == folder_id:
            return folder.name
    return None
