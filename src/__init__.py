"""orderdesk-mcp: an MCP server that lets AI agents read and safely change OrderDesk orders.

Installed, this directory is the ``orderdesk_mcp`` package (``src/domain`` becomes
``orderdesk_mcp.domain`` and so on; see ``[tool.setuptools]`` in ``pyproject.toml``).
"""

__version__ = "0.2.0"
