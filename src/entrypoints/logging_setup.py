"""Logging to stderr (never stdout: stdio is the MCP channel), text or JSON lines.

Every record carries the correlation id of the tool call in progress. A redaction filter
replaces any configured secret (API keys, tokens) that reaches a message, as a last line
of defence; the code never logs secrets on purpose.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from orderdesk_mcp.adapters.keyring import MASTER_KEY_ENV
from orderdesk_mcp.domain.context import current_call

if TYPE_CHECKING:
    from orderdesk_mcp.entrypoints.settings import Settings

__all__ = ["announce", "configure_logging", "install_call_context_records", "setup_logging"]

_STARTUP = "orderdesk_mcp.startup"


def install_call_context_records() -> None:
    """Give every log record the correlation id and tool of the call in progress."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_orderdesk", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        call = current_call()
        record.correlation_id = call.correlation_id if call else "-"
        record.tool = call.tool if call else "-"
        return record

    factory._orderdesk = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class _CallContextFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s and len(s) >= 6)

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            redacted = message
            for secret in self._secrets:
                redacted = redacted.replace(secret, "[REDACTED]")
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", "-"),
            "tool": getattr(record, "tool", "-"),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    """Start-up lines read as plain sentences; everything else carries time, level and call."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if record.name == _STARTUP:
            return record.getMessage()
        return super().format(record)


def announce(line: str) -> None:
    """One start-up line on stderr: the bare sentence, or a JSON record with ``ORDERDESK_LOG_FORMAT=json``.

    Shown at any log level (the start-up logger is pinned to INFO).
    """
    logger = logging.getLogger(_STARTUP)
    logger.setLevel(logging.INFO)
    logger.info("%s", line)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it), never a stale one."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(*, fmt: str = "text", level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Send every log record to stderr in ``fmt`` ("text" or "json") with call context."""
    install_call_context_records()
    handler = _StderrHandler(sys.stderr)
    handler.addFilter(_CallContextFilter(secrets))
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    # DEBUG is our own code's: libraries stay at INFO, since some log message bodies at DEBUG (the
    # SSE library writes every chunk of an answer, whole orders included). The SDK logs every
    # session-manager start at INFO, and a tool's error text; ours say what matters.
    root.setLevel("INFO" if level == "DEBUG" else level)
    logging.getLogger("orderdesk_mcp").setLevel(level)
    logging.getLogger("mcp").setLevel("WARNING")


def setup_logging(settings: Settings) -> None:
    """Logging as every command sets it up: the settings' format and level, every secret redacted."""
    secrets = (settings.api_key, settings.http_token, os.environ.get(MASTER_KEY_ENV))
    configure_logging(fmt=settings.log_format, level=settings.log_level, secrets=[s for s in secrets if s])
