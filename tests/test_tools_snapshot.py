"""A snapshot of ``tools/list``: names, descriptions, schemas and annotations agents depend on.

A deliberate change regenerates it with ``UPDATE_SNAPSHOTS=1 make test`` and shows up in review.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.mcp_harness import make_container, mcp_client

pytestmark = pytest.mark.anyio

SNAPSHOT = Path(__file__).with_name("snapshots") / "tools_list.json"


async def test_tools_list_matches_the_snapshot(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        tools = (await client.list_tools()).tools
    current = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]
    text = json.dumps(sorted(current, key=lambda t: t["name"]), indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(text)
    assert text == SNAPSHOT.read_text()


async def test_every_tool_has_an_output_schema_and_explicit_annotations(tmp_path: Path) -> None:
    async with mcp_client(make_container(tmp_path)) as client:
        tools = (await client.list_tools()).tools
    for tool in tools:
        assert tool.output_schema is not None, tool.name
        assert tool.annotations is not None, tool.name
        assert tool.annotations.read_only_hint is not None, tool.name
        assert tool.description is not None, tool.name
        assert len(tool.description) > 60, tool.name
