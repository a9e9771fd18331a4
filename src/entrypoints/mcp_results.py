"""Tool results sized for a model: compact JSON text that equals the structured content.

The SDK's default text block is the structured content pretty-printed (STYLE fact 10), so a
third of a large result is indentation. Tools return :func:`compact_result` instead, declared
as ``Annotated[CallToolResult, TheOutTypedDict]`` so the SDK still publishes the output
schema and validates ``structured_content`` against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from mcp.types import CallToolResult, TextContent

__all__ = ["compact_json", "compact_result"]

_encoder = msgspec.json.Encoder()


def compact_json(value: Any) -> str:
    """JSON without indentation or spaces after separators, non-ASCII kept as UTF-8."""
    return _encoder.encode(value).decode()


def compact_result(structured: Mapping[str, Any]) -> CallToolResult:
    """One text block holding exactly ``structured`` as compact JSON, plus the same data structured."""
    data = dict(structured)
    text = TextContent(type="text", text=compact_json(data))
    return CallToolResult(content=[text], structured_content=data)
