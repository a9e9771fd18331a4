"""Small helpers the credential-management commands share: output, the store, reading a key, the key lock."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from orderdesk_mcp.adapters.keyring import Keyring
from orderdesk_mcp.entrypoints.paths import credentials_db, default_data_dir

if TYPE_CHECKING:  # loads cryptography: only the admin commands that open the store need it
    from orderdesk_mcp.adapters.sqlite_credentials import SqliteCredentialStore

__all__ = ["KEY_LOCK_FILE_NAME", "Handler", "key_lock", "open_store", "read_api_key", "say", "warn"]

Handler = Callable[[argparse.Namespace], int]
KEY_LOCK_FILE_NAME = "master.key.lock"


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


@contextmanager
def key_lock(directory: Path) -> Iterator[None]:
    """Hold the data directory's key lock: one key-changing or key-sealing command at a time.

    ``master.key`` is rewritten whole from memory, so two rotations that each load it, add a
    version and save would keep only the last writer's keys while both re-encrypt rows: the
    other's rows would then never decrypt. Callers load the keyring *after* taking this lock.
    An exclusive ``flock`` serialises processes (and threads, which open the file separately);
    the kernel releases it when the holder exits, however it ends. The lock file stays in place:
    deleting it would let a waiter and a newcomer lock two different files.
    """
    import fcntl  # POSIX only, like the 0600 key file this protects

    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / KEY_LOCK_FILE_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            warn("Waiting for another orderdesk-mcp key or store command on this data directory to finish...")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
