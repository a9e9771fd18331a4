"""Small helpers the credential-management commands share: output, the store, reading a key."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.entrypoints.paths import credentials_db, default_data_dir

if TYPE_CHECKING:  # loads cryptography: only the admin commands that open the store need it
    from orderdesk_mcp.adapters.sqlite_credentials import SqliteCredentialStore

__all__ = ["Handler", "open_store", "read_api_key", "say", "warn"]

Handler = Callable[[argparse.Namespace], int]


def say(text: str) -> None:
    sys.stdout.write(text + "\n")


def warn(text: str) -> None:
    sys.stderr.write(text + "\n")


def open_store(keyring: Keyring | None = None) -> SqliteCredentialStore:
    """The credential database in the data directory (opened by its context manager)."""
    directory = default_data_dir()
    from orderdesk_mcp.adapters.sqlite_credentials import SqliteCredentialStore

    return SqliteCredentialStore(path=credentials_db(directory), keyring=keyring or Keyring.load(directory))


def read_api_key(store_id: str) -> str:
    """One line from standard input, or a hidden prompt on a terminal; never from argv."""
    if sys.stdin.isatty():
        return getpass.getpass(f"OrderDesk API key for store {store_id}: ").strip()
    return sys.stdin.readline().strip()
