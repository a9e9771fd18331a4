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

What a record keeps of the before/after values is ``values`` (``ORDERDESK_AUDIT_VALUES``),
stored in each line so every reader knows: ``full``; ``masked`` (field names kept, each value
replaced by a short keyed hash, so edits can be correlated without storing the data; the key
is derived from a random per-data-directory secret, ``audit.key``, created 0600 beside the log;
a few fields that are not personal data, like ``source_id``, keep their value); or ``none``
(field names only). Card data is redacted before a record reaches the log, whatever ``values``:
the use cases build records without it, and :func:`_without_card_data` checks every change, the
order id, the resource and the error once more as the line is written, so the values ``masked``
keeps as they are (``source_id``, ``shipping_method``...) cannot carry a card number either.
"""

from __future__ import annotations

import collections
import fcntl
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from typing import IO, Any, Literal

import anyio
import msgspec

from orderdesk_mcp.adapters._lifespan import NoOpLifespan
from orderdesk_mcp.domain.redaction import (
    NON_PERSONAL_FIELDS,
    REDACTED,
    redact_card_text,
    redact_field_change,
)
from orderdesk_mcp.ports.audit import AuditRecord

__all__ = ["GENESIS", "NO_OUTCOME", "AuditValues", "JsonlAuditLog", "VerifyReport", "tail", "verify"]

AuditValues = Literal["full", "masked", "none"]
NO_OUTCOME = "attempt with no outcome"
_KEY_CONTEXT = b"orderdesk-mcp audit values v1"

GENESIS = "0" * 64
_encoder = msgspec.json.Encoder(order="sorted")
_CHUNK = 65_536


def _digest(entry: dict[str, Any]) -> str:
    return hashlib.sha256(_encoder.encode({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def _record_hash(line: bytes) -> str | None:
    """The ``hash`` of a record line; None for a line that is not one (cut off by a crash mid-write)."""
    try:
        entry = msgspec.json.decode(line)
    except msgspec.DecodeError:
        return None
    value = entry.get("hash") if isinstance(entry, dict) else None
    return value if isinstance(value, str) else None


def _last_hash(handle: IO[bytes]) -> str:
    """The hash of the last whole record, reading backwards chunk by chunk.

    A last line that is no record (a process stopped in the middle of writing it) is passed
    over: the chain goes on from the record before it, and ``verify`` names the line. Refusing
    to append after it would stop every write until someone edited the log by hand.
    """
    start = handle.seek(0, os.SEEK_END)
    buffer = b""
    while True:
        lines = buffer.split(b"\n")
        whole = lines if start == 0 else lines[1:]  # the first may be the tail of an earlier line
        for line in reversed(whole):
            if line.strip() and (found := _record_hash(line)) is not None:
                return found
        if start == 0:
            return GENESIS
        end, start = start, max(0, start - _CHUNK)
        handle.seek(start)
        buffer = handle.read(end - start) + buffer


def _ends_cut_off(handle: IO[bytes]) -> bool:
    """Whether the file's last line has no newline: a write the process did not finish."""
    end = handle.seek(0, os.SEEK_END)
    if end == 0:
        return False
    handle.seek(end - 1)
    return handle.read(1) != b"\n"


def _mask_key(directory: Path) -> bytes:
    """The key of the masked values' hashes, derived from ``audit.key`` (created once, 0600)."""
    secret_path = directory / "audit.key"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = secret_path.read_bytes()
        for _ in range(40):  # another process created it a moment ago and is still writing it
            if len(secret) >= 32:
                break
            time.sleep(0.025)
            secret = secret_path.read_bytes()
    else:
        secret = secrets.token_bytes(32)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secret)
            handle.flush()
            os.fsync(handle.fileno())
    if len(secret) < 32:  # a file being written by another process right now
        raise OSError(f"{secret_path} is incomplete")
    return hmac.new(secret, _KEY_CONTEXT, hashlib.sha256).digest()


def _masked(key: bytes, value: Any) -> Any:
    if value is None or value == REDACTED:
        return value
    return "h:" + hmac.new(key, _encoder.encode(value), hashlib.sha256).hexdigest()[:12]


def _without_card_data(entry: dict[str, Any]) -> None:
    """Redact card data in the record's free-form parts; our own ids and hashes are left alone
    (a 16-digit hex ``attempt_id`` can pass the Luhn check, and pairs an attempt with its outcome)."""
    changes = []
    for c in entry.get("changes") or []:
        field, before, after = redact_field_change(c["field"], c.get("before"), c.get("after"))
        changes.append(c | {"field": field, "before": before, "after": after})
    entry["changes"] = changes
    for name in ("order_id", "resource", "error"):
        if isinstance(entry.get(name), str):
            entry[name] = redact_card_text(entry[name])


