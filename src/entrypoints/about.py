"""What this installation is: the package version, read from its metadata."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["package_version"]


def package_version() -> str:
    """The installed distribution's version (``--version``, the MCP ``serverInfo``)."""
    try:
        return version("orderdesk-mcp")
    except PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
        return "0+unknown"
