"""JsonlAuditLog: an append-only, hash-chained JSON Lines audit log.

Each line carries ``prev_hash`` (the previous line's ``hash``, or 64 zeros) and its own
``hash``: SHA-256 of the record's canonical JSON including ``prev_hash``. Editing, removing
or reordering a line breaks the chain, and :func:`verify` names the first bad line.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
import msgspec

from ports.audit import AuditRecord

__all__ = ["GENESIS", "JsonlAuditLog", "VerifyReport", "tail", "verify"]

GENESIS = "0" * 64
_encoder = msgspec.json.Encoder(order="sorted")


def _digest(entry: dict[str, Any]) -> str:
    return hashlib.sha256(_encoder.encode({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def _last_hash(path: Path) -> str:
    if not path.exists() or path.stat().st_size == 0:
        return GENESIS
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 65536))
        lines = [line for line in handle.read().splitlines() if line.strip()]
    if not lines:
        return GENESIS
    value = msgspec.json.decode(lines[-1]).get("hash")
    return value if isinstance(value, str) else GENESIS


class JsonlAuditLog:
    """Appends are serialised in the process and flushed and fsynced before they return."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = anyio.Lock()
        self._prev: str | None = None

    async def __aenter__(self) -> JsonlAuditLog:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def append(self, record: AuditRecord) -> None:
        async with self._lock:
            await anyio.to_thread.run_sync(self._append, record)

    def _append(self, record: AuditRecord) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        if self._prev is None:
            self._prev = _last_hash(self._path)
        entry: dict[str, Any] = msgspec.to_builtins(record) | {"prev_hash": self._prev}
        entry["hash"] = _digest(entry)
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "ab") as handle:
            handle.write(_encoder.encode(entry) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._prev = entry["hash"]


class VerifyReport(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    records: int
    bad_line: int | None = None
    reason: str = ""


def verify(path: Path) -> VerifyReport:
    """Check the whole chain; the report names the first line that breaks it."""
    if not path.exists():
        return VerifyReport(ok=True, records=0)
    prev = GENESIS
    count = 0
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = msgspec.json.decode(line)
        except msgspec.DecodeError:
            return VerifyReport(ok=False, records=count, bad_line=number, reason="not valid JSON")
        if not isinstance(entry, dict) or entry.get("prev_hash") != prev:
            return VerifyReport(
                ok=False,
                records=count,
                bad_line=number,
                reason="chain broken (a record was removed or reordered)",
            )
        if entry.get("hash") != _digest(entry):
            return VerifyReport(ok=False, records=count, bad_line=number, reason="record was edited")
        prev = entry["hash"]
        count += 1
    return VerifyReport(ok=True, records=count)


def tail(path: Path, n: int = 20) -> list[dict[str, Any]]:
    """The last ``n`` records, oldest first."""
    if not path.exists():
        return []
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    return [msgspec.json.decode(line) for line in lines[-n:]] if n > 0 else []
