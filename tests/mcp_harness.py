"""Builds the real server on the real container, with a simulator the test controls."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
from dependency_injector import providers
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.types import CallToolResult, ElicitRequestParams, ElicitResult, ErrorData

from orderdesk_mcp.adapters.simulator import SimulatorState, default_state
from orderdesk_mcp.entrypoints.container import Container
from orderdesk_mcp.entrypoints.serve import create_server
from orderdesk_mcp.entrypoints.settings import SIMULATOR_API_KEY, SIMULATOR_STORE_ID, Settings

__all__ = ["STORE", "answering", "error_text", "make_container", "mcp_client", "seeded_state"]

STORE = SIMULATOR_STORE_ID


def seeded_state(sample_count: int = 3, *, rate_limited: bool = True) -> SimulatorState:
    """The simulator the server tests start from: the built-in store and key, ``sample_count`` orders.

    ``rate_limited=False`` switches off the simulated 429s, for tests that send bursts of retries.
    """
    state = default_state(store_id=SIMULATOR_STORE_ID, api_key=SIMULATOR_API_KEY, sample_count=sample_count)
    state.faults.rate_limit_enabled = rate_limited
    return state


def make_container(tmp_path: Path, *, state: SimulatorState | None = None, **overrides: Any) -> Container:
    """A container on the simulator (or ``state``), data under ``tmp_path``, settings overridden."""
    settings = msgspec.structs.replace(Settings(data_dir=str(tmp_path)), **overrides)
    container = Container(settings=settings)
    container.simulator.override(providers.Object(state or seeded_state(25)))
    return container


@asynccontextmanager
async def mcp_client(container: Container) -> AsyncIterator[Client]:
    async with Client(create_server(container), raise_exceptions=True) as client:
        yield client


_SDK_PREFIX = re.compile(r"^Error executing tool [\w.]+: ")


def error_text(result: CallToolResult) -> str:
    """Our message, as the agent reads it after the SDK's fixed ``Error executing tool X: `` prefix.

    A crash would read only ``Error executing tool X`` (no colon): that fails here.
    """
    assert result.is_error, f"expected an error result, got {result.structured_content!r}"
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    assert _SDK_PREFIX.match(text), f"not an anticipated error: {text!r}"
    return _SDK_PREFIX.sub("", text, count=1)


def answering(result: ElicitResult | ErrorData, asked: list[str] | None = None) -> Any:
    """An elicitation callback that gives ``result`` to every question, noting each in ``asked``."""

    async def callback(
        context: ClientRequestContext, params: ElicitRequestParams
    ) -> ElicitResult | ErrorData:
        if asked is not None:
            asked.append(params.message)
        return result

    return callback
