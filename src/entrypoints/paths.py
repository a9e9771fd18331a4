"""Where orderdesk-mcp keeps its files: the data directory.

``ORDERDESK_DATA_DIR`` wins; otherwise a per-user directory following the XDG base-directory
convention (``$XDG_DATA_HOME/orderdesk-mcp``, else ``~/.local/share/orderdesk-mcp``). The
credential database, the master key file and the audit log live there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["APP_DIR_NAME", "CREDENTIALS_DB_NAME", "credentials_db", "data_dir_from", "default_data_dir"]

APP_DIR_NAME = "orderdesk-mcp"
CREDENTIALS_DB_NAME = "credentials.sqlite3"


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The data directory for ``env`` (default ``os.environ``); nothing is created."""
    source = os.environ if env is None else env
    explicit = source.get("ORDERDESK_DATA_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = source.get("XDG_DATA_HOME", "").strip()
    # XDG says relative values are invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / APP_DIR_NAME


def data_dir_from(value: str | None) -> Path:
    """``value`` (a configured directory) when given, else :func:`default_data_dir`."""
    if value is not None and value.strip():
        return Path(value.strip()).expanduser()
    return default_data_dir()


def credentials_db(data_dir: Path) -> Path:
    """The encrypted credential database in ``data_dir``."""
    return data_dir / CREDENTIALS_DB_NAME
