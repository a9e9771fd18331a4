"""A private SQLite file: created with mode 0600 (directory 0700), one connection behind a lock.

The connection is shared by the CLI's synchronous calls and the worker threads that serve
the async port methods, so every statement runs under one lock. A file that is not a SQLite
database, or a damaged one, raises :class:`DatabaseDamaged` naming the file and what to do,
so the CLI ends with one line instead of sqlite3's traceback.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orderdesk_mcp.domain.errors import OrderDeskError

__all__ = ["DatabaseDamaged", "PrivateSqlite"]

Row = tuple[Any, ...]
_DAMAGED = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}  # random bytes, a cut-off or overwritten file
_ADVICE = "restore it from a backup, or move it aside to start an empty one"


class DatabaseDamaged(OrderDeskError):
    """The file is not a SQLite database or is damaged: sqlite's reason, the file and the fix."""

    def __init__(self, path: Path, reason: str, advice: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path} is not a readable SQLite database ({reason}); {advice}")


@contextmanager
def _damage_named(path: Path, advice: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if exc.sqlite_errorcode & 0xFF not in _DAMAGED:  # locked, full, constraint...: not damage
            raise
        raise DatabaseDamaged(path, str(exc), advice) from exc


class PrivateSqlite:
    """One SQLite database file that only its owner can read.

    Args:
        path: the database file.
        schema: statements run on every open (``CREATE TABLE IF NOT EXISTS ...``).
        advice: what to do when the file is damaged (the end of :class:`DatabaseDamaged`'s message).
    """

    def __init__(self, path: Path, schema: str, *, advice: str = _ADVICE) -> None:
        self.path = path
        self._schema = schema
        self._advice = advice
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    def open(self) -> None:
        if self._conn is not None:
            return
        if not self.path.exists():
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            with _damage_named(self.path, self._advice):
                conn.execute("PRAGMA secure_delete = ON")  # replaced ciphertexts do not linger in free pages
                conn.executescript(self._schema)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"{self.path} is not open; use the store as a context manager")
        return self._conn

    def rows(self, sql: str, args: Sequence[object] = ()) -> list[Row]:
        with self._lock, _damage_named(self.path, self._advice):
            return [tuple(r) for r in self._db().execute(sql, args).fetchall()]

    def one(self, sql: str, args: Sequence[object] = ()) -> Row | None:
        found = self.rows(sql, args)
        return found[0] if found else None

    def run(self, sql: str, args: Sequence[object] = ()) -> int:
        """Execute one statement; returns the number of rows it changed."""
        with self._lock, _damage_named(self.path, self._advice):
            return self._db().execute(sql, args).rowcount

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all (other callers wait)."""
        with self._lock, _damage_named(self.path, self._advice):
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
