"""``python -m bench._stdio_server``: ``orderdesk-mcp serve`` over stdio plus the ``bench.noop`` floor.

Configured from the environment exactly as the real command is, logging included (a line per
tool call on stderr at the default level); only the no-op tool is added, so the stdio figures
compare our tools with a floor paid over the same pipe.
"""

from __future__ import annotations

import anyio

from bench._transports import _server
from orderdesk_mcp.entrypoints.container import Container
from orderdesk_mcp.entrypoints.logging_setup import setup_logging
from orderdesk_mcp.entrypoints.settings import load_settings


def main() -> None:
    settings = load_settings()
    setup_logging(settings)
    anyio.run(_server(Container(settings=settings)).run_stdio_async)


if __name__ == "__main__":
    main()