def _keep_values(entry: dict[str, Any], values: AuditValues, key: bytes | None) -> None:
    changes = entry.get("changes") or []
    if values == "none":
        entry["changes"] = [{"field": c["field"]} for c in changes]
    elif values == "masked":
        assert key is not None
        entry["changes"] = [
            c
            if c["field"].split(".", 1)[0] in NON_PERSONAL_FIELDS
            else c | {"before": _masked(key, c.get("before")), "after": _masked(key, c.get("after"))}
            for c in changes
        ]
    entry["values"] = values


class JsonlAuditLog(NoOpLifespan):
    """An :class:`~orderdesk_mcp.ports.audit.AuditLog` writing one hash-chained JSON line per record.

    Args:
        path: the log file.
        values: what to keep of before/after values: ``full`` (the default here; the server's
            setting defaults to ``masked``), ``masked`` or ``none``.
    """

    def __init__(self, path: Path, *, values: AuditValues = "full") -> None:
        self._path = path
        self._values: AuditValues = values
        self._key: bytes | None = None
        self._lock = anyio.Lock()

    @property
    def path(self) -> Path:
        return self._path

    async def append(self, record: AuditRecord) -> None:
        """Append ``record`` to the chain; returns once it is on disk."""
        async with self._lock:
            await anyio.to_thread.run_sync(self._append, record)

    def _append(self, record: AuditRecord) -> None:
        entry: dict[str, Any] = msgspec.to_builtins(record)
        _without_card_data(entry)  # before the lock: every writer of the log waits while it is held
        # 0700, as the credential and idempotency databases make it: whichever comes first
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released when the file closes
            if self._values == "masked" and self._key is None:
                self._key = _mask_key(self._path.parent)
            _keep_values(entry, self._values, self._key)
            entry["prev_hash"] = _last_hash(handle)
            entry["hash"] = _digest(entry)
            # A line cut off by a crash is ended first, so this record starts a line of its own.
            head = b"\n" if _ends_cut_off(handle) else b""
            handle.write(head + _encoder.encode(entry) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())


class VerifyReport(msgspec.Struct, frozen=True, kw_only=True):
    """``records`` intact records before ``bad_line`` (1-based), or all of them when ``ok``.

    ``unfinished`` lists the lines of ``attempt`` records with no outcome after them: writes
    that may or may not have reached OrderDesk (the process stopped, or one is still running).
    ``cut_off`` lists lines that begin a record but end early, a process having stopped while
    writing them: the chain goes on from the record before each (so one removed would still
    break it). A line that does not even begin like a record is reported as not valid JSON.
    """

    ok: bool
    records: int
    bad_line: int | None = None
    reason: str = ""
    unfinished: tuple[int, ...] = ()
    cut_off: tuple[int, ...] = ()


_NOT_JSON = object()


def verify(path: Path) -> VerifyReport:
    """Check the whole chain; the report names the first line that breaks it."""
    if not path.exists():
        return VerifyReport(ok=True, records=0)
    prev, count = GENESIS, 0
    open_attempts: dict[str, int] = {}
    cut_off: list[int] = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                entry = msgspec.json.decode(line)
            except msgspec.DecodeError:
                if line.startswith(b'{"'):  # a record begun and not finished
                    cut_off.append(number)  # the chain must go on from the record before it
                    continue
                entry = _NOT_JSON  # no beginning of a record: written by something else
            broken = (
                "not valid JSON" if entry is _NOT_JSON
                else "not a record" if not isinstance(entry, dict)
                else "record was edited" if entry.get("hash") != _digest(entry)
                else "chain broken (a record was removed or reordered)" if entry.get("prev_hash") != prev
                else ""
            )  # fmt: skip
            if broken:
                return VerifyReport(
                    ok=False, records=count, bad_line=number, reason=broken, cut_off=tuple(cut_off)
                )
            prev, count = entry["hash"], count + 1
            attempt = entry.get("attempt_id")
            if isinstance(attempt, str):
                if entry.get("outcome") == "attempt":
                    open_attempts[attempt] = number
                else:
                    open_attempts.pop(attempt, None)
    return VerifyReport(
        ok=True, records=count, unfinished=tuple(sorted(open_attempts.values())), cut_off=tuple(cut_off)
    )


def tail(path: Path, n: int = 20) -> list[dict[str, Any]]:
    """The last ``n`` records, oldest first (lines that are not JSON objects are skipped).

    An ``attempt`` with no outcome after it gets ``"note": "attempt with no outcome"`` (its
    outcome, when there is one, is later in the file, so always among these records).
    """
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
    finished = {r.get("attempt_id") for r in records if r.get("outcome") != "attempt"}
    for record in records:
        if record.get("outcome") == "attempt" and record.get("attempt_id") not in finished:
            record["note"] = NO_OUTCOME
    return records
