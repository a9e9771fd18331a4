"""What this installation is: the package version (``--version``, the MCP ``serverInfo``)."""

from __future__ import annotations

from orderdesk_mcp import __version__

__all__ = ["package_version"]


def package_version() -> str:
    """The version of this package; the distribution's metadata is built from the same attribute."""
    return __version__
