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


def compact_result(structured: Mapping[str, Any], *, text: str | None = None) -> CallToolResult:
    """One text block holding exactly ``structured`` as compact JSON, plus the same data structured.

    ``text`` is that JSON when the caller already has it (``get_result`` measured it for the budget).

    Built with the models' own validation: with mcp 2.x it checks the content block and takes
    ``structured_content`` as a plain dict without walking its values, and costs a third of
    ``model_construct``, which sets every field and default in Python (1.0 against 3.0 µs for
    the result, 1.3 against 4.1 µs for the text block). The SDK still validates the structured
    content against the tool's output schema.
    """
    data = dict(structured)
    block = TextContent(type="text", text=compact_json(data) if text is None else text)
    return CallToolResult(content=[block], structured_content=data)
