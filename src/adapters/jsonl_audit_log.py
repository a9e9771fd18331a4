"""JsonlAuditLog: an append-only, hash-chained JSON Lines audit log.

Each line carries ``prev_hash`` (the previous line's ``hash``, or 64 zeros for the first)
and its own ``hash``: SHA-256 of the record's canonical JSON (sorted keys) including
``prev_hash``. Editing, removing or reordering a line breaks the chain, and :func:`verify`
names the first bad line. Cutting records off the end cannot be detected from the file
alone; compare the record count with an earlier ``verify`` for that.

Appends are serialised within the process by an ``anyio.Lock`` and across processes sharing
the data directory by an exclusive ``flock`` on the file, and each append reads the current
last hash under that lock, so several server processes extend one chain. Every line is
flushed and fsynced before ``append`` returns.
"""

from __future__ import annotations

import collections
import fcntl
import hashlib
import os
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import anyio
import msgspec

from orderdesk_mcp.ports.audit import AuditRecord

__all__ = ["GENESIS", "JsonlAuditLog", "VerifyReport", "tail", "verify"]

GENESIS = "0" * 64
_encoder = msgspec.json.Encoder(order="sorted")
_CHUNK = 65_536


def _digest(entry: dict[str, Any]) -> str:
    return hashlib.sha256(_encoder.encode({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def _last_line(handle: IO[bytes]) -> bytes:
    """The last non-empty line of the file, reading backwards chunk by chunk."""
    end = handle.seek(0, os.SEEK_END)
    buffer = b""
    while end > 0:
        start = max(0, end - _CHUNK)
        handle.seek(start)
        buffer = handle.read(end - start) + buffer
        end = start
        stripped = buffer.rstrip(b"\n")
        if b"\n" in stripped:
            return stripped.rsplit(b"\n", 1)[1]
    return buffer.strip()


def _last_hash(handle: IO[bytes]) -> str:
    line = _last_line(handle)
    if not line:
        return GENESIS
    value = msgspec.json.decode(line).get("hash")
    return value if isinstance(value, str) else GENESIS


class JsonlAuditLog:
    """An :class:`~orderdesk_mcp.ports.audit.AuditLog` writing one hash-chained JSON line per record."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = anyio.Lock()

    @property
    def path(self) -> Path:
        return self._path

    async def __aenter__(self) -> JsonlAuditLog:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def append(self, record: AuditRecord) -> None:
        """Append ``record`` to the chain; returns once it is on disk."""
        async with self._lock:
            await anyio.to_thread.run_sync(self._append, record)

    def _append(self, record: AuditRecord) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released when the file closes
            entry: dict[str, Any] = msgspec.to_builtins(record) | {"prev_hash": _last_hash(handle)}
            entry["hash"] = _digest(entry)
            handle.write(_encoder.encode(entry) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())


class VerifyReport(msgspec.Struct, frozen=True, kw_only=True):
    """``records`` intact records before ``bad_line`` (1-based), or all of them when ``ok``."""

    ok: bool
    records: int
    bad_line: int | None = None
    reason: str = ""


def verify(path: Path) -> VerifyReport:
    """Check the whole chain; the report names the first line that breaks it."""
    if not path.exists():
        return VerifyReport(ok=True, records=0)
    prev, count = GENESIS, 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                entry = msgspec.json.decode(line)
            except msgspec.DecodeError:
                return VerifyReport(ok=False, records=count, bad_line=number, reason="not valid JSON")
            if not isinstance(entry, dict):
                return VerifyReport(ok=False, records=count, bad_line=number, reason="not a record")
            if entry.get("hash") != _digest(entry):
                return VerifyReport(ok=False, records=count, bad_line=number, reason="record was edited")
            if entry.get("prev_hash") != prev:
                return VerifyReport(
                    ok=False,
                    records=count,
                    bad_line=number,
                    reason="chain broken (a record was removed or reordered)",
                )
            prev, count = entry["hash"], count + 1
    return VerifyReport(ok=True, records=count)


def tail(path: Path, n: int = 20) -> list[dict[str, Any]]:
    """The last ``n`` records, oldest first (lines that are not JSON objects are skipped)."""
    if n <= 0 or not path.exists():
        return []
    with path.open("rb") as handle:
        lines = collections.deque((line for line in handle if line.strip()), maxlen=n)
    records = []
    for line in lines:
        try:
            value = msgspec.json.decode(line)
        except msgspec.DecodeError:
            continue
        if isinstance(value, dict):
            records.append(value)
    return records
