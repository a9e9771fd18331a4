"""SqliteIdempotencyRecords: idempotency records in a SQLite file in the data directory.

Without Redis this is what makes an ``idempotency_key`` hold across a server restart and
across several processes on one machine (stdio servers share the data directory). The
file is opened in WAL mode with a busy timeout, so concurrent processes wait for each other
instead of failing; the claim (:meth:`add`) is one ``INSERT ... ON CONFLICT DO UPDATE ...
WHERE expired`` statement, so exactly one process wins it. Expiry is measured on the clock
port's wall-clock timeline (epoch seconds), which, unlike a monotonic clock, survives a
restart. A database error raises :class:`IdempotencyUnavailable`: a record that cannot be
read must never read as "absent", or a repeat would create a second order.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
import msgspec

from orderdesk_mcp.adapters.sqlite_file import PrivateSqlite
from orderdesk_mcp.domain.errors import IdempotencyUnavailable
from orderdesk_mcp.ports.clock import Clock

__all__ = ["SqliteIdempotencyRecords"]

_SCHEMA = """
PRAGMA journal_mode = WAL;
PRAGMA busy_timeout = 10000;
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_expires ON idempotency (expires);
"""
_CLAIM = """
INSERT INTO idempotency (key, value, expires) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires
WHERE idempotency.expires <= ?
"""
_PURGE_EVERY = 500  # writes between sweeps of expired rows
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class SqliteIdempotencyRecords:
    """An :class:`~orderdesk_mcp.ports.idempotency.IdempotencyRecords` in one SQLite file."""

    def __init__(self, *, path: Path, clock: Clock) -> None:
        self._db = PrivateSqlite(path, _SCHEMA)
        self._clock = clock
        self._writes = 0
        self._opened = False
        self._opening = anyio.Lock()

    @property
    def path(self) -> Path:
        return self._db.path

    async def __aenter__(self) -> SqliteIdempotencyRecords:
        return self  # opened on first use: a read-only server never creates the file

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await anyio.to_thread.run_sync(self._db.close)

    def _open(self) -> None:
        self._db.open()
        self._db.run("DELETE FROM idempotency WHERE expires <= ?", (self._clock.time(),))

    async def _run(self, key: str, fn: Any, *args: Any) -> Any:
        try:
            if not self._opened:
                async with self._opening:
                    if not self._opened:
                        await anyio.to_thread.run_sync(self._open)
                        self._opened = True
            return await anyio.to_thread.run_sync(fn, *args)
        except (sqlite3.Error, OSError, msgspec.DecodeError) as exc:
            raise IdempotencyUnavailable(key, "its record store cannot be used right now") from exc

    async def get(self, key: str) -> Any | None:
        """The live record at ``key``, or None. Raises: IdempotencyUnavailable."""
        row = await self._run(
            key, self._db.one, "SELECT value FROM idempotency WHERE key = ? AND expires > ?",
            (key, self._clock.time()),
        )  # fmt: skip
        return None if row is None else _decode(row[0])

    async def set(self, key: str, value: Any, *, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds. Raises: IdempotencyUnavailable."""
        now = self._clock.time()
        await self._run(
            key, self._db.run, "INSERT OR REPLACE INTO idempotency (key, value, expires) VALUES (?, ?, ?)",
            (key, _encode(value), now + ttl),
        )  # fmt: skip
        await self._maybe_purge(key, now)

    async def add(self, key: str, value: Any, *, ttl: float) -> bool:
        """Claim ``key`` when absent or expired; True when this call did. Raises: IdempotencyUnavailable."""
        now = self._clock.time()
        changed = await self._run(key, self._db.run, _CLAIM, (key, _encode(value), now + ttl, now))
        await self._maybe_purge(key, now)
        return bool(changed == 1)

    async def delete(self, *keys: str) -> None:
        """Remove the records. Raises: IdempotencyUnavailable."""
        for key in keys:
            await self._run(key, self._db.run, "DELETE FROM idempotency WHERE key = ?", (key,))

    async def _maybe_purge(self, key: str, now: float) -> None:
        self._writes += 1
        if self._writes % _PURGE_EVERY == 0:
            await self._run(key, self._db.run, "DELETE FROM idempotency WHERE expires <= ?", (now,))
